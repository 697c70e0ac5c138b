package metrics

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
)

// mcpMethods are the client-to-server request methods the MCP
// specification defines; each is its own method label value.
var mcpMethods = map[string]bool{
	"initialize":               true,
	"ping":                     true,
	"tools/list":               true,
	"tools/call":               true,
	"resources/list":           true,
	"resources/templates/list": true,
	"resources/read":           true,
	"resources/subscribe":      true,
	"resources/unsubscribe":    true,
	"prompts/list":             true,
	"prompts/get":              true,
	"completion/complete":      true,
	"logging/setLevel":         true,
	"subscriptions/listen":     true,
}

// Method label values besides the MCP methods.
const (
	methodNotification = "notification"
	methodResponse     = "response"
	methodOther        = "other"
)

// methodLabel bounds the method label: an MCP method as is, any
// notifications/* as "notification", a response the client sends as
// "response", GET and DELETE as themselves, anything else (an unknown or
// vendor method, a POST whose body was never read because it was refused
// first, another HTTP method) as "other".
func methodLabel(e *observe.Event) string {
	switch e.HTTPMethod {
	case http.MethodGet, http.MethodDelete:
		return e.HTTPMethod
	case http.MethodPost:
	default:
		return methodOther
	}
	m := e.Method
	switch {
	case mcpMethods[m]:
		return m
	case strings.HasPrefix(m, "notifications/"):
		return methodNotification
	case m == "" && readBody(e):
		return methodResponse
	}
	return methodOther
}

// readBody reports whether an event without a method comes from a body
// the gateway read (so the message was a response): it was allowed, or
// failed only at the upstream. Refusals before the body is read (Origin,
// token, limits) and key unavailability leave no operation either.
func readBody(e *observe.Event) bool {
	switch e.Decision {
	case observe.DecisionAllow:
		return true
	case observe.DecisionError:
		return e.Reason == observe.ReasonUpstream || e.Reason == observe.ReasonTimeout
	}
	return false
}

// statusLabel is a three-digit HTTP status, or "other".
func statusLabel(status int) string {
	if status < 100 || status > 599 {
		return methodOther
	}
	return strconv.Itoa(status)
}

// decisionLabel is the decision ("allow" when none was recorded, as
// observe.Request.Finish does).
func decisionLabel(d observe.Decision) string {
	if d == "" {
		return string(observe.DecisionAllow)
	}
	return string(d)
}

// reasonLabel is the reason, "none" when there is none (an allowed
// request). Reasons are fixed values set by the gateway's code
// (observe.Reason and authn.FailureReason), never by clients.
func reasonLabel(r observe.Reason) string {
	if r == observe.ReasonNone {
		return "none"
	}
	return string(r)
}

// upstreamErrorKinds are the kinds observe.SetUpstream documents.
var upstreamErrorKinds = map[string]bool{
	"connect": true, "status": true, "timeout": true, "protocol": true, "process": true,
}

// upstreamErrorLabel bounds the kind label.
func upstreamErrorLabel(kind string) string {
	if upstreamErrorKinds[kind] {
		return kind
	}
	return methodOther
}
