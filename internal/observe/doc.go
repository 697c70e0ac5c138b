// Package observe is the gateway's one observer seam. Every request on an
// MCP route becomes one [Request] record: the front of the route starts
// it ([Hub.Start]), each layer that decides something writes what it
// decided on it ([Deny], [SetPrincipal], [SetOperations], [SetUpstream]),
// and when the request ends the record is handed, as one typed [Event]
// per JSON-RPC request of the body, to every [Observer]: the Prometheus
// metrics, the audit log and tracing each implement Observer once. Layers
// that want a timed span around a phase (verification, authorization,
// the upstream call) call [StartPhase]; observers that trace implement
// [PhaseObserver].
//
// No layer logs its own decisions: a refusal reaches the logs, metrics
// and traces only through this package. Events carry no tokens, secrets
// or raw claims, only the subject, client id and issuer of a verified
// principal.
package observe
