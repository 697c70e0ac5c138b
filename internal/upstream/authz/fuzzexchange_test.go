package authz_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

var fuzzVersions = []string{"", mcpwire.Version20250326, mcpwire.Version20250618, mcpwire.Version20260728}

// newExchange reads, in order: a flags byte (version, GET, batch, no
// principal, a header fault), the scopes, the number of messages and
// each message; the upstream reads the rest when it answers.
func newExchange(g *gen) *exchange {
	b0 := g.byte()
	x := &exchange{headers: http.Header{}, spelled: spellings{}, clean: true, version: fuzzVersions[b0&3]}
	x.get, x.anon = (b0>>2)&7 == 7, b0&0x40 != 0
	scopes := g.byte()
	for i, s := range []string{"t:admin", "t:delete", "r:secret", "p:secret"} {
		if scopes&(1<<i) != 0 && !x.anon {
			x.scopes = append(x.scopes, s)
		}
	}
	if x.version != "" {
		x.headers.Set(mcpwire.HeaderProtocolVersion, x.version)
	}
	x.upstream = &scriptedUpstream{g: g, x: x}
	if x.get {
		x.headers.Set(mcpwire.HeaderLastEventID, "1")
		return x
	}
	n := 1 + g.n(3)
	batch := n > 1 || b0&0x20 != 0
	var msgs []string
	seen := map[mcpwire.Key]bool{}
	for i := range n {
		msg, method, name, id := x.message(g, i)
		if k, ok := mcpwire.KeyOf(json.RawMessage(id)); ok && method != "" {
			x.clean = x.clean && !seen[k]
			seen[k] = true
		}
		msgs = append(msgs, msg)
		if !batch && mcpwire.Sessionless(x.version) {
			if method != "" {
				x.headers.Set(mcpwire.HeaderMethod, method)
			}
			if name != "" {
				x.headers.Set(mcpwire.HeaderName, name)
			}
		}
	}
	x.body = msgs[0]
	if batch {
		x.body = "[" + strings.Join(msgs, ",") + "]"
		x.clean = x.clean && mcpwire.BatchAllowed(x.version)
	}
	if b0&0x80 != 0 && b0&0x10 != 0 { // a header fault
		x.headers.Set(mcpwire.HeaderName, "echo")
		x.clean = false
	}
	return x
}

