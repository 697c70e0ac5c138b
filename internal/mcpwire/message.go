package mcpwire

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// Message is one JSON-RPC 2.0 message (JSON-RPC 2.0 §4 request or
// notification, §5 response), as [ParseMessage] read it. Members are the
// raw JSON of the message; nothing was re-encoded.
type Message struct {
	// Raw is the whole message as received.
	Raw json.RawMessage
	// ID is the id member; nil when absent, or null (only an error
	// response may carry null).
	ID     json.RawMessage
	Method string
	// Params, Result and Error are nil when absent.
	Params json.RawMessage
	Result json.RawMessage
	Error  json.RawMessage
}

// IsRequest reports a request: a method and an id.
func (m *Message) IsRequest() bool { return m.Method != "" && m.ID != nil }

// IsNotification reports a notification: a method and no id.
func (m *Message) IsNotification() bool { return m.Method != "" && m.ID == nil }

// IsResponse reports a response: a result or an error, and no method.
func (m *Message) IsResponse() bool { return m.Method == "" }

// Key is the canonical key of m's id; ok is false when m has none.
func (m *Message) Key() (Key, bool) { return KeyOf(m.ID) }

// messageMembers are the members of a message; a member folding like one of
// them must be spelled like it.
var messageMembers = []string{"jsonrpc", "id", "method", "params", "result", "error"}

// Body is a parsed POST body: one message, or a batch (JSON-RPC 2.0 §6).
type Body struct {
	// Raw is the body as received; forward these bytes.
	Raw      []byte
	Messages []Message
	Batch    bool
}

// Requests returns the body's requests (messages with a method and an id).
func (b *Body) Requests() []*Message {
	var out []*Message
	for i := range b.Messages {
		if b.Messages[i].IsRequest() {
			out = append(out, &b.Messages[i])
		}
	}
	return out
}

// FirstID is the id of the body's only message, for error responses; nil
// for a batch or a notification.
func (b *Body) FirstID() json.RawMessage {
	if b == nil || b.Batch || len(b.Messages) != 1 {
		return nil
	}
	return b.Messages[0].ID
}

// ParseBody parses body as one JSON-RPC message or a batch. Invalid UTF-8
// or JSON is a parse error (-32700); an empty batch, a duplicate id among a
// batch's requests, or a message [ParseMessage] refuses is an invalid
// request (-32600). Errors carry HTTP status 400 and, for a single message
// whose id was readable, that id. Whether a batch is allowed depends on the
// protocol version: see [BatchAllowed].
func ParseBody(body []byte) (*Body, *Error) {
	if !utf8.Valid(body) || !json.Valid(body) {
		return nil, Errorf(http.StatusBadRequest, CodeParseError, nil, "parse error: the body is not valid JSON")
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch trimmed[0] {
	case '{':
		m, err := parseMessage(trimmed)
		if err != nil {
			return nil, err
		}
		return &Body{Raw: body, Messages: []Message{m}}, nil
	case '[':
		var raws []json.RawMessage
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, Errorf(http.StatusBadRequest, CodeParseError, nil, "parse error: %v", err)
		}
		if len(raws) == 0 {
			return nil, Errorf(http.StatusBadRequest, CodeInvalidRequest, nil, "invalid request: empty batch")
		}
		b := &Body{Raw: body, Batch: true, Messages: make([]Message, 0, len(raws))}
		seen := make(map[Key]struct{}, len(raws))
		for _, raw := range raws {
			m, err := parseMessage(raw)
			if err != nil {
				return nil, err.WithID(nil)
			}
			if k, ok := m.Key(); ok && m.IsRequest() {
				if _, dup := seen[k]; dup {
					return nil, Errorf(http.StatusBadRequest, CodeInvalidRequest, nil, "invalid request: two requests of the batch share an id")
				}
				seen[k] = struct{}{}
			}
			b.Messages = append(b.Messages, m)
		}
		return b, nil
	}
	return nil, Errorf(http.StatusBadRequest, CodeInvalidRequest, nil, "invalid request: not a JSON-RPC object or batch")
}

// ParseMessage parses one JSON-RPC message (no batch): an object with
// "jsonrpc": "2.0"; a request or notification (a non-empty string method,
// params an object or array when present, no result or error), or a
// response (an id and exactly one of result and error; an error response
// may have a null id). Ids must be strings or finite numbers. Duplicate and
// case-folded members are refused. Errors carry status 400 and code
// -32700 or -32600.
func ParseMessage(raw []byte) (Message, *Error) {
	if !utf8.Valid(raw) || !json.Valid(raw) {
		return Message{}, Errorf(http.StatusBadRequest, CodeParseError, nil, "parse error: not valid JSON")
	}
	return parseMessage(bytes.TrimSpace(raw))
}

