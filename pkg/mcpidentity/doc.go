// Package mcpidentity carries the identity of the caller that an MCP gateway
// verified to the upstream MCP server behind it, in a form the upstream can
// check, without ever forwarding the caller's access token (MCP
// authorization, "Token Passthrough" is forbidden; RFC 8707 audience
// binding). It is the wire format and both sides of it: signers for the
// gateway and verifiers plus a net/http middleware for upstreams. It
// depends on the standard library and pkg/oauthmeta (itself standard
// library only), so an upstream can import it without the gateway.
//
// # Two modes
//
// HMAC mode (a key shared by gateway and upstream, at least 32 bytes) sends
// one header per field, readable by humans and by upstreams that only log:
//
//	MCP-Gateway-Subject:   the token's subject ("sub")
//	MCP-Gateway-Client-Id: the OAuth client id; omitted when empty
//	MCP-Gateway-Scopes:    granted scopes, space-separated (RFC 6749 §3.3); omitted when none
//	MCP-Gateway-Issuer:    the token's issuer ("iss")
//	MCP-Gateway-Audience:  the upstream this header set is meant for
//	MCP-Gateway-Issued:    when the gateway signed, unix seconds
//	MCP-Gateway-Expires:   unix seconds; at most Issued + 5 minutes and never after the token's exp
//	MCP-Gateway-Nonce:     22 characters of base64url (128 random bits), unique per request
//	MCP-Gateway-Signature: v1=<base64url, unpadded, HMAC-SHA256 over the canonical string>
//
// The canonical string (version 1) is the line "mcp-gateway-identity-v1"
// followed by one line per field in the order audience, issuer, subject,
// client id, scopes, issued, expires, nonce; each line is the field's
// length in bytes in decimal, a colon, and the exact header value; lines
// end with "\n" (see testdata/canonical_v1.golden). Length prefixes make it
// unambiguous whatever the values contain. Values must be printable ASCII
// (RFC 9110 §5.5 field-vchar and SP) without leading or trailing spaces,
// because proxies may rewrite anything else; [HMACSigner.Sign] refuses other
// values rather than encode them. Every supported IdP's sub, client id,
// scopes and iss are ASCII; use JWS mode for anything else.
//
// JWS mode (an Ed25519 key pair: only the gateway can sign, any upstream
// can verify) sends one header, MCP-Gateway-Identity, holding an RFC 7515
// compact JWS with header {"alg":"EdDSA","typ":"mcp-gateway-identity+jwt"}
// (plus "kid" when set) and RFC 7519 claims sub, client_id, scope
// (space-separated), iss, aud (a single string), iat, exp and jti.
//
// # What is bound, and what is not
//
// The signature binds the identity to one audience (a header set made for
// upstream A is refused by upstream B) and to a short window (default 5
// minutes after Issued, and never after the token's expiry). It does not
// bind the request method, path or body: MCP streams (SSE responses, GET
// streams, long POSTs) make a body hash impractical for a proxy that must
// not buffer, and the identity is a statement about who is calling, not
// about what was sent. Consequently, someone who can read a request between
// the gateway and the upstream can replay its identity headers to that
// same upstream until they expire; run that hop on loopback, a private
// network or TLS, or plug a nonce store in with [WithReplayCheck] (the nonce
// and jti are unique per request). The headers carry no token and no
// secret.
//
// Verifiers also refuse: missing or duplicated headers, any MCP-Gateway-*
// header that the mode does not define (an unsigned header in the signed
// namespace is a forgery attempt), a wrong audience, an expired identity
// (with a leeway, default 30s), an Issued time in the future beyond the
// leeway, and an identity older than the maximum age. They do not check
// scopes: that is the upstream's authorization, see [Identity.HasScope].
package mcpidentity
