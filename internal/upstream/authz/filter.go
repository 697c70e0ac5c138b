package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

// errUnauthorizable is an upstream answer the filter cannot vouch for; it
// is never forwarded. errNotJSONRPC, one of its causes, is data that does
// not parse as JSON-RPC at all.
var (
	errUnauthorizable = errors.New("upstream response could not be authorized")
	errNotJSONRPC     = fmt.Errorf("%w: not JSON-RPC", errUnauthorizable)
)

// request is what the filter knows of one request of a POST.
type request struct {
	id json.RawMessage
	// list is the request's list kind when its result is filtered.
	list *listKind
	// private: mark the result cacheScope "private" (2026-07-28).
	private bool
}

// answerFilter checks and filters an upstream's answer to one HTTP request:
// a JSON body or the data of one server-sent event at a time.
type answerFilter struct {
	// allowed reports whether the caller may use the named entry.
	allowed func(k kind, name string) bool
	// requests holds a POST's requests by id key; nil means a GET stream,
	// filtered by shape: every response whose result has the list member
	// of a kind in shape is filtered (the only responses on a GET stream
	// are replays of earlier POSTs' answers, MCP 2025-11-25
	// "Resumability and Redelivery").
	requests map[mcpwire.Key]*request
	shape    []listKind
	// answered records the keys of the requests answered so far.
	answered map[mcpwire.Key]bool
}

// filter checks data, one JSON-RPC message or a batch; out is data with
// list results filtered (changed is false, and out is data, when nothing
// was rewritten). Blank data (an SSE priming event) passes. On a POST
// every response must answer one of its requests (by [mcpwire.KeyOf], so
// 1, 1.0 and 1e0 are one id), or be an error response with a null id; a
// list request's result must be an object holding the list as an array.
// Data that does not parse strictly ([mcpwire.ParseBody]: duplicate or
// case-folded members are refused, since lenient peers would read one of
// them) is refused. Server requests and notifications pass.
func (a *answerFilter) filter(data []byte) (out []byte, changed bool, err error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return data, false, nil
	}
	body, perr := mcpwire.ParseBody(data)
	if perr != nil {
		return nil, false, fmt.Errorf("%w: %s", errNotJSONRPC, perr.Message)
	}
	raws := make([][]byte, len(body.Messages))
	var answered []mcpwire.Key
	for i := range body.Messages {
		m := &body.Messages[i]
		raws[i] = m.Raw
		if !m.IsResponse() {
			continue
		}
		o, ok, err := a.response(m)
		if err != nil {
			return nil, false, err
		}
		if ok {
			raws[i], changed = o, true
		}
		if k, ok := m.Key(); ok {
			answered = append(answered, k)
		}
	}
	for _, k := range answered { // only once the whole data is forwarded
		if a.answered != nil {
			a.answered[k] = true
		}
	}
	if !changed {
		return data, false, nil
	}
	if !body.Batch {
		return raws[0], true, nil
	}
	return append(append([]byte{'['}, bytes.Join(raws, []byte{','})...), ']'), true, nil
}

// response checks one response and filters its result. A response to a
// request of the POST is forwarded with the id spelled as the request
// spelled it, so that a client matches it to that request only (a client
// may tell 1.0 from 1, or two large numbers that are one double, apart).
func (a *answerFilter) response(m *mcpwire.Message) ([]byte, bool, error) {
	key, hasID := m.Key()
	if a.requests == nil { // GET: by shape
		if m.Result == nil {
			return nil, false, nil
		}
		return a.rewrite(m, nil, a.shape, false, false)
	}
	if !hasID { // an error response with a null id answers no request
		return nil, false, nil
	}
	req, ok := a.requests[key]
	if !ok {
		return nil, false, fmt.Errorf("%w: a response with id %s answers no request of this POST", errUnauthorizable, m.ID)
	}
	var id json.RawMessage
	if !bytes.Equal(m.ID, req.id) {
		id = req.id
	}
	var kinds []listKind
	if req.list != nil {
		kinds = []listKind{*req.list}
	}
	if m.Result == nil || kinds == nil && !req.private {
		return a.rewrite(m, id, nil, false, false)
	}
	return a.rewrite(m, id, kinds, true, req.private)
}

