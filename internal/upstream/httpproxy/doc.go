// Package httpproxy fronts one upstream MCP server reached over HTTP: it
// proxies the Streamable HTTP transport (MCP 2025-03-26 through 2026-07-28,
// "Transports" §Streamable HTTP) faithfully, and bridges the legacy HTTP+SSE
// transport (MCP 2024-11-05, "Transports" §HTTP with SSE) to Streamable HTTP
// clients.
//
// The proxy sits behind the gateway's bearer middleware and call.Read: it
// takes the caller's principal and the parsed POST body from the request's
// call.Call and never reads, caps or parses r.Body itself (call.Read
// answers 413 and 400). A request without a principal, or a POST without a
// parsed body, is refused with 500 (a wiring bug; fail closed). JSON-RPC
// framing, ids, error bodies and the SSE grammar are package mcpwire's; the
// proxy's own refusals are built in one file (errors.go) and written by
// mcpwire.WriteError.
//
// # What reaches the upstream
//
// Only an allowlist of request headers is forwarded: Content-Type, Accept,
// MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name, every
// Mcp-Param-* header (unknown ones included, unchanged), User-Agent and
// Accept-Language. Authorization, Cookie, Proxy-Authorization, Forwarded and
// X-Forwarded-* never pass; hop-by-hop headers (RFC 9110 §7.6.1) and headers
// named in Connection are dropped. The route's identity.Injector then adds,
// through identity.Outgoing, what the upstream should know of the caller; it
// gets the client request's context (the bridge's long-lived upstream stream
// and its cancel notifications get the session's), bounded by Timeout. The
// proxy sets no X-Forwarded-* headers of its own: the caller's address is
// not the upstream's business and the only identity an upstream should trust
// is the injector's signed one. The client's query string is not forwarded:
// the upstream URL is fixed.
//
// # What reaches the client
//
// Status and Content-Type, Cache-Control, Retry-After, Allow and
// MCP-Protocol-Version. Mcp-Session-Id is rewritten (below). Set-Cookie and
// WWW-Authenticate never pass: an upstream 401 or 403 is the gateway's
// misconfiguration, not the client's, and a challenge would send the client
// to re-authenticate against the gateway's authorization server; it becomes
// 502 with a JSON-RPC error and a log line. Redirects are not followed and
// become 502 (they would reveal the upstream and re-send identity elsewhere).
// Errors carry the request's JSON-RPC id when the body is one message.
//
// # Streams
//
// text/event-stream bodies are copied event by event (mcpwire.Splitter: CR,
// LF and CRLF line ends), each forwarded as soon as it is complete and
// flushed as soon as no further event is ready (the proxy is about to wait
// for the upstream), so progress notifications arrive while the tool still
// runs, while events read together leave in one write; an upstream that
// dies mid-stream ends the client's stream after the last complete event.
// The response to the only request of a POST is not flushed: the upstream
// should end the stream right after it (Transports §Streamable HTTP), and
// net/http then writes it with the end of the response, status line and
// headers too when nothing went out before, in one write. An upstream that
// keeps the stream open gets it flushed after 2 ms.
//
// The event stream answering a POST is held for up to 25 ms before its
// status line goes out: what arrives within the hold (often the whole
// answer) is written together with the headers in one write (with the end
// of the response when the stream ended within the hold), and the
// headers never go out alone before the hold ends. A reverse proxy built on
// Go's net/http in front of the gateway (httputil.ReverseProxy without full
// duplex, as in the conformance harness, and older Caddy releases) drops
// its connection to the gateway when response headers arrive before its
// transport finished with the request body: writing them makes its server
// drain and close the inbound body, the transport's last read of it fails,
// and the transport closes the connection (golang/go#40747). The client then
// saw a 200 with an empty or cut stream (ping, tools-call-with-progress and
// server-sse-polling of the conformance suite failed about one run in
// three). The hold costs at most 25 ms of delay to the first events of a
// long call; GET streams are not held (they have no body to race with).
//
// # Sessions without sticky routing
//
// The upstream's Mcp-Session-Id is never shown to the client. The client sees
// base64url(upstreamID) "." base64url(HMAC-SHA256(SessionKey, RouteID NUL
// issuer NUL subject NUL upstreamID)). Every presented id is verified in
// constant time against the principal of the current request; a forged id,
// another principal's id, or an id of another route is answered 404 with a
// JSON-RPC "session not found" error and never reaches the upstream. 404 (not
// 403) is what the Streamable HTTP transport prescribes for an unknown
// session, so clients recover by re-initializing (also after a SessionKey
// rotation), and the answer does not tell a prober that the session exists.
// Any replica holding SessionKey can serve any request of a session: no
// shared state and no sticky sessions for Streamable HTTP upstreams.
//
// # Protocol generations
//
// The proxy cannot know in advance whether a Streamable HTTP upstream
// serves the sessionless generation (2026-07-28): the go-sdk's stateless
// server does, its stateful server and the TypeScript SDK's servers
// (server-everything) do not. Requests are proxied as they come, and the
// answer decides: a POST whose MCP-Protocol-Version is sessionless
// (mcpwire.Sessionless), that carries no Mcp-Session-Id and that the
// upstream refuses with 400 or 404 and either a body that is not a JSON-RPC
// error (plain text "session not found", the go-sdk's plain-text stateful
// rejection) or a JSON-RPC error coded -32000, -32600, -32001 or -32002 (the
// TypeScript SDK's "Bad Request: Server not initialized" and "Mcp-Session-Id
// header is required", the Python SDK's "Missing session ID") is answered
// with the SEP-2575 error: 400, -32022, data {"supported":
// mcpwire.SessionVersions, "requested": v}, so that the client falls back
// to initialize, as it does on the stdio and bridged routes. An upstream
// that answers -32022 itself (the go-sdk's stateful server lists its own
// versions) and every other answer pass through untouched. The rule looks
// at each answer and keeps no per-route memory: an upstream upgraded to
// 2026-07-28, a load-balanced mix during a rolling upgrade, or replicas
// that never saw the upstream before all get the right answer at the cost
// of one upstream round trip per refused request (once per client
// connection: the client then initializes). Not checked: a 2026-07-28
// server that answers -32600 or -32000 to a sessionless request for another
// reason also sends its client to initialize, which such servers serve too.
//
// # Legacy HTTP+SSE upstreams
//
// With Transport "sse" the gateway still speaks Streamable HTTP to clients.
// An initialize POST opens the upstream's SSE stream, reads its endpoint
// event and creates a bridge session; client messages, requests, their
// notifications and their responses to server requests alike, are POSTed
// to that endpoint (202), and what the upstream stream carries (each event
// parsed with mcpwire.ParseMessage) is routed so:
//
//   - a response goes to the client POST whose request it answers, matched
//     by mcpwire.Key (1, 1.0 and 1e0 are one id), as an SSE response (the
//     bridge answers client requests with SSE whatever their Accept says;
//     clients must accept both);
//   - notifications/progress follows the request that set its
//     progressToken (keyed the same way);
//   - a server-to-client request (sampling, elicitation, roots/list) goes
//     to the POST stream of the client request in flight when exactly one
//     POST has requests in flight (the legacy transport does not say which
//     request caused it; with one in flight, it is that one); otherwise to
//     the client's GET stream if one is open; otherwise the bridge answers
//     it upstream itself with a JSON-RPC error (-32603 "the gateway cannot
//     route this server request: no client stream"), so the tool call
//     waiting on it fails at once instead of hanging. A server request
//     queued for a stream that ends before delivering it is refused the same
//     way;
//   - other notifications go to the GET stream (a bounded buffer kept for a
//     GET to come; overflow is dropped and logged), or, while no GET stream
//     is open, to the only POST in flight.
//
// A bridge session lives in one replica's memory: HTTP+SSE upstreams need
// sticky sessions or a single replica (another replica answers 404 and the
// client re-initializes). Bridge sessions end on DELETE, after
// SessionIdleTimeout without requests or streams, when the upstream stream
// ends (pending requests then get a JSON-RPC error), and on Close. A client
// that disconnects before its responses makes the bridge send
// notifications/cancelled upstream. Last-Event-ID is not supported by the
// bridge (the legacy transport has no resumption). Sessionless 2026-07-28
// requests are refused with the SEP-2575 error listing
// mcpwire.SessionVersions, so clients fall back to initialize.
//
// # Limits
//
// Timeout bounds the wait for the upstream's response headers (504 after)
// and the identity injector; streams then run until either side ends them,
// the client disconnects (which cancels the upstream request) or
// [Proxy.Close]. Requests and streams in flight per principal are capped
// in front of the proxy, by the gateway (max_streams_per_principal, on
// every route kind). Bridge sessions outlive requests: each principal
// (issuer and subject) may have MaxSessionsPerPrincipal of them (429 with
// Retry-After beyond), and MaxSessions caps them all (503 beyond). Upstream SSE events are
// capped at mcpwire.DefaultMaxEventBytes; non-2xx upstream bodies at 64 KiB.
//
// Not checked here: Mcp-Method / Mcp-Name consistency with the body and
// per-tool scopes (middleware in front of the proxy does that), Origin, the
// token itself (the gateway's bearer middleware), and the body's size and
// syntax (call.Read).
package httpproxy
