package httpproxy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// JSON-RPC error codes the proxy answers with (JSON-RPC 2.0 §5.1; -32000 to
// -32099 are implementation-defined server errors).
const (
	codeInvalidRequest             = -32600
	codeInternal                   = -32603
	codeServerError                = -32000
	codeSessionNotFound            = -32001
	codeUnsupportedProtocolVersion = -32022 // SEP-2575
)

// Messages of the proxy's own errors; they never carry upstream internals.
const (
	msgUpstreamUnavailable = "upstream unavailable"
	msgUpstreamTimeout     = "upstream timed out"
	msgUpstreamRefused     = "upstream refused the gateway's request"
	msgSessionNotFound     = "session not found"
	msgTooManyStreams      = "too many concurrent requests for this principal"
	msgBodyTooLarge        = "request body too large"
	msgShuttingDown        = "gateway is shutting down"
)

type rpcErrorObject struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

type rpcErrorResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   rpcErrorObject  `json:"error"`
}

// rpcErrorBody encodes a JSON-RPC error response; id nil becomes null.
func rpcErrorBody(id json.RawMessage, code int, msg string, data json.RawMessage) []byte {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	b, _ := json.Marshal(rpcErrorResponse{JSONRPC: "2.0", ID: id, Error: rpcErrorObject{Code: code, Message: msg, Data: data}})
	return b
}

// writeRPCError answers with status and a JSON-RPC error object (MCP
// Transports: errors before a response stream are plain JSON bodies).
func writeRPCError(w http.ResponseWriter, status int, id json.RawMessage, code int, msg string) {
	writeRPCErrorData(w, status, id, code, msg, nil)
}

func writeRPCErrorData(w http.ResponseWriter, status int, id json.RawMessage, code int, msg string, data json.RawMessage) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(1))
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(rpcErrorBody(id, code, msg, data), '\n'))
}

// message is what the proxy reads of one JSON-RPC message.
type message struct {
	raw    json.RawMessage
	id     json.RawMessage // nil for notifications
	method string          // "" for responses
	token  json.RawMessage // params._meta.progressToken, if any
}

func (m message) isRequest() bool { return m.method != "" && len(m.id) > 0 }

// parseMessages reads a body as one JSON-RPC message or a batch. It checks
// only that each element is a JSON object; it does not validate JSON-RPC.
func parseMessages(body []byte) ([]message, bool, error) {
	body = bytes.TrimSpace(body)
	var raws []json.RawMessage
	batch := len(body) > 0 && body[0] == '['
	if batch {
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, true, err
		}
	} else {
		raws = []json.RawMessage{body}
	}
	out := make([]message, 0, len(raws))
	for _, raw := range raws {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params struct {
				Meta struct {
					ProgressToken json.RawMessage `json:"progressToken"`
				} `json:"_meta"`
			} `json:"params"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, batch, err
		}
		if bytes.Equal(m.ID, []byte("null")) {
			m.ID = nil
		}
		out = append(out, message{raw: raw, id: m.ID, method: m.Method, token: m.Params.Meta.ProgressToken})
	}
	return out, batch, nil
}

// requestID returns the id of a single-message body, or nil (batches,
// notifications, unparsable bodies).
func requestID(body []byte) json.RawMessage {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if len(body) == 0 || json.Unmarshal(body, &m) != nil {
		return nil
	}
	return m.ID
}