// rewrite re-encodes m when its id is replaced (id != nil) or its result
// changes: the lists of kinds filtered (required: the result must be an
// object holding every kind's list, as a list request's answer must), and
// with private cacheScope set to "private" on a complete result.
func (a *answerFilter) rewrite(m *mcpwire.Message, id json.RawMessage, kinds []listKind, required, private bool) ([]byte, bool, error) {
	result, changed, err := a.result(m.Result, kinds, required, private)
	if err != nil || !changed && id == nil {
		return nil, false, err
	}
	msg, err := mcpwire.Object(m.Raw)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", errUnauthorizable, err)
	}
	if id != nil {
		msg["id"] = id
	}
	if changed {
		msg["result"] = result
	}
	out, err := mcpwire.Marshal(msg)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", errUnauthorizable, err)
	}
	return out, true, nil
}

// result filters a result (see rewrite); changed is false when it stays.
func (a *answerFilter) result(raw json.RawMessage, kinds []listKind, required, private bool) (json.RawMessage, bool, error) {
	if kinds == nil && !private {
		return raw, false, nil
	}
	known := []string{"cacheScope", "resultType"}
	for _, k := range kinds {
		known = append(known, k.field)
	}
	res, err := mcpwire.Object(raw, known...)
	if err != nil {
		if !required && !errors.Is(err, mcpwire.ErrDuplicateMember) && bytes.TrimSpace(raw)[0] != '{' {
			return raw, false, nil // by shape: a result that is no object holds no list
		}
		return nil, false, fmt.Errorf("%w: result: %v", errUnauthorizable, err)
	}
	changed := false
	for _, k := range kinds {
		list, ok := res[k.field]
		if !ok {
			if required {
				return nil, false, fmt.Errorf("%w: the %s result has no %q array", errUnauthorizable, k.method, k.field)
			}
			continue
		}
		kept, dropped, err := a.filterList(list, k)
		if err != nil {
			return nil, false, err
		}
		if dropped {
			res[k.field], changed = kept, true
		}
	}
	if private && isComplete(res["resultType"]) {
		if s, _ := mcpwire.String(res["cacheScope"]); s != "private" {
			res["cacheScope"], changed = json.RawMessage(`"private"`), true
		}
	}
	if !changed {
		return raw, false, nil
	}
	out, err := mcpwire.Marshal(res)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", errUnauthorizable, err)
	}
	return out, true, nil
}

// filterList keeps the entries of list the caller may use. Entries that
// are not objects, have duplicate or case-folded members, or whose key
// member is not a string cannot be authorized and are dropped; a list that
// is not an array refuses the whole answer.
func (a *answerFilter) filterList(list json.RawMessage, k listKind) (json.RawMessage, bool, error) {
	entries, ok := array(list)
	if !ok {
		return nil, false, fmt.Errorf("%w: %q is not an array", errUnauthorizable, k.field)
	}
	kept := make([]json.RawMessage, 0, len(entries))
	for _, e := range entries {
		obj, err := mcpwire.Object(e, k.key)
		if err != nil {
			continue
		}
		if name, ok := mcpwire.String(obj[k.key]); ok && a.allowed(k.kind, name) {
			kept = append(kept, e)
		}
	}
	if len(kept) == len(entries) {
		return list, false, nil
	}
	out, err := mcpwire.Marshal(kept)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", errUnauthorizable, err)
	}
	return out, true, nil
}

// isComplete reports a result that carries caching hints: resultType
// absent or "complete" (MCP 2026-07-28 "Caching": interim
// "input_required" results carry none).
func isComplete(raw json.RawMessage) bool {
	if raw == nil {
		return true
	}
	s, ok := mcpwire.String(raw)
	return ok && s == "complete"
}

// unanswered returns the ids of the POST's requests not answered yet, in
// body order.
func (a *answerFilter) unanswered(order []mcpwire.Key) []json.RawMessage {
	var ids []json.RawMessage
	for _, k := range order {
		if !a.answered[k] {
			ids = append(ids, a.requests[k].id)
		}
	}
	return ids
}
