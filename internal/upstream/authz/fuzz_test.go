package authz_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/authz"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// fuzzPolicy is what FuzzAuthzInvariant's middleware enforces; oracleNeeds
// says the same in plain code on canonical names. One pattern is written
// in a non-normal spelling on purpose.
var fuzzPolicy = authz.Policy{
	Tools:     map[string][]string{"admin.*": {"t:admin"}, "*.delete": {"t:delete", "t:admin"}},
	Resources: map[string][]string{"file:///secret/*": {"r:secret"}, "HTTPS://Example.COM:443/secret/*": {"r:secret"}},
	Prompts:   map[string][]string{"secret_*": {"p:secret"}},
}

// oracleNeeds is the policy oracle: the scopes a canonical name needs.
func oracleNeeds(c canon) []string {
	switch c.kind {
	case "tool":
		var s []string
		if strings.HasPrefix(c.name, "admin.") {
			s = append(s, "t:admin")
		}
		if strings.HasSuffix(c.name, ".delete") {
			s = append(s, "t:delete", "t:admin")
		}
		return s
	case "prompt":
		if strings.HasPrefix(c.name, "secret_") {
			return []string{"p:secret"}
		}
	case "resource":
		if strings.HasPrefix(c.name, "file:///secret/") || strings.HasPrefix(c.name, "https://example.com/secret/") {
			return []string{"r:secret"}
		}
	}
	return nil
}

// oracleAllows reports whether scopes (nil: no principal) hold every scope
// c needs.
func oracleAllows(scopes []string, c canon) bool {
	for _, s := range oracleNeeds(c) {
		if !slices.Contains(scopes, s) {
			return false
		}
	}
	return true
}

// exchange is one generated request and what the oracle knows of it.
type exchange struct {
	get      bool
	version  string
	headers  http.Header
	body     string
	scopes   []string // granted; nil without a principal
	anon     bool     // no principal
	targets  []canon  // what the body's governed messages use
	clean    bool     // canonical spellings, right headers, nothing malformed
	reqs     []reqInfo
	spelled  spellings
	upstream *scriptedUpstream
}

// reqInfo is one request of the body: its id and whether it lists.
type reqInfo struct {
	id   string
	list string // list method, or ""
}

// FuzzAuthzInvariant feeds generated JSON-RPC exchanges through call.Read
// and the authz middleware to a scripted upstream and checks the
// package's invariant against an independent oracle (oracleNeeds on the
// canonical names the generator spelled):
//
//   - a request whose governed operations the oracle denies never reaches
//     the upstream (and a clean, allowed one does);
//   - every list entry the client receives is allowed, however any client
//     reads the answer (the SSE grammar, or the go-sdk client's LF-only,
//     trimming, case-insensitive reading);
//   - nothing unparsable arrives where a list may be read, and every
//     answer to a list request holds its list as an array.
func FuzzAuthzInvariant(f *testing.F) {
	for _, seed := range fuzzSeeds {
		f.Add(seed)
	}
	m, err := authz.New(fuzzPolicy, authz.Options{RequiredScopes: []string{"mcp"}, MaxResponseBytes: 4096})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &gen{b: data}
		x := newExchange(g)
		r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(x.body))
		if x.get {
			r = httptest.NewRequest(http.MethodGet, "/mcp", nil)
		}
		r.Header = x.headers
		if !x.anon {
			p := &authn.Principal{Subject: "s", Scopes: append([]string{"mcp"}, x.scopes...), Expiry: time.Now().Add(time.Hour)}
			r = r.WithContext(bearer.WithToken(r.Context(), p))
		}
		w := httptest.NewRecorder()
		call.Read(0, m.Wrap(x.upstream)).ServeHTTP(w, r)
		x.check(t, w)
	})
}

// check asserts the invariant on what the client received.
func (x *exchange) check(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	allowed := true
	for _, c := range x.targets {
		allowed = allowed && oracleAllows(x.scopes, c)
	}
	if x.upstream.reached && !x.get && !allowed {
		t.Fatalf("a denied request reached the upstream: %s (scopes %q)", x.body, x.scopes)
	}
	if x.clean && allowed && !x.get && !x.upstream.reached {
		t.Fatalf("a clean allowed request was refused (%d %s): %s (scopes %q)", w.Code, w.Body, x.body, x.scopes)
	}
	out := w.Body.Bytes()
	if strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream") {
		for _, data := range append(sseDataSpec(out), sseDataGoSDK(out)...) {
			x.checkData(t, data)
		}
		return
	}
	if w.Code >= 200 && w.Code < 300 {
		x.checkData(t, out)
	}
}

// checkData checks one JSON body or event data as clients read it.
func (x *exchange) checkData(t *testing.T, data []byte) {
	t.Helper()
	if len(strings.TrimSpace(string(data))) == 0 {
		return
	}
	body, perr := mcpwire.ParseBody(data)
	if perr != nil {
		t.Fatalf("unparsable data reached the client: %q (%s)", data, perr.Message)
	}
	for _, m := range body.Messages {
		if x.answersNonList(&m) {
			continue // the client reads it as that request's result, not as a list
		}
		for _, e := range lenientEntries(m.Raw) {
			c, ok := x.spelled.lookup(e.kind, e.name)
			if !ok {
				t.Fatalf("the client got an entry the upstream never wrote: %s %q in %s", e.kind, e.name, m.Raw)
			}
			if !oracleAllows(x.scopes, c) {
				t.Fatalf("the client got a forbidden %s %q (= %q) with scopes %q: %s", e.kind, e.name, c.name, x.scopes, m.Raw)
			}
		}
		if !m.IsResponse() || m.Result == nil {
			continue
		}
		k, _ := m.Key()
		for _, r := range x.reqs {
			if rk, _ := mcpwire.KeyOf([]byte(r.id)); r.list != "" && rk == k && !holdsList(m.Result, r.list) {
				t.Fatalf("the answer to %s %s holds no list: %s", r.list, r.id, m.Raw)
			}
		}
	}
}

// answersNonList reports a response to a request of the POST that lists
// nothing: clients match responses by id, and a client has one request
// per id in flight.
func (x *exchange) answersNonList(m *mcpwire.Message) bool {
	k, ok := m.Key()
	if !ok || !m.IsResponse() || x.get {
		return false
	}
	for _, r := range x.reqs {
		if rk, _ := mcpwire.KeyOf([]byte(r.id)); rk == k && r.list == "" {
			return true
		}
	}
	return false
}

// lookup finds what a received entry name denotes.
func (s spellings) lookup(kind, name string) (canon, bool) {
	for c, set := range s {
		if c.kind == kind && set[name] {
			return c, true
		}
	}
	return canon{}, false
}

func (s spellings) add(c canon, spelled string) {
	if s[c] == nil {
		s[c] = map[string]bool{}
	}
	s[c][spelled] = true
}

// listFields are the list members of results and their entries' keys.
var listFields = map[string][2]string{
	"tools/list": {"tools", "name"}, "prompts/list": {"prompts", "name"},
	"resources/list": {"resources", "uri"}, "resources/templates/list": {"resourceTemplates", "uriTemplate"},
}

func holdsList(result []byte, method string) bool {
	res, err := mcpwire.Object(result)
	if err != nil {
		return false
	}
	list := strings.TrimSpace(string(res[listFields[method][0]]))
	return strings.HasPrefix(list, "[")
}
