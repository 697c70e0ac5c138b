// Package devidp is the development authorization server started by
// `mcp-gateway dev` next to the gateway (default 127.0.0.1:8081).
//
// It is NOT FOR PRODUCTION. It exists so that real MCP clients (the
// TypeScript SDK auth() flow, the MCP Inspector, Claude Code) can complete a
// full OAuth 2.1 flow against a local gateway without any cloud identity
// provider:
//
//   - RFC 8414 authorization server metadata (also served as an OpenID
//     Connect discovery document),
//   - RFC 7591 dynamic client registration (in memory),
//   - the authorization code grant with PKCE S256 (RFC 7636), auto-approved:
//     /authorize redirects straight back with a code, there is no login page
//     and no consent screen; the user is whoever `login_hint` names,
//   - RFC 8707 resource indicators, turned into the `aud` of RFC 9068 JWT
//     access tokens signed with a per-process RS256 key published at /jwks,
//   - rotating refresh tokens and, for one pre-registered confidential dev
//     client, the client credentials grant,
//   - RFC 9207 `iss` in authorization responses, RFC 7009 revocation of
//     refresh tokens.
//
// What it deliberately does not do: authenticate users, ask for consent,
// persist anything (clients, codes and refresh tokens live in memory and
// vanish on restart; the signing key is regenerated on every start), RFC 7592
// client management, request objects (RFC 9101), PAR (RFC 9126), DPoP
// (RFC 9449), mTLS, rate limiting, or refresh-token family revocation on
// reuse. Errors follow RFC 6749 §5.2 and are produced by writeError only.
package devidp
