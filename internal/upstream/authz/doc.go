// Package authz is the gateway's per-operation authorization at the HTTP
// layer of an MCP route: it sits after the bearer middleware (which checked
// the token and the route's required scopes) and before the upstream
// (built-in, HTTP or stdio), and it
//
//   - refuses a tools/call, resources/read, resources/subscribe,
//     resources/unsubscribe, prompts/get or completion/complete whose tool,
//     resource or prompt needs scopes the caller's token lacks, through
//     Options.Deny (the gateway answers 403 insufficient_scope naming every
//     scope the operation needs: RFC 6750 §3.1, MCP 2025-11-25
//     authorization, "Scope challenge handling");
//   - filters the results of tools/list, resources/list,
//     resources/templates/list and prompts/list to what the caller may use,
//     in application/json responses and, event by event, in
//     text/event-stream responses (MCP transports, "Streamable HTTP");
//   - validates the JSON-RPC framing (one message, or a batch where the
//     protocol version allows one) and the 2026-07-28 Mcp-Method / Mcp-Name
//     headers against the body, so that nothing behind the gateway can be
//     made to authorize one operation while executing another.
//
// It authorizes on the JSON-RPC body, never on headers. It does not check
// Origin, tokens, audiences or the route's required scopes (the gateway
// does), Mcp-Param-* headers (forwarded unchanged; the upstream validates
// them against its tool schemas), MCP-Protocol-Version against
// _meta.protocolVersion, or the semantics of arguments.
package authz
