package mcpwire

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// JSON-RPC 2.0 error codes (JSON-RPC 2.0 §5.1) and the MCP codes the gateway
// answers with. -32000 to -32099 are implementation-defined server errors.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
	// CodeServerError is a transport-level refusal (the TypeScript SDK's
	// and go-sdk's use: "Bad Request: Mcp-Session-Id header is required").
	CodeServerError = -32000
	// CodeSessionNotFound answers an unknown Mcp-Session-Id (404).
	CodeSessionNotFound = -32001
	// CodeHeaderMismatch: Mcp-Method / Mcp-Name disagree with the body
	// (MCP 2026-07-28 transports, SEP-2243).
	CodeHeaderMismatch = -32020
	// CodeUnsupportedProtocolVersion: the requested protocol version is not
	// served; data lists the supported ones (MCP 2026-07-28, SEP-2575).
	CodeUnsupportedProtocolVersion = -32022
)

// Error is a refusal to send as a JSON-RPC error response with an HTTP
// status (MCP transports: errors before a response stream are plain JSON
// bodies). A nil ID is written as null.
type Error struct {
	Status  int
	Code    int
	Message string
	ID      json.RawMessage
	// Data is the error's data member; nil omits it.
	Data any
}

// Error implements error.
func (e *Error) Error() string { return e.Message }

// WithID returns a copy of e answering id.
func (e *Error) WithID(id json.RawMessage) *Error {
	c := *e
	c.ID = id
	return &c
}

// Errorf builds an [Error] with an HTTP status, a code and a message.
func Errorf(status, code int, id json.RawMessage, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, ID: id, Message: fmt.Sprintf(format, args...)}
}

// UnsupportedVersion is the refusal of a request whose protocol version is
// not served: HTTP 400, [CodeUnsupportedProtocolVersion], data
// {"supported": [...], "requested": v} so the client can fall back (MCP
// 2026-07-28, SEP-2575).
func UnsupportedVersion(id json.RawMessage, requested string, supported []string, why string) *Error {
	msg := "unsupported protocol version " + requested
	if why != "" {
		msg += ": " + why
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeUnsupportedProtocolVersion, ID: id, Message: msg,
		Data: map[string]any{"supported": supported, "requested": requested}}
}

type errorObject struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

type errorResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   errorObject     `json:"error"`
}

// ErrorBody encodes {"jsonrpc":"2.0","id":id,"error":{code,message,data}}
// without a trailing newline; a nil id is null.
func ErrorBody(id json.RawMessage, code int, msg string, data any) []byte {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	b, err := Marshal(errorResponse{JSONRPC: Version, ID: id, Error: errorObject{Code: code, Message: msg, Data: data}})
	if err != nil { // data did not encode: drop it, keep the refusal
		b, _ = Marshal(errorResponse{JSONRPC: Version, ID: id, Error: errorObject{Code: code, Message: msg}})
	}
	return b
}

// WriteError answers with e's status and a JSON-RPC error body. It replaces
// any Content-Length or Content-Encoding already set, marks the answer
// no-store, and adds Retry-After: 1 to 429 and 503.
func WriteError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable {
		if h.Get("Retry-After") == "" {
			h.Set("Retry-After", strconv.Itoa(1))
		}
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(ErrorBody(e.ID, e.Code, e.Message, e.Data), '\n'))
}