// message writes message i; it returns its JSON, its method ("" for a
// response), the Mcp-Name it implies and its id ("" for none).
func (x *exchange) message(g *gen, i int) (msg, method, name, id string) {
	idb := g.byte()
	id = idForms[int(idb)%len(idForms)](i + 1)
	if idb&0x80 != 0 {
		id = idForms[int(idb)%len(idForms)](1)
	}
	t := g.n(16)
	esc := g.byte()
	target := func(kind string) string {
		s, c, clean := g.spell(kind)
		x.targets, x.clean = append(x.targets, c), x.clean && clean
		return s
	}
	var params string
	switch t {
	case 0, 14:
		method, name = "tools/call", target("tool")
		params = `{"name":` + jsonString(name, esc) + `,"arguments":{}}`
	case 1:
		method, name = "prompts/get", target("prompt")
		params = `{"name":` + jsonString(name, esc) + `}`
	case 2:
		method, name = "resources/read", target("resource")
		params = `{"uri":` + jsonString(name, esc) + `}`
	case 3:
		method = "resources/subscribe"
		meta := g.n(2) == 0
		var uri string
		if mcpwire.Sessionless(x.version) && meta {
			uri, _, _ = g.spell("resource") // not governed: the upstream answers
		} else {
			uri = target("resource")
		}
		params = `{"uri":` + jsonString(uri, esc)
		if meta {
			params += `,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}`
		}
		params += "}"
	case 4:
		method = "resources/unsubscribe"
		uri, _, _ := g.spell("resource")
		params = `{"uri":` + jsonString(uri, esc) + `}`
	case 5:
		method = "completion/complete"
		params = `{"ref":{"type":"ref/prompt","name":` + jsonString(target("prompt"), esc) + `},"argument":{"name":"a","value":""}}`
	case 6:
		method = "completion/complete"
		params = `{"ref":{"type":"ref/resource","uri":` + jsonString(target("template"), esc) + `},"argument":{"name":"x","value":""}}`
	case 7:
		method = "subscriptions/listen"
		var uris []string
		for range g.n(3) {
			uris = append(uris, jsonString(target("resource"), esc))
		}
		params = `{"notifications":{"toolsListChanged":true,"resourceSubscriptions":[` + strings.Join(uris, ",") + `]}}`
	case 8, 9, 10, 11:
		method = []string{"tools/list", "resources/list", "resources/templates/list", "prompts/list"}[t-8]
	case 12:
		method = "ping"
	case 13:
		method, params = "x/unknown", `{"name":1,"Name":"admin.reset","uri":null}`
	case 15:
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{}}`, id), "", "", ""
	}
	msg = `{"jsonrpc":"2.0","method":"` + method + `"`
	if t != 14 {
		msg += `,"id":` + id
		list := ""
		if t >= 8 && t <= 11 {
			list = method
		}
		x.reqs = append(x.reqs, reqInfo{id: id, list: list})
	} else {
		id = ""
	}
	if params != "" {
		msg += `,"params":` + params
	}
	if method != "tools/call" && method != "prompts/get" && method != "resources/read" {
		name = ""
	}
	return msg + "}", method, name, id
}

// scriptedUpstream answers as the fuzz bytes say: each request answered
// or not, ids respelled, lists with entries in any spelling (some
// forbidden, some malformed), unsolicited and malformed messages, as JSON
// or as an event stream with mixed line ends written in random chunks,
// possibly ending inside an event.
type scriptedUpstream struct {
	g       *gen
	x       *exchange
	reached bool
}

func (u *scriptedUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		u.reached = true
		_, _ = io.ReadAll(r.Body)
	}
	g, mode := u.g, u.g.byte()
	var msgs []string
	for _, rq := range u.x.reqs {
		if g.n(8) == 7 {
			continue // unanswered
		}
		id := rq.id
		if b := g.byte(); b&7 == 7 {
			id = pick(g, idForms)(1 + int(b>>3)%3)
		}
		if rq.list == "" {
			msgs = append(msgs, fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{}}`, id))
			continue
		}
		msgs = append(msgs, u.listResponse(id, rq.list))
	}
	if u.x.get || mode&2 != 0 { // a replay, or an answer to no request of the POST
		msgs = append(msgs, u.listResponse(pick(g, []string{`"old"`, "9", `"1"`, "1"}), pick(g, []string{"tools/list", "resources/list", "resources/templates/list", "prompts/list"})))
	}
	if mode&4 != 0 {
		msgs = append(msgs, `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"admin.reset"}}`)
	}
	if mode&8 != 0 {
		msgs = append(msgs, `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"admin.reset"}]`)
		u.x.spelled.add(canon{"tool", "admin.reset"}, "admin.reset")
	}
	if mode&16 != 0 {
		msgs = append(msgs, `{"jsonrpc":"2.0","id":1,"result":{"tools":[]},"Result":{"tools":[{"name":"admin.reset"}]}}`)
		u.x.spelled.add(canon{"tool", "admin.reset"}, "admin.reset")
	}
	if mode&1 == 0 && !u.x.get {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case len(msgs) == 0:
			w.WriteHeader(http.StatusAccepted)
		case len(msgs) == 1 && mode&32 == 0:
			u.write(w, []byte(msgs[0]))
		default:
			u.write(w, []byte("["+strings.Join(msgs, ",")+"]"))
		}
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	var b bytes.Buffer
	for _, m := range msgs {
		eol := pick(g, []string{"\n", "\r\n", "\r"})
		f := g.byte()
		if f&1 != 0 {
			b.WriteString("event: message" + eol)
		}
		if f&2 != 0 {
			b.WriteString(": comment" + eol + "id: 7" + eol + "data:" + eol + eol) // a priming event
		}
		if f&4 != 0 && strings.HasPrefix(m, "{") { // two data lines
			m = "{" + eol + "data: " + m[1:]
		}
		b.WriteString("data: " + m + eol + eol)
	}
	if mode&64 != 0 { // an event cut by the end of the stream
		b.WriteString("data: " + u.listResponse("1", "tools/list"))
	}
	u.write(w, b.Bytes())
}

