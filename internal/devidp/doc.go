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
//   - RFC 7591 dynamic client registration (in memory) and Client ID
//     Metadata Documents (an https URL as client_id, fetched with the
//     internal/dcr/cimd fetcher; public clients),
//   - the authorization code grant with PKCE S256 (RFC 7636), auto-approved:
//     /authorize redirects straight back with a code, there is no login page
//     and no consent screen; the user is whoever `login_hint` names,
//   - RFC 8707 resource indicators, turned into the `aud` of RFC 9068 JWT
//     access tokens signed with a per-process RS256 key published at /jwks,
//   - rotating refresh tokens and, for one pre-registered confidential dev
//     client, the client credentials grant and RFC 8693 token exchange of
//     this server's own access tokens for configured upstream audiences
//     (Options.ExchangeTargets), with `act` naming the dev client,
//   - RFC 9207 `iss` in authorization responses, RFC 7009 revocation of
//     refresh tokens.
//
// It stays local: it binds to loopback (cmd/mcp-gateway), admits only
// loopback http(s) redirect URIs and native apps' private-use schemes (never
// a web site, and no scheme a web page can claim; see validateRedirectURI),
// and answers browsers only from loopback origins (see checkOrigin). So a
// web page the developer visits can neither register a client that
// receives the auto-approved dev user's code nor read any answer.
//
// Scopes and step-up: an authorization request may name any configured
// scope (and openid, profile, email, offline_access), whatever the client
// registered or its metadata document says; a request naming none of the
// configured scopes gets all of them. A client that needs more scope after a
// 403 insufficient_scope simply authorizes again with the wider scope, with
// the same registration; a refresh may only narrow the original grant.
//
// What it deliberately does not do: authenticate users, ask for consent,
// persist anything (clients, codes and refresh tokens live in memory and
// vanish on restart; the signing key is regenerated on every start), RFC 7592
// client management, request objects (RFC 9101), PAR (RFC 9126), DPoP
// (RFC 9449), mTLS, rate limiting, or refresh-token family revocation on
// reuse. Errors follow RFC 6749 §5.2 and are produced by writeError only.
package devidp
