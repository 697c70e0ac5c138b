package authn

import "time"

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
	// claims, duplicates removed, in token order.
	Scopes []string
	// Issuer is the "iss" claim, equal to the configured issuer.
	Issuer string
	// Audience is the "aud" claim as a list; empty for a token accepted
	// without aud (Policy.InsecureAllowMissingAudience).
	Audience []string
	// Expiry is "exp"; IssuedAt is "iat" or the zero time when absent.
	Expiry   time.Time
	IssuedAt time.Time
	// Claims holds every payload claim as decoded JSON; numbers are
	// json.Number so large integers keep their precision.
	Claims map[string]any
}

// MissingScopes returns the scopes in required that p was not granted, in
// the given order, or nil if none are missing (RFC 6750 §3.1
// insufficient_scope). Comparison is exact and case-sensitive (RFC 6749
// §3.3); it does not understand scope hierarchies or wildcards.
func (p *Principal) MissingScopes(required []string) []string {
	var missing []string
	for _, r := range required {
		if !p.hasScope(r) {
			missing = append(missing, r)
		}
	}
	return missing
}

func (p *Principal) hasScope(s string) bool {
	for _, g := range p.Scopes {
		if g == s {
			return true
		}
	}
	return false
}