func parseMessage(raw json.RawMessage) (Message, *Error) {
	invalid := func(id json.RawMessage, why string) (Message, *Error) {
		return Message{}, Errorf(http.StatusBadRequest, CodeInvalidRequest, id, "invalid request: %s", why)
	}
	obj, err := Object(raw, messageMembers...)
	if err != nil {
		return invalid(nil, err.Error())
	}
	m := Message{Raw: raw, Params: obj["params"], Result: obj["result"], Error: obj["error"]}
	rawID, hasID := obj["id"]
	nullID := hasID && bytes.Equal(bytes.TrimSpace(rawID), []byte("null"))
	if hasID && !nullID {
		if _, ok := KeyOf(rawID); !ok {
			return invalid(nil, "id must be a string or a finite number")
		}
		m.ID = rawID
	}
	if v, ok := String(obj["jsonrpc"]); !ok || v != Version {
		return invalid(m.ID, `"jsonrpc" must be "2.0"`)
	}
	rawMethod, hasMethod := obj["method"]
	switch {
	case hasMethod:
		method, ok := String(rawMethod)
		if !ok || method == "" || m.Result != nil || m.Error != nil || nullID {
			return invalid(m.ID, "bad method, or a request with a result, an error or a null id")
		}
		if c := at(bytes.TrimSpace(m.Params), 0); m.Params != nil && c != '{' && c != '[' {
			return invalid(m.ID, "params must be an object or an array")
		}
		m.Method = method
	case (m.Result != nil) == (m.Error != nil):
		return invalid(m.ID, "neither a request, a notification nor a response")
	case !hasID || nullID && m.Error == nil:
		return invalid(nil, "a response needs an id")
	}
	return m, nil
}

// Key is the canonical form of a JSON-RPC id or an MCP progress token: "s"
// and the string for strings, "n" and the shortest decimal form of the
// IEEE 754 double for numbers (so 1, 1.0, 10e-1 and 1e0 are one key, and
// -0 is 0). Distinct numbers that round to the same double share a key, as
// they do for a JavaScript peer.
type Key string

// KeyOf returns the key of raw; ok is false for anything but a string or a
// finite number (null, absent, objects, 1e400).
func KeyOf(raw json.RawMessage) (Key, bool) {
	raw = bytes.TrimSpace(raw)
	switch c := at(raw, 0); {
	case c == '"':
		s, err := decodeString(raw)
		if err != nil {
			return "", false
		}
		return Key("s" + s), true
	case c == '-' || c >= '0' && c <= '9':
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return "", false
		}
		if f == 0 {
			f = 0 // -0
		}
		return Key("n" + strconv.FormatFloat(f, 'g', -1, 64)), true
	}
	return "", false
}

// ParamString returns the string member of m's params; a missing or
// non-object params, a duplicate member, or a value that is not a string
// is an invalid-params error (-32602, HTTP 400) answering m.
func (m *Message) ParamString(member string) (string, *Error) {
	params, err := Object(m.Params, member)
	if err != nil {
		return "", Errorf(http.StatusBadRequest, CodeInvalidParams, m.ID, "invalid params for %s: %v", m.Method, err)
	}
	s, ok := String(params[member])
	if !ok {
		return "", Errorf(http.StatusBadRequest, CodeInvalidParams, m.ID, "invalid params for %s: %q must be a string", m.Method, member)
	}
	return s, nil
}

// ProgressToken returns the progress token m carries: params._meta.
// progressToken of a request, params.progressToken of
// notifications/progress (MCP 2025-11-25 "Progress"); nil when there is
// none or it is not a string or number.
func (m *Message) ProgressToken() json.RawMessage {
	params, err := Object(m.Params, "_meta", "progressToken")
	if err != nil {
		return nil
	}
	tok := params["progressToken"]
	if m.Method != "notifications/progress" {
		meta, err := Object(params["_meta"], "progressToken")
		if err != nil {
			return nil
		}
		tok = meta["progressToken"]
	}
	if _, ok := KeyOf(tok); !ok {
		return nil
	}
	return tok
}

// CancelledNotification encodes notifications/cancelled for the request
// whose raw id is id (MCP 2025-11-25 "Cancellation"): what the gateway
// sends an upstream when it gives up on a request on the client's behalf.
func CancelledNotification(id json.RawMessage, reason string) []byte {
	b, _ := Marshal(struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
		Params  struct {
			RequestID json.RawMessage `json:"requestId"`
			Reason    string          `json:"reason,omitempty"`
		} `json:"params"`
	}{JSONRPC: Version, Method: "notifications/cancelled", Params: struct {
		RequestID json.RawMessage `json:"requestId"`
		Reason    string          `json:"reason,omitempty"`
	}{id, reason}})
	return b
}