// listResponse answers a list request with entries of its kind.
func (u *scriptedUpstream) listResponse(id, method string) string {
	g := u.g
	field, key := listFields[method][0], listFields[method][1]
	kind := map[string]string{"tools/list": "tool", "prompts/list": "prompt", "resources/list": "resource", "resources/templates/list": "template"}[method]
	var entries []string
	for range g.n(5) {
		name, c, _ := g.spell(kind)
		u.x.spelled.add(c, name)
		esc := g.byte()
		entry := fmt.Sprintf(`{%q:%s}`, key, jsonString(name, esc))
		if esc&0x20 != 0 { // a case-variant duplicate a lenient client may read
			other, oc, _ := g.spell(kind)
			u.x.spelled.add(oc, other)
			entry = fmt.Sprintf(`{%q:%s,%q:%s}`, key, jsonString(name, 0), strings.ToUpper(key[:1])+key[1:], jsonString(other, 0))
		}
		entries = append(entries, entry)
	}
	list := "[" + strings.Join(entries, ",") + "]"
	switch g.n(16) {
	case 14:
		list = "5"
	case 15:
		field = strings.ToUpper(field)
	}
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{%q:%s,"cacheScope":"public"}}`, id, field, list)
}

// write sends p in chunks of random sizes.
func (u *scriptedUpstream) write(w http.ResponseWriter, p []byte) {
	for len(p) > 0 {
		n := min(1+u.g.n(64), len(p))
		_, _ = w.Write(p[:n])
		p = p[n:]
	}
}

// sseDataSpec is the data of every event as the SSE grammar reads it.
func sseDataSpec(stream []byte) [][]byte {
	var out [][]byte
	r := mcpwire.NewReader(bytes.NewReader(stream), 0)
	for {
		ev, err := r.Next()
		if err != nil {
			return out
		}
		if ev.HasData {
			out = append(out, ev.Data)
		}
	}
}

// sseDataGoSDK is the data of every event as the go-sdk v1.8.0 client
// reads it: lines end at LF only, values are trimmed, and an event cut by
// the end of the stream is dispatched too.
func sseDataGoSDK(stream []byte) [][]byte {
	var out [][]byte
	var data []string
	has := false
	dispatch := func() {
		if has {
			out = append(out, []byte(strings.Join(data, "\n")))
		}
		data, has = nil, false
	}
	for _, line := range strings.Split(string(stream), "\n") {
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			dispatch()
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok && k == "data" {
			data, has = append(data, strings.TrimSpace(v)), true
		}
	}
	dispatch()
	return out
}

// entry is a listed name as a lenient client may read it.
type entry struct{ kind, name string }

// lenientEntries returns every list entry name a lenient client could
// read from a message: members matched case-insensitively (as Go's
// encoding/json matches struct fields), duplicates included.
func lenientEntries(raw []byte) []entry {
	var out []entry
	for _, res := range membersFold(raw, "result") {
		for method, f := range listFields {
			kind := map[string]string{"tools/list": "tool", "prompts/list": "prompt"}[method]
			if kind == "" {
				kind = "resource"
			}
			for _, list := range membersFold(res, f[0]) {
				var items []json.RawMessage
				if json.Unmarshal(list, &items) != nil {
					continue
				}
				for _, it := range items {
					for _, v := range membersFold(it, f[1]) {
						if s, ok := mcpwire.String(v); ok {
							out = append(out, entry{kind, s})
						}
					}
				}
			}
		}
	}
	return out
}

// membersFold returns the values of every member of the object raw whose
// name equals key under case folding, duplicates included.
func membersFold(raw []byte, key string) []json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var out []json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return out
		}
		if k, _ := tok.(string); strings.EqualFold(k, key) {
			out = append(out, v)
		}
	}
	return out
}
