package observe

import (
	"time"
)

// Decision is what the gateway decided about a request.
type Decision string

// Decisions.
const (
	// DecisionAllow: the request reached the upstream (or the built-in server).
	DecisionAllow Decision = "allow"
	// DecisionDeny: the gateway refused it (a token, scope, Origin, limit or
	// malformed-request decision). Reason says which.
	DecisionDeny Decision = "deny"
	// DecisionError: it was allowed but failed on the way (upstream error or
	// timeout, the issuer's keys unavailable). Reason says which.
	DecisionError Decision = "error"
)

// Reason says why a request was refused or failed. Token reasons are
// internal/authn's FailureReason values (malformed, algorithm, key,
// signature, token_type, expired, issuer, audience, client, claims,
// unavailable); the rest are below. The set is fixed: reasons are metric
// label values.
type Reason string

// Reasons other than the token checks'.
const (
	ReasonNone Reason = ""
	// ReasonMissing: no bearer token (RFC 6750 §3.1: no error code).
	ReasonMissing Reason = "missing"
	// ReasonMalformed: the Authorization header or the token is not well
	// formed.
	ReasonMalformed Reason = "malformed"
	// ReasonUnavailable: the issuer's keys or the client allowlist could
	// not be consulted (503).
	ReasonUnavailable Reason = "unavailable"
	// ReasonScope: a required, tool, resource or prompt scope is missing.
	ReasonScope Reason = "scope"
	// ReasonOrigin: a browser Origin that is not allowed (403).
	ReasonOrigin Reason = "origin"
	// ReasonRate: a per-IP or per-principal rate limit (429).
	ReasonRate Reason = "rate"
	// ReasonConcurrency: max_streams_per_principal (429).
	ReasonConcurrency Reason = "concurrency"
	// ReasonProcesses: a stdio route's process caps (429/503).
	ReasonProcesses Reason = "processes"
	// ReasonBodyTimeout: the body did not arrive within body_read_timeout.
	ReasonBodyTimeout Reason = "body_timeout"
	// ReasonBodyTooLarge: the body exceeds max_body_bytes (413).
	ReasonBodyTooLarge Reason = "body_too_large"
	// ReasonInvalidRequest: not JSON-RPC, a bad header, a batch where the
	// protocol version forbids one (400).
	ReasonInvalidRequest Reason = "invalid_request"
	// ReasonUpstream: the upstream failed or answered what cannot be
	// forwarded (502).
	ReasonUpstream Reason = "upstream"
	// ReasonTimeout: the upstream did not answer within the route's
	// timeout (504).
	ReasonTimeout Reason = "timeout"
	// ReasonTokenExchange: the authorization server did not issue the
	// route's token for the upstream (identity exchange or entra-obo;
	// 502). Nothing was sent upstream.
	ReasonTokenExchange Reason = "token_exchange"
)

// Operation is one JSON-RPC message of a request body.
type Operation struct {
	// Method is the JSON-RPC method ("" for a response the client sends).
	Method string
	// Name is the tool or prompt name (tools/call, prompts/get) or the
	// resource URI (resources/read, subscribe); "" otherwise.
	Name string
}

// Event is what one JSON-RPC request (or a GET/DELETE, or a body without
// requests) of one HTTP request came to. Events of one HTTP request share
// RequestID, status and latency.
type Event struct {
	// Time is when the HTTP request arrived.
	Time time.Time
	// RequestID identifies the HTTP request (the X-Request-Id response
	// header).
	RequestID string
	// Route is the route's path (e.g. /mcp).
	Route string
	// HTTPMethod is POST, GET or DELETE.
	HTTPMethod string
	// Operation is the JSON-RPC method and tool/resource/prompt name;
	// empty for GET and DELETE.
	Operation
	// Batch is the number of operations in the body when above one.
	Batch int
	// Subject, ClientID and Issuer name the verified caller; empty when
	// the token was refused before verification succeeded.
	Subject, ClientID, Issuer string
	// RemoteIP is the client's address (after trusted_proxies).
	RemoteIP string
	// Decision and Reason: see their types.
	Decision Decision
	Reason   Reason
	// Detail is a human-readable cause (the error_description or JSON-RPC
	// message sent to the client); never a token or claim value.
	Detail string
	// Status is the HTTP status answered.
	Status int
	// Latency is from arrival to the end of the response (for a stream, to
	// its end).
	Latency time.Duration
	// UpstreamStatus is the upstream's HTTP status (0: not reached, or a
	// stdio/built-in route); UpstreamLatency the time until its answer
	// started.
	UpstreamStatus  int
	UpstreamLatency time.Duration
	// UpstreamError classifies an upstream failure for
	// mcpgw_upstream_errors_total{kind}: connect, status, timeout,
	// protocol, process; "" when none.
	UpstreamError string
	// TraceID is the W3C trace id when tracing is on.
	TraceID string
}
