// Package tokenexchange obtains, from the authorization server that issued
// a client's access token, a new token minted for one upstream: RFC 8693
// token exchange, or Microsoft Entra ID's on-behalf-of flow (an RFC 7523
// jwt-bearer grant with requested_token_use=on_behalf_of, which Entra uses
// instead of RFC 8693).
//
// An [Exchanger] posts one grant to the token endpoint through
// golang.org/x/oauth2 (its client-credentials request, with grant_type and
// the grant's parameters set; x/oauth2 documents grant_type as
// overridable): no hand-written form posts or token-response parsing. It
// authenticates as a confidential client, with a secret (RFC 6749 §2.3.1,
// client_secret_basic or client_secret_post) or a signed assertion (RFC 7523
// §2.2 and §3, private_key_jwt). A [Cache] keeps issued tokens until shortly
// before they expire and single-flights concurrent exchanges per key.
//
// The package knows nothing of HTTP requests to the gateway or of JWT
// verification: it does not verify the issued token (the upstream does),
// and the subject token is whatever the caller verified. Who may ask for
// what is the authorization server's decision; a refusal is an [*Error].
package tokenexchange
