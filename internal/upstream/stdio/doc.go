// Package stdio serves a stdio MCP server (a local command speaking
// newline-delimited JSON-RPC on stdin/stdout, MCP 2025-06-18 and 2025-11-25
// "Transports §stdio") to remote clients over Streamable HTTP (same section,
// "Streamable HTTP"), as one route of the gateway.
//
// # One process per session
//
// Every MCP session gets its own child process. A session starts with an
// initialize POST that carries no Mcp-Session-Id; the gateway starts the
// command, forwards the initialize, and answers with a new Mcp-Session-Id.
// DELETE, an idle session (Options.IdleTimeout without any HTTP request in
// flight), eviction by a newer session (see Limits), the process exiting,
// or [Server.Close] end the session and stop its process. Why not one shared process: stdio servers are single-client by
// design (one initialize, one capability negotiation, per-client state such
// as subscriptions, roots, log level and request ids), and a session is bound
// to the one principal that opened it, so one process per session also
// isolates users from each other: the process's environment may carry the
// caller's identity (Options.Identity) and never holds another user's data.
// The cost is a process per session, capped per route and per principal
// (see Limits). Because each process talks to exactly one client, JSON-RPC
// ids pass through unchanged.
//
// # Limits
//
// Options.MaxProcessesPerPrincipal (default 4) caps the sessions of one
// principal (issuer and subject), Options.MaxProcesses (default 16) those of
// the route. A session is idle while no HTTP request of it is in flight: a
// ping or a call makes it busy only while it runs, so a client cannot keep
// sessions out of reach by pinging them, while an open GET stream does keep
// its session busy. An initialize of a principal at its own cap ends that
// principal's least recently used idle session (by the last time a request
// of it started or ended) and takes its place, or gets 429 with a JSON-RPC
// error and Retry-After if all of them are busy. On a full route the
// principal's own least recently used idle session goes first, then the
// least recently used idle session of the principal holding the most
// sessions, provided it holds more than the caller (so nobody can push out
// a principal holding fewer sessions than they do); otherwise 503 with
// Retry-After. The ended session's process is stopped before the new one
// starts, so the caps hold for processes too, and its id then gets 404,
// which tells its client to initialize again. Refusals are recorded on the
// request's observe record (reason processes).
//
// Options.Timeout (the route's timeout, default 60s) bounds each POST with
// requests until its answer starts, i.e. until the child sent the first
// message for it (a progress notification counts). Past it, its requests
// get a JSON-RPC error (-32603, with their ids) with HTTP 504, the child
// gets notifications/cancelled for each, and the session goes on; an
// answer the child still sends for them is dropped (a client that reuses
// such an id before that answer came may get it instead). A stream that
// has started is never cut. An initialize that times out is not cancelled
// (the spec forbids it): its session is ended and its process stopped.
//
// # A faithful relay
//
// The POST body is the one the gateway's front (call.Read) read, capped and
// parsed once with internal/mcpwire's strict parser; the relay takes it, and
// the principal, from call.From and never reads the request body itself.
// Messages are relayed as raw JSON, never re-encoded beyond removing
// insignificant whitespace (one message per line on stdin: the stdio
// transport forbids embedded newlines). Responses are matched to requests
// by mcpwire.Key, so an id the child spells differently (1 for 1.0) still
// answers its request. A POST that holds
// only notifications or responses is written to the child and answered 202.
// A POST with requests is answered as an SSE stream (text/event-stream; the
// client must accept it, else 406) that carries the responses to exactly its
// requests and the notifications/progress messages whose progressToken one of
// them set; the stream ends after the last response. stdio gives no other
// way to tell which request a server message belongs to, so every other
// message from the child (log messages, list_changed notifications, and
// server-to-client requests such as sampling, elicitation or roots/list) goes
// to the standalone GET stream when one is open, else to the most recently
// opened POST stream that is still connected and waiting, else it is kept
// (last 256 messages) for the next GET. Each SSE event has an id
// "<stream>_<n>"; a GET with Last-Event-ID resumes a stream whose connection
// dropped, replaying the retained events after n (MCP 2025-11-25,
// "Resumability and Redelivery"). Response headers are sent with the first
// event, so a request whose process dies before answering gets HTTP 502 with
// a JSON-RPC error body.
//
// A client disconnecting is not a cancellation (MCP 2025-11-25 says so): the
// stream is kept for Options.ResumeWindow (default 30s) so the client can
// resume it. If nobody resumes it in time, the gateway sends the child
// notifications/cancelled for each of its unanswered requests and forgets the
// stream. A negative ResumeWindow cancels at once.
//
// # Protocol generations
//
// The 2025 generations (2024-11-05 through 2025-11-25, over Streamable HTTP)
// are served as described. JSON-RPC batches are relayed only when the
// negotiated version is 2025-03-26 or earlier. The sessionless 2026-07-28
// generation is not served by a stdio route: a stdio server is a stateful
// per-client process and there is no session to bind it to (running a process
// per request would repeat the initialize handshake with the child on every
// call). A POST that announces MCP-Protocol-Version 2026-07-28 or later
// outside a session (server/discover, or any request) gets HTTP 400 with the
// JSON-RPC error -32022 (UnsupportedProtocolVersion) whose data lists the
// supported versions; clients that implement the spec's fallback (the Go and
// TypeScript SDKs do) then use the 2025 initialize handshake. GET of that
// generation gets 405.
//
// # Crashes, restart and backoff
//
// If the process exits while the session is live, every request of the
// session still waiting gets a JSON-RPC error (-32603, "upstream process
// exited") on its stream, or HTTP 502 if nothing was written to it yet; the
// session is ended and later requests with its Mcp-Session-Id get 404, which
// tells the client to initialize again. The process is not restarted in place,
// because the client believes the server holds the state it negotiated; the
// new initialize starts a fresh process: that is the restart. Crashes are
// backed off per route: when a process cannot be started, or exits on its own
// before it answered initialize or within 10s of starting, the count of
// consecutive failures n grows (an exit after a longer run sets n to 1, a stop
// by the gateway resets it to 0), and for min(RestartBackoff*2^(n-1), 30s) after
// the exit no new process is started: initialize requests get 503 with
// Retry-After. Sessions already running are not affected.
//
// # Environment, logs, shutdown
//
// The child gets only PATH, HOME and LANG from the gateway's environment, plus
// Options.Env and the variables of Options.Identity (an identity.Injector
// applied once per process; identity.Env turns its headers into variables,
// so MCP-Gateway-Subject becomes MCP_GATEWAY_SUBJECT): never the gateway's
// secrets, and never a token. Its stderr is logged line by line (lines cut at 4 KiB) with its pid
// and session. Each child runs in its own process group; stopping it closes
// its stdin and sends SIGTERM to the group, then SIGKILL after
// Options.StopTimeout (default 5s), and reaps it. [Server.Close] stops every
// child that way and waits for them and for every goroutine it started.
//
// # What is not checked
//
// Origin, the bearer token, scopes (route, tool, resource, prompt) and the
// number of streams per principal are the gateway's job in front of this
// handler; Mcp-Method/Mcp-Name headers belong to the 2026-07-28 generation,
// which is not served here. The child's stdout lines are parsed with the
// same strict parser (a line it refuses is logged and dropped); their
// content is not checked. Sessions live in the
// memory of one gateway replica: behind several replicas a stdio route needs
// session affinity on Mcp-Session-Id (unlike HTTP upstreams, a local process
// cannot be reached from another replica).
package stdio
