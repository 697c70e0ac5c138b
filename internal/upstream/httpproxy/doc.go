// Package httpproxy fronts one upstream MCP server reached over HTTP: it
// proxies the Streamable HTTP transport (MCP 2025-03-26 through 2026-07-28,
// "Transports" §Streamable HTTP) faithfully, and bridges the legacy HTTP+SSE
// transport (MCP 2024-11-05, "Transports" §HTTP with SSE) to Streamable HTTP
// clients.
//
// # What reaches the upstream
//
// Only an allowlist of request headers is forwarded: Content-Type, Accept,
// MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name, every
// Mcp-Param-* header (unknown ones included, unchanged), User-Agent and
// Accept-Language. Authorization, Cookie, Proxy-Authorization, Forwarded and
// X-Forwarded-* never pass; hop-by-hop headers (RFC 9110 §7.6.1) and headers
// named in Connection are dropped. The configured [Injector] then adds what
// the upstream should know of the caller. The proxy sets no X-Forwarded-*
// headers of its own: the caller's address is not the upstream's business and
// the only identity an upstream should trust is the Injector's signed one.
// The client's query string is not forwarded: the upstream URL is fixed.
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
// text/event-stream bodies are copied event by event, flushing after each, so
// progress notifications arrive while the tool still runs; an upstream that
// dies mid-stream ends the client's stream after the last complete event.
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
// # Legacy HTTP+SSE upstreams
//
// With Transport "sse" the gateway still speaks Streamable HTTP to clients.
// An initialize POST opens the upstream's SSE stream, reads its endpoint
// event and creates a bridge session; client messages are POSTed to that
// endpoint, and responses read from the upstream stream are routed back by
// JSON-RPC id to the client POST that asked (as an SSE response);
// notifications/progress follow the request that set their progressToken;
// the bridge answers client requests with SSE whatever their Accept says
// (clients must accept both); other server-initiated messages go to the
// client's GET stream (bounded
// buffer; overflow is dropped and logged). A bridge session lives in one
// replica's memory: HTTP+SSE upstreams need sticky sessions or a single
// replica (another replica answers 404 and the client re-initializes). Bridge
// sessions end on DELETE, after SessionIdleTimeout without requests or
// streams, when the upstream stream ends, and on Close. Last-Event-ID is not
// supported by the bridge (the legacy transport has no resumption).
// Sessionless 2026-07-28 requests are refused with the SEP-2575
// unsupported-protocol-version error listing the 2025 versions, so clients
// fall back to initialize.
//
// # Limits
//
// Timeout bounds the wait for the upstream's response headers (504 after);
// streams then run until either side ends them, the client disconnects
// (which cancels the upstream request) or [Proxy.Close]. Request bodies are
// read whole, up to MaxBodyBytes (413 beyond): a POST carries one JSON-RPC
// message whose id the proxy needs for its own error responses, and the
// bridge routes by it. Each principal (issuer and subject) may have
// MaxStreamsPerPrincipal requests and streams in flight (429 with
// Retry-After beyond); an open bridge session counts as one stream.
//
// Not checked here: Mcp-Method / Mcp-Name consistency with the body and
// per-tool scopes (middleware in front of the proxy does that), Origin, and
// the token itself (the gateway's bearer middleware).
package httpproxy
