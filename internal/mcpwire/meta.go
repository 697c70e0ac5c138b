package mcpwire

import (
	"bytes"
)

// Members of params._meta that carry W3C Trace Context (W3C Trace Context
// Level 1 §3.2, §3.3), as MCP peers that trace read them.
const (
	MetaTraceParent = "traceparent"
	MetaTraceState  = "tracestate"
)

// SetTraceMeta returns raw (one JSON-RPC message or a batch, JSON-RPC 2.0
// §6) with params._meta.traceparent set to traceparent, and
// params._meta.tracestate to tracestate (removed when tracestate is
// empty), in every request (a method and an id) — the place the MCP
// "_meta" convention (MCP 2025-11-25 "General fields: _meta") leaves for
// W3C trace context. params and _meta are created when absent. Every
// other byte of raw is kept: other members and messages, their order,
// spelling and white space; a rewritten _meta is written without white
// space (its other members keep their raw values), so a one-line message
// stays on one line.
//
// Nothing is changed (raw itself is returned) when traceparent is empty,
// for notifications and responses, and for a request whose params are an
// array, or whose params or _meta is not an object with distinct member
// names (Object's rules): such a message is forwarded as it came, without
// trace context. raw is never modified in place. The values are not
// checked: the caller produces them with a W3C propagator. raw must be
// valid JSON (a body ParseBody accepted).
func SetTraceMeta(raw []byte, traceparent, tracestate string) []byte {
	if traceparent == "" {
		return raw
	}
	meta := traceMeta(traceparent, tracestate)
	i := skipSpace(raw, 0)
	switch at(raw, i) {
	case '{':
		end := valueEnd(raw, i)
		msg, ok := setMessageMeta(raw[i:end], meta)
		if !ok {
			return raw
		}
		return concat(raw[:i], msg, raw[end:])
	case '[':
		var out []byte
		last := 0
		for j := skipSpace(raw, i+1); at(raw, j) != ']' && j < len(raw); {
			end := valueEnd(raw, j)
			if end <= j {
				return raw
			}
			if msg, ok := setMessageMeta(raw[j:end], meta); ok {
				out = append(append(out, raw[last:j]...), msg...) // out never aliases raw
				last = end
			}
			if j = skipSpace(raw, end); at(raw, j) == ',' {
				j = skipSpace(raw, j+1)
			} else {
				break
			}
		}
		if out == nil {
			return raw
		}
		return append(out, raw[last:]...)
	}
	return raw
}

// traceMeta is the trace members as they are written into _meta.
func traceMeta(traceparent, tracestate string) []member {
	q := func(s string) []byte { b, _ := Marshal(s); return b }
	m := []member{{name: MetaTraceParent, key: q(MetaTraceParent), value: q(traceparent)}}
	if tracestate != "" {
		m = append(m, member{name: MetaTraceState, key: q(MetaTraceState), value: q(tracestate)})
	}
	return m
}

// setMessageMeta rewrites one message (an object, exactly its bytes); ok
// is false when it is left alone.
func setMessageMeta(msg []byte, meta []member) ([]byte, bool) {
	m, perr := parseMessage(msg)
	if perr != nil || !m.IsRequest() {
		return nil, false
	}
	ms, ok := members(msg)
	if !ok {
		return nil, false
	}
	newMeta := writeObject(meta, nil)
	p, found := find(ms, "params")
	if !found {
		// A request has at least jsonrpc, id and method: append a member.
		params := concat([]byte(`,"params":{"_meta":`), newMeta, []byte(`}`))
		return concat(msg[:len(msg)-1], params, msg[len(msg)-1:]), true
	}
	params := msg[p.start:p.end]
	if _, err := Object(params, "_meta"); err != nil {
		return nil, false // an array, or duplicate or case-folded members
	}
	pms, _ := members(params)
	var newParams []byte
	if mm, found := find(pms, "_meta"); found {
		old := params[mm.start:mm.end]
		if _, err := Object(old, MetaTraceParent, MetaTraceState); err != nil {
			return nil, false
		}
		oms, _ := members(old)
		newParams = concat(params[:mm.start], writeObject(meta, oms), params[mm.end:])
	} else {
		open := skipSpace(params, 0) + 1
		sep := []byte(",")
		if at(params, skipSpace(params, open)) == '}' {
			sep = nil
		}
		newParams = concat(params[:open], []byte(`"_meta":`), newMeta, sep, params[open:])
	}
	return concat(msg[:p.start], newParams, msg[p.end:]), true
}

// member is one member of a JSON object: its decoded name, and either the
// offsets of its value in the object (start, end) or, for a member being
// written, its raw quoted name and value.
type member struct {
	name       string
	key, value []byte
	start, end int
}

// members lists obj's members in order, with their raw names and values;
// ok is false when obj is not a well-formed object.
func members(obj []byte) ([]member, bool) {
	i := skipSpace(obj, 0)
	if at(obj, i) != '{' {
		return nil, false
	}
	var out []member
	for i = skipSpace(obj, i+1); at(obj, i) != '}'; {
		if at(obj, i) != '"' {
			return nil, false
		}
		kEnd := stringEnd(obj, i)
		name, err := decodeString(obj[i:kEnd])
		if err != nil {
			return nil, false
		}
		kStart := i
		if i = skipSpace(obj, kEnd); at(obj, i) != ':' {
			return nil, false
		}
		i = skipSpace(obj, i+1)
		vEnd := valueEnd(obj, i)
		if vEnd <= i {
			return nil, false
		}
		out = append(out, member{name: name, key: obj[kStart:kEnd], value: obj[i:vEnd], start: i, end: vEnd})
		if i = skipSpace(obj, vEnd); at(obj, i) == ',' {
			i = skipSpace(obj, i+1)
		} else if at(obj, i) != '}' {
			return nil, false
		}
	}
	return out, true
}

func find(ms []member, name string) (member, bool) {
	for _, m := range ms {
		if m.name == name {
			return m, true
		}
	}
	return member{}, false
}

// writeObject writes first's members, then those of rest whose names are
// not among first's, without white space.
func writeObject(first, rest []member) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	write := func(m member) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.Write(m.key)
		b.WriteByte(':')
		b.Write(m.value)
	}
	for _, m := range first {
		write(m)
	}
	for _, m := range rest {
		if _, dup := find(first, m.name); !dup && m.name != MetaTraceState {
			write(m)
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// concat returns a new slice holding the parts in order.
func concat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
