package httpproxy

import (
	"encoding/json"
	"net/http"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

// refusal is one of the proxy's own errors: every JSON-RPC error it answers
// a client with is one of those below, written by mcpwire.WriteError. Their
// messages never carry upstream internals.
type refusal struct {
	status, code int
	msg          string
}

// at is the refusal answering the request with id (nil: null).
func (r refusal) at(id json.RawMessage) *mcpwire.Error {
	return mcpwire.Errorf(r.status, r.code, id, "%s", r.msg)
}

var (
	errUpstreamUnavailable = refusal{http.StatusBadGateway, mcpwire.CodeInternalError, "upstream unavailable"}
	errUpstreamTimeout     = refusal{http.StatusGatewayTimeout, mcpwire.CodeInternalError, "upstream timed out"}
	errUpstreamRefused     = refusal{http.StatusBadGateway, mcpwire.CodeInternalError, "upstream refused the gateway's request"}
	errSessionNotFound     = refusal{http.StatusNotFound, mcpwire.CodeSessionNotFound, "session not found"}
	errSessionRequired     = refusal{http.StatusBadRequest, mcpwire.CodeInvalidRequest, "Mcp-Session-Id is required"}
	errDuplicateID         = refusal{http.StatusBadRequest, mcpwire.CodeInvalidRequest, "a request with this id is already in flight"}
	errStreamOpen          = refusal{http.StatusConflict, mcpwire.CodeInvalidRequest, "a stream for this session is already open"}
	errTooManyOwnSessions  = refusal{http.StatusTooManyRequests, mcpwire.CodeServerError, "too many sessions for this principal"}
	errTooManySessions     = refusal{http.StatusServiceUnavailable, mcpwire.CodeServerError, "too many sessions"}
	errShuttingDown        = refusal{http.StatusServiceUnavailable, mcpwire.CodeServerError, "gateway is shutting down"}
	errMethodNotAllowed    = refusal{http.StatusMethodNotAllowed, mcpwire.CodeServerError, "method not allowed"}
	errNoIdentity          = refusal{http.StatusInternalServerError, mcpwire.CodeInternalError, "identity for the upstream could not be produced"}
	errTokenExchange       = refusal{http.StatusBadGateway, mcpwire.CodeInternalError, "the authorization server did not issue a token for the upstream"}
	// errNoPrincipal and errNoBody are requests that reached the proxy
	// without what the gateway's front must give them (a wiring bug).
	errNoPrincipal = refusal{http.StatusInternalServerError, mcpwire.CodeInternalError, "no verified principal"}
	errNoBody      = refusal{http.StatusInternalServerError, mcpwire.CodeInternalError, "request body was not read"}
	// errUnroutable is not sent to the client: the bridge answers with it,
	// upstream, a server-to-client request that no client stream can carry
	// (see the package doc).
	errUnroutable = refusal{0, mcpwire.CodeInternalError, "the gateway cannot route this server request: no client stream"}
)

// body is the refusal as a JSON-RPC error response, for an event stream.
func (r refusal) body(id json.RawMessage) []byte { return mcpwire.ErrorBody(id, r.code, r.msg, nil) }

// errSessionsOnly is the SEP-2575 answer to a sessionless request (MCP
// 2026-07-28) on a route whose upstream has sessions only: the client falls
// back to initialize with one of mcpwire.SessionVersions.
func errSessionsOnly(id json.RawMessage, requested string) *mcpwire.Error {
	return mcpwire.UnsupportedVersion(id, requested, mcpwire.SessionVersions, "this route's upstream has sessions")
}

// statusError maps a failure status chosen by the proxy to its refusal.
func statusError(status int) refusal {
	switch status {
	case http.StatusGatewayTimeout:
		return errUpstreamTimeout
	case http.StatusServiceUnavailable:
		return errShuttingDown
	case http.StatusTooManyRequests:
		return errTooManyOwnSessions
	case http.StatusInternalServerError:
		return errNoIdentity
	default:
		return errUpstreamUnavailable
	}
}
