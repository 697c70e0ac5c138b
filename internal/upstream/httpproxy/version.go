package httpproxy

import (
	"net/http"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

// codeNotInitialized is the LSP "server not initialized" code, which some
// MCP servers borrow.
const codeNotInitialized = -32002

// sessionRefusalCodes are the JSON-RPC error codes with which servers of
// the session generation refuse a request that carries no Mcp-Session-Id:
// -32000 (TypeScript SDK, server-everything: 400 "Bad Request: Server not
// initialized", "Bad Request: Mcp-Session-Id header is required"), -32600
// (Python SDK: 400 "Bad Request: Missing session ID"), -32001 (404
// "Session not found") and codeNotInitialized.
var sessionRefusalCodes = map[int]bool{
	mcpwire.CodeServerError:     true,
	mcpwire.CodeInvalidRequest:  true,
	mcpwire.CodeSessionNotFound: true,
	codeNotInitialized:          true,
}

// sessionsOnlyRefusal reports whether the upstream's answer to r (status and
// the start of its body) is a server of the session generation refusing a
// sessionless request, which the proxy then answers with the SEP-2575
// unsupported-protocol-version error (see the package doc, "Protocol
// generations"): r is a POST whose MCP-Protocol-Version is sessionless
// (2026-07-28 or later) and which carries no Mcp-Session-Id, the status is
// 400 or 404, and the body is not a JSON-RPC error response, or is one with
// a code of sessionRefusalCodes. Any other answer, the upstream's own -32022
// included, passes through untouched.
//
// Not checked: what the upstream would have answered a 2025 request (no
// probe is sent), and whether a -32600 or -32000 of a server that does
// speak 2026-07-28 had another cause (the client then falls back to
// initialize, which such a server also serves).
func sessionsOnlyRefusal(r *http.Request, status int, body []byte) bool {
	if r.Method != http.MethodPost || !mcpwire.Sessionless(r.Header.Get(mcpwire.HeaderProtocolVersion)) ||
		len(r.Header.Values(mcpwire.HeaderSessionID)) > 0 {
		return false
	}
	if status != http.StatusBadRequest && status != http.StatusNotFound {
		return false
	}
	m, perr := mcpwire.ParseMessage(body)
	if perr != nil || !m.IsResponse() || m.Error == nil {
		return true // not JSON-RPC: a 2026-07-28 server answers with JSON-RPC errors
	}
	code, ok := m.ErrorCode()
	return !ok || sessionRefusalCodes[code]
}
