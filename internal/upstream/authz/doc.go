// Package authz is the gateway's per-operation authorization at the HTTP
// layer of an MCP route: it sits after the bearer middleware (which checked
// the token and the route's required scopes) and call.Read (which read and
// parsed the body once), before the upstream (built-in, HTTP or stdio),
// and it
//
//   - refuses a tools/call, prompts/get, resources/read, resources/subscribe
//     (session generation), subscriptions/listen or completion/complete
//     whose tool, resource or prompt needs scopes the caller's token lacks,
//     through Options.Deny (the gateway answers 403 insufficient_scope
//     naming every scope the operation needs: RFC 6750 §3.1, MCP 2025-11-25
//     authorization, "Scope challenge handling"), matching names under the
//     equivalences an upstream may apply (see [Policy]);
//   - filters the results of tools/list, resources/list,
//     resources/templates/list and prompts/list to what the caller may use,
//     in application/json responses and, event by event, in
//     text/event-stream responses (MCP transports, "Streamable HTTP"), and
//     under 2026-07-28 marks them, and reads of restricted resources,
//     cacheScope "private" (MCP 2026-07-28 "Caching": they depend on the
//     caller);
//   - refuses JSON-RPC batches where the protocol version has none and
//     checks the 2026-07-28 Mcp-Method / Mcp-Name headers against the
//     body, so that nothing behind the gateway can be made to authorize one
//     operation while executing another.
//
// The invariant it keeps: no response reaches a client unless its request
// passed the policy. In detail:
//
//  1. A message of a governed method reaches the upstream only if the
//     caller holds every scope its tool, prompt or resource needs under
//     every spelling the upstream may treat as the same name; what cannot
//     be read is refused, never forwarded.
//  2. On a route with rules, every JSON-RPC response in the answer to a
//     POST answers a request of that POST (ids compared as
//     [mcpwire.KeyOf] does, then spelled as the request spelled its id),
//     and a list request's result carries only the entries the caller may
//     use; GET streams, whose responses are replays, are filtered by the
//     shape of each result. Events reach the client in a form every
//     client's SSE reader reads alike (LF line ends).
//  3. What cannot be parsed, matched or inspected is not forwarded: a JSON
//     answer becomes 502 with a JSON-RPC internal error, and an event
//     stream gets an error event (-32603, "upstream response could not be
//     authorized") for each request not answered yet and then ends. Only
//     a non-2xx answer that is not JSON-RPC at all (a transport error
//     page, such as a plain-text 404 for an unknown session) passes as
//     it is: clients read no response out of it.
//
// FuzzAuthzInvariant checks this against an independent policy oracle.
//
// A caller holds a scope it was granted or one that a granted scope
// implies (scope_implies; MCP 2026-07-28: "a broader scope implies
// narrower ones"): the principal's MissingScopes decides, for calls and
// list filtering alike (see authn.ScopeImplications).
//
// It authorizes on the JSON-RPC body, never on headers. It does not check
// Origin, tokens, audiences or the route's required scopes (the gateway
// does), Mcp-Param-* headers (forwarded unchanged; the upstream validates
// them against its tool schemas), MCP-Protocol-Version against
// _meta.protocolVersion (except that resources/subscribe is only left to
// the upstream when both say 2026-07-28 or later), the semantics of
// arguments, or the results of methods other than the four lists beyond
// their ids (a resources/read result is forwarded as is but for
// cacheScope).
package authz
