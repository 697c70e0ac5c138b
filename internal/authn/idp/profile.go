// Package idp describes, as data, how each supported identity provider shapes
// its JWT access tokens: where scopes, the client id, the subject and the
// username live, which claims mark a token as an access token, and which
// claims betray an OpenID Connect ID token (OIDC Core 1.0 §2) that must never
// be accepted as an access token (RFC 9068 §4).
//
// The verifier in package authn never branches on a provider's name; every
// quirk is a field of Profile, filled in by one file per provider.
//
// A Profile is not a trust decision: it does not choose the issuer, the
// accepted audiences or the signing keys. Those come from configuration.
package idp

import (
	"errors"
	"fmt"
	"sort"
)

// Profile is the shape of one identity provider's JWT access tokens.
//
// Claim values named by ScopeClaims may be a space-separated string
// (RFC 8693 §4.2 "scope") or a JSON array of strings (Okta "scp", Auth0
// "permissions", Entra "roles"). A Profile does not say which scopes a
// resource requires; that is policy.
type Profile struct {
	// Name is the provider name accepted by Lookup.
	Name string
	// SubjectClaim names the claim holding the subject (RFC 7519 §4.1.2);
	// it must be a non-empty string. Empty means "sub".
	SubjectClaim string
	// ScopeClaims are read in order and merged (duplicates dropped).
	ScopeClaims []string
	// ClientIDClaims are tried in priority order; the first non-empty string
	// wins (RFC 9068 §2.2 client_id, OIDC azp, Okta cid, Entra v1 appid).
	ClientIDClaims []string
	// RequireClientID rejects tokens in which no ClientIDClaims claim is set.
	// ID tokens of most providers carry no client-id claim (only aud), so
	// this is also an ID-token guard.
	RequireClientID bool
	// UsernameClaims are tried in order; the first non-empty string is the
	// Principal's Username. None set means no username.
	UsernameClaims []string
	// RequiredClaims are token-type markers: each claim must be present and
	// be a string equal to the value (Cognito token_use=access, Keycloak
	// typ=Bearer).
	RequiredClaims map[string]string
	// ForbiddenClaims reject the token when present at all (ID-token signs
	// such as nonce, at_hash, c_hash: OIDC Core 1.0 §2, §3.1.3.6).
	ForbiddenClaims []string
	// ForbiddenClaimValues reject the token when the claim is a string equal
	// to one of the values (case-sensitive).
	ForbiddenClaimValues map[string][]string
	// MayOmitAudience says the provider issues access tokens without "aud"
	// (Cognito, unless managed login received an RFC 8707 resource
	// parameter). It accepts nothing by itself: a token without aud passes
	// only when the verifier's policy opts in (authn.Policy
	// InsecureAllowMissingAudience), all RequiredClaims hold and the client
	// id is allow-listed. It never admits a token whose aud is present but
	// names another resource.
	MayOmitAudience bool
	// TypHeaders lists accepted JOSE "typ" header values (RFC 7515 §4.1.9),
	// compared case-insensitively after dropping an "application/" prefix.
	// "" means the header may be absent. An empty list accepts any typ.
	TypHeaders []string
}

// Validate reports a Profile that cannot be enforced safely. It does not
// check that the profile matches what the provider really issues.
func (p Profile) Validate() error {
	var errs []error
	if p.Name == "" {
		errs = append(errs, errors.New("idp: profile has no name"))
	}
	if p.MayOmitAudience && len(p.RequiredClaims) == 0 {
		errs = append(errs, fmt.Errorf("idp: profile %q: MayOmitAudience needs a token-type marker in RequiredClaims", p.Name))
	}
	if p.MayOmitAudience && !p.RequireClientID {
		errs = append(errs, fmt.Errorf("idp: profile %q: MayOmitAudience needs RequireClientID", p.Name))
	}
	if p.RequireClientID && len(p.ClientIDClaims) == 0 {
		errs = append(errs, fmt.Errorf("idp: profile %q: RequireClientID without ClientIDClaims", p.Name))
	}
	return errors.Join(errs...)
}

// Subject returns the claim name holding the subject ("sub" by default).
func (p Profile) Subject() string {
	if p.SubjectClaim == "" {
		return "sub"
	}
	return p.SubjectClaim
}

// idTokenClaims are claims that only OIDC ID tokens carry (OIDC Core 1.0
// §2 nonce, §3.1.3.6 at_hash, §3.3.2.11 c_hash, s_hash from FAPI).
func idTokenClaims() []string { return []string{"nonce", "at_hash", "c_hash", "s_hash"} }

// defaultTyps are the "typ" headers providers use on access tokens:
// RFC 9068 §2.1 "at+jwt", the common "JWT", or none.
func defaultTyps() []string { return []string{"", "jwt", "at+jwt"} }

// registry maps a provider name to a constructor, so every Lookup returns a
// fresh copy that callers may modify.
var registry = map[string]func() Profile{
	"cognito":  cognito,
	"okta":     okta,
	"auth0":    auth0,
	"entra":    entra,
	"keycloak": keycloak,
	"generic":  generic,
}

// Lookup returns the profile for a provider name ("cognito", "okta",
// "auth0", "entra", "keycloak", "generic"). Names are case-sensitive.
func Lookup(name string) (Profile, bool) {
	f, ok := registry[name]
	if !ok {
		return Profile{}, false
	}
	return f(), true
}

// Names returns the supported provider names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
