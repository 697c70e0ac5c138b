package authn

import (
	"fmt"
	"time"
)

// Principal is the verified identity of an access token (RFC 9068 §2.2).
// It is produced only after every check in Verifier.Verify passed.
type Principal struct {
	// Subject is the "sub" claim (or the profile's subject claim).
	Subject string
	// ClientID is the OAuth client the token was issued to (client_id,
	// cid, azp or appid per profile); "" if the profile allows none.
	ClientID string
	// Username is the IdP's human-readable user name when it provides one
	// (Cognito "username", Okta "sub", Keycloak "preferred_username"),
	// else "".
	Username string
	// Scopes are the granted scopes, merged from the profile's scope
	// claims, duplicates removed, in token order: what the token says,
	// never expanded by ScopeImplications. Identity injection (headers,
	// environment, tokens minted for an upstream) forwards these.
	Scopes []string
	// ScopeImplications is the scope hierarchy of the policy that verified
	// the token (Policy.ScopeImplications), which MissingScopes honours;
	// nil means exact comparison. It is shared and read-only.
	ScopeImplications *ScopeImplications
	// Issuer is the "iss" claim, equal to the configured issuer.
	Issuer string
	// Audience is the "aud" claim as a list; empty for a token accepted
	// without aud (Policy.InsecureAllowMissingAudience).
	Audience []string
	// Expiry is "exp"; IssuedAt is "iat" or the zero time when absent.
	Expiry   time.Time
	IssuedAt time.Time

	// payload is the verified JWT payload (JSON), decoded by Claims. It
	// shares one buffer with the token's decoded header and signature.
	payload []byte
	// token is the access token the principal was verified from; a
	// pointer, so that fmt prints an address rather than the token when a
	// Principal value is formatted.
	token *string
}

// AccessToken returns the access token this principal was verified from,
// "" for a Principal not made by Verifier.Verify. It exists for one use:
// the subject token of a token exchange at the authorization server that
// issued it (RFC 8693 §2.1; Entra's on-behalf-of assertion). It must never
// be logged or sent to an upstream (MCP authorization, "Token
// Passthrough").
func (p *Principal) AccessToken() string {
	if p.token == nil {
		return ""
	}
	return *p.token
}

// Claims decodes the token's payload on demand and returns every claim as
// decoded JSON; numbers are json.Number so large integers keep their
// precision. Verify does not build this map (it reads only the claims its
// checks need), so each call decodes the payload again and returns a new
// map that the caller may modify. It returns nil for a Principal not made
// by Verifier.Verify.
func (p *Principal) Claims() map[string]any {
	if p.payload == nil {
		return nil
	}
	claims, err := decodeObject(p.payload)
	if err != nil { // not reached: Verify accepted the payload
		return nil
	}
	return claims
}

// MissingScopes returns the scopes in required that p does not hold, in
// the given order, or nil if none are missing (RFC 6750 §3.1
// insufficient_scope). p holds a scope it was granted, or one implied by a
// granted scope through p.ScopeImplications (MCP 2026-07-28: "a broader
// scope implies narrower ones"). Comparison is exact and case-sensitive
// (RFC 6749 §3.3): no wildcards, prefixes or case folding. It allocates
// only when a scope is missing.
func (p *Principal) MissingScopes(required []string) []string {
	return p.ScopeImplications.Missing(p.Scopes, required)
}

// String names the principal for logs: subject, client and issuer, never
// the token (fmt's %v and %+v would otherwise print it).
func (p *Principal) String() string {
	return fmt.Sprintf("principal{sub=%q client=%q iss=%q}", p.Subject, p.ClientID, p.Issuer)
}
