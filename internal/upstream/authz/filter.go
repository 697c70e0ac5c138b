package authz

import (
	"encoding/json"
)

// lister filters list results (MCP server features: tools/list,
// resources/list, resources/templates/list, prompts/list) for one caller.
type lister struct {
	// allowed reports whether the caller may use the named entry.
	allowed func(k kind, name string) bool
	// byID maps the id keys of the list requests of a POST to their kind;
	// nil means "by shape": every response whose result has a list field of
	// a kind in shape is filtered (GET streams, where the only responses
	// are replays of earlier POSTs, MCP 2025-11-25 "Resumability").
	byID  map[string]listKind
	shape []listKind
}

// filter rewrites data, one JSON-RPC message or a batch, if it holds a
// response to filter; changed is false (and data returned as is) otherwise.
// Entries that are not objects, or whose key member is not a string (it
// then counts as ""), are treated like entries of that name.
func (l *lister) filter(data []byte) (out []byte, changed bool) {
	switch firstByte(data) {
	case '{':
		return l.filterOne(data)
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(data, &items) != nil {
			return data, false
		}
		for i, it := range items {
			if o, ok := l.filterOne(it); ok {
				items[i], changed = o, true
			}
		}
		if !changed {
			return data, false
		}
		if out, err := marshal(items); err == nil {
			return out, true
		}
	}
	return data, false
}

func (l *lister) filterOne(raw []byte) ([]byte, bool) {
	var msg map[string]json.RawMessage
	if json.Unmarshal(raw, &msg) != nil {
		return raw, false
	}
	result, ok := msg["result"]
	if _, isRequest := msg["method"]; !ok || isRequest {
		return raw, false
	}
	kinds := l.shape
	if l.byID != nil {
		key, ok := idKey(msg["id"])
		k, listed := l.byID[key]
		if !ok || !listed {
			return raw, false
		}
		kinds = []listKind{k}
	}
	var res map[string]json.RawMessage
	if json.Unmarshal(result, &res) != nil {
		return raw, false
	}
	changed := false
	for _, k := range kinds {
		list, ok := res[k.field]
		var entries []json.RawMessage
		if !ok || json.Unmarshal(list, &entries) != nil {
			continue
		}
		kept := make([]json.RawMessage, 0, len(entries))
		for _, e := range entries {
			if l.allowed(k.kind, entryName(e, k.key)) {
				kept = append(kept, e)
			}
		}
		if len(kept) == len(entries) {
			continue
		}
		b, err := marshal(kept)
		if err != nil {
			b = []byte("[]") // fail closed
		}
		res[k.field], changed = b, true
	}
	if !changed {
		return raw, false
	}
	b, err := marshal(res)
	if err != nil {
		return raw, false
	}
	msg["result"] = b
	out, err := marshal(msg)
	if err != nil {
		return raw, false
	}
	return out, true
}

func entryName(e json.RawMessage, key string) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(e, &obj) != nil {
		return ""
	}
	s, _ := rawString(obj[key])
	return s
}
