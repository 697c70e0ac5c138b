package stdio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// JSON-RPC 2.0 error codes used by the relay (JSON-RPC 2.0 §5.1; -32000 and
// -32001 as the TypeScript SDK uses them for transport errors; -32022 is
// UnsupportedProtocolVersion of MCP 2026-07-28).
const (
	codeParseError         = -32700
	codeInvalidRequest     = -32600
	codeInternalError      = -32603
	codeServerError        = -32000
	codeSessionNotFound    = -32001
	codeUnsupportedVersion = -32022
)

// message is the part of one JSON-RPC 2.0 message the relay routes on.
type message struct {
	raw    json.RawMessage // compact
	rawID  json.RawMessage
	id     string // canonical id key; "" for notifications
	method string
	// token is the canonical key of the progress token: params._meta.
	// progressToken of a request, params.progressToken of
	// notifications/progress; "" if none.
	token string
	// result is a response's result (for initialize's protocolVersion).
	result json.RawMessage
}

func (m *message) isRequest() bool      { return m.method != "" && m.id != "" }
func (m *message) isNotification() bool { return m.method != "" && m.id == "" }
func (m *message) isResponse() bool     { return m.method == "" && m.id != "" }

type wireMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   json.RawMessage `json:"error"`
}

var errNotJSONRPC = errors.New("not a JSON-RPC 2.0 message")

// parseMessages parses one JSON-RPC message or a batch (JSON-RPC 2.0 §6)
// from compact JSON. It checks the envelope only: jsonrpc "2.0", a string or
// number id, a method or a result/error.
func parseMessages(data []byte) (msgs []message, batch bool, err error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(data, &raws); err != nil {
			return nil, true, fmt.Errorf("batch: %w", err)
		}
		if len(raws) == 0 {
			return nil, true, fmt.Errorf("empty batch: %w", errNotJSONRPC)
		}
		for _, raw := range raws {
			m, err := parseMessage(raw)
			if err != nil {
				return nil, true, err
			}
			msgs = append(msgs, m)
		}
		return msgs, true, nil
	}
	m, err := parseMessage(data)
	if err != nil {
		return nil, false, err
	}
	return []message{m}, false, nil
}

func parseMessage(raw json.RawMessage) (message, error) {
	var w wireMessage
	if err := json.Unmarshal(raw, &w); err != nil {
		return message{}, fmt.Errorf("%w: %w", errNotJSONRPC, err)
	}
	if w.JSONRPC != "2.0" {
		return message{}, fmt.Errorf("%w: jsonrpc is not \"2.0\"", errNotJSONRPC)
	}
	m := message{raw: raw, rawID: w.ID, method: w.Method, result: w.Result}
	if len(w.ID) > 0 && string(w.ID) != "null" {
		key, err := idKey(w.ID)
		if err != nil {
			return message{}, err
		}
		m.id = key
	}
	if m.method == "" && (m.id == "" || (len(w.Result) == 0 && len(w.Error) == 0)) {
		if len(w.Error) > 0 && m.id == "" {
			return m, nil // an error response to an unparseable request: routed nowhere
		}
		return message{}, fmt.Errorf("%w: neither a request, a notification nor a response", errNotJSONRPC)
	}
	m.token = progressToken(w.Method, w.Params)
	return m, nil
}

// progressToken returns the canonical key of a request's
// params._meta.progressToken or of notifications/progress's
// params.progressToken (MCP 2025-11-25, "Progress").
func progressToken(method string, params json.RawMessage) string {
	if len(params) == 0 || params[0] != '{' {
		return ""
	}
	var p struct {
		Meta struct {
			ProgressToken json.RawMessage `json:"progressToken"`
		} `json:"_meta"`
		ProgressToken json.RawMessage `json:"progressToken"`
	}
	if json.Unmarshal(params, &p) != nil {
		return ""
	}
	tok := p.Meta.ProgressToken
	if method == "notifications/progress" {
		tok = p.ProgressToken
	}
	if len(tok) == 0 || string(tok) == "null" {
		return ""
	}
	key, _ := idKey(tok)
	return key
}

// idKey canonicalizes a JSON-RPC id or progress token (a string or a
// number) so that 1, 1.0 and 1e0 are the same key and "1" is not.
func idKey(raw json.RawMessage) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("%w: id: %w", errNotJSONRPC, err)
	}
	switch v := v.(type) {
	case string:
		return "s:" + v, nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return "n:" + strconv.FormatInt(i, 10), nil
		}
		f, err := v.Float64()
		if err != nil {
			return "", fmt.Errorf("%w: id %s", errNotJSONRPC, v)
		}
		if f == float64(int64(f)) {
			return "n:" + strconv.FormatInt(int64(f), 10), nil
		}
		return "n:" + strconv.FormatFloat(f, 'g', -1, 64), nil
	default:
		return "", fmt.Errorf("%w: id must be a string or a number", errNotJSONRPC)
	}
}

// errorResponse encodes a JSON-RPC error response with the given id (raw
// JSON; nil means null).
func errorResponse(id json.RawMessage, code int, msg string, data any) []byte {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	e := struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{code, msg, data}
	b, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   any             `json:"error"`
	}{"2.0", id, e})
	return b
}

// writeRPCError answers with HTTP status and a JSON-RPC error body, as the
// Streamable HTTP transport does for requests it refuses (MCP 2025-11-25,
// "Transports"; the status carries the transport-level meaning).
func writeRPCError(w http.ResponseWriter, status int, id json.RawMessage, code int, msg string, data any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(errorResponse(id, code, msg, data), '\n'))
}

// cancelledNotification is notifications/cancelled for a request the
// gateway gives up on (MCP 2025-11-25, "Cancellation").
func cancelledNotification(id json.RawMessage, reason string) []byte {
	b, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0",
		"method":  "notifications/cancelled",
		"params":  map[string]any{"requestId": id, "reason": reason},
	})
	return b
}
