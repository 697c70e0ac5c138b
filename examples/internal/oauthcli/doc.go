// Package oauthcli holds what the example MCP OAuth clients
// (examples/auto-client and examples/static-client) share: the numbered
// step log on stderr and the HTTP transport that feeds it (secrets never
// printed), the "open: <url>" prompt and the system browser, the loopback
// redirect receiver (RFC 8252 §7.3, state checked), the flag helpers and
// exit statuses, and the MCP session that lists and calls tools.
//
// What differs between the examples stays in them: discovery, registration
// and PKCE through the go-sdk's AuthorizationCodeHandler (auto-client);
// go-oidc discovery, a confidential client and ID token checks
// (static-client).
package oauthcli
