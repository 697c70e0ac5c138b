// Package authn verifies JWT access tokens (RFC 9068, RFC 7519, RFC 7515)
// for an OAuth 2.1 resource server, with keys discovered from the issuer's
// metadata (OIDC Discovery 1.0 §4, RFC 8414 §3) and cached from its JWKS
// (RFC 7517).
//
// It knows nothing of HTTP serving: callers pass the raw token string and map
// the errors (ErrInvalidToken -> 401 invalid_token, ErrKeysUnavailable ->
// 503). Provider quirks live as data in package idp.
//
// Not covered here: token introspection (RFC 7662), opaque tokens, JWE
// (encrypted) tokens, DPoP or mTLS sender constraints (RFC 9449, RFC 8705),
// and revocation: a signed token is valid until it expires.
package authn
