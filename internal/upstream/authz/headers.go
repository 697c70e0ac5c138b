package authz

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// MCP HTTP headers (MCP 2025-06-18 transports "Protocol Version Header";
// 2026-07-28 "Standard headers", SEP-2243).
const (
	versionHeader = "MCP-Protocol-Version"
	methodHeader  = "Mcp-Method"
	nameHeader    = "Mcp-Name"
	// sessionlessVersion is the first version whose clients must send
	// Mcp-Method (and Mcp-Name where defined) on every POST.
	sessionlessVersion = "2026-07-28"
	// noBatchVersion is the first version without JSON-RPC batches.
	noBatchVersion = "2025-06-18"
)

// checkHeaders compares Mcp-Method and Mcp-Name with the one message of a
// POST. The rule for every version: a header that is present must equal
// the body (an intermediary that routes or authorizes on the header must
// see what the server executes). From 2026-07-28 on (MCP-Protocol-Version
// compared as a string, so unknown later versions are strict too) the
// headers are also required: Mcp-Method on every request and notification,
// Mcp-Name for tools/call, prompts/get and resources/read. Mcp-Name on
// resources/subscribe and /unsubscribe is checked when present; on other
// methods, which define no name, it is ignored. An empty header counts as
// absent; a header sent twice is a mismatch. Mcp-Name may carry the
// SEP-2243 "=?base64?…?=" form of the name.
func checkHeaders(h http.Header, m message, op operation) *rpcError {
	strict := h.Get(versionHeader) >= sessionlessVersion
	method, n := header(h, methodHeader)
	switch {
	case n > 1:
		return refuse(codeHeaderMismatch, m.id, "header mismatch: %s sent more than once", methodHeader)
	case m.response && method != "":
		return refuse(codeHeaderMismatch, m.id, "header mismatch: %s on a JSON-RPC response", methodHeader)
	case m.response:
		return nil
	case method == "" && strict:
		return refuse(codeHeaderMismatch, m.id, "header mismatch: missing required %s header", methodHeader)
	case method != "" && method != m.method:
		return refuse(codeHeaderMismatch, m.id, "header mismatch: %s %q does not match the body's method %q", methodHeader, method, m.method)
	}
	if !op.hasHeaderName {
		return nil
	}
	name, n := header(h, nameHeader)
	switch {
	case n > 1:
		return refuse(codeHeaderMismatch, m.id, "header mismatch: %s sent more than once", nameHeader)
	case name == "" && strict && op.headerRequired:
		return refuse(codeHeaderMismatch, m.id, "header mismatch: missing required %s header for %s", nameHeader, m.method)
	case name != "" && !sameName(name, op.headerName):
		return refuse(codeHeaderMismatch, m.id, "header mismatch: %s does not match the body of %s", nameHeader, m.method)
	}
	return nil
}

// header returns the first value of key and how many lines carried it.
func header(h http.Header, key string) (string, int) {
	v := h.Values(key)
	if len(v) == 0 {
		return "", 0
	}
	return v[0], len(v)
}

// sameName compares an Mcp-Name value with the body's name, accepting
// SEP-2243's "=?base64?<std base64>?=" form of it.
func sameName(header, name string) bool {
	if header == name {
		return true
	}
	inner, ok := strings.CutPrefix(header, "=?base64?")
	if !ok {
		return false
	}
	inner, ok = strings.CutSuffix(inner, "?=")
	if !ok {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(inner)
	return err == nil && string(b) == name
}
