package authn

// The claim checks and Verify of the reference path; see legacy_jose_test.go.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
)

// legacyMaxNumericDate is 9999-12-31T23:59:59Z; later dates are nonsense and
// would overflow time arithmetic.
const legacyMaxNumericDate = 253402300799

// legacyNumericDate reads a NumericDate claim (RFC 7519 §2): a JSON number of
// seconds, possibly fractional, within [0, year 9999]. Strings, booleans,
// null, NaN/Inf and out-of-range numbers are rejected (ReasonExpired: it
// reads only the time claims).
func legacyNumericDate(claims map[string]any, name string) (t time.Time, present bool, err error) {
	v, present := claims[name]
	if !present {
		return time.Time{}, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, true, invalidClaim(ReasonExpired, name, "is not a number")
	}
	f, perr := n.Float64()
	if perr != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > legacyMaxNumericDate {
		return time.Time{}, true, invalidClaim(ReasonExpired, name, "is out of range")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
}

// legacyCheckTimes applies RFC 7519 §4.1.4 exp (required), §4.1.5 nbf and §4.1.6
// iat (optional) with leeway: now must be before exp+leeway, not before
// nbf-leeway, and iat must not be later than now+leeway. It does not
// enforce a maximum token lifetime.
func legacyCheckTimes(claims map[string]any, now time.Time, leeway time.Duration) (exp, iat time.Time, err error) {
	exp, present, err := legacyNumericDate(claims, "exp")
	if err != nil {
		return exp, iat, err
	}
	if !present {
		return exp, iat, invalidClaim(ReasonExpired, "exp", "is missing")
	}
	if !now.Before(exp.Add(leeway)) {
		return exp, iat, invalid(ReasonExpired, "token is expired")
	}
	nbf, present, err := legacyNumericDate(claims, "nbf")
	if err != nil {
		return exp, iat, err
	}
	if present && now.Add(leeway).Before(nbf) {
		return exp, iat, invalid(ReasonExpired, "token is not valid yet")
	}
	iat, present, err = legacyNumericDate(claims, "iat")
	if err != nil {
		return exp, iat, err
	}
	if present && now.Add(leeway).Before(iat) {
		return exp, iat, invalidClaim(ReasonExpired, "iat", "is in the future")
	}
	return exp, iat, nil
}

// legacyStringClaim returns a claim that must be a string when present; the
// error for another type has the reason of the check that reads the claim.
func legacyStringClaim(claims map[string]any, name, reason string) (s string, present bool, err error) {
	v, present := claims[name]
	if !present {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", true, invalidClaim(reason, name, "is not a string")
	}
	return s, true, nil
}

// legacyAudienceClaim reads "aud" (RFC 7519 §4.1.3): a string or an array of
// strings. present is false only when the claim is absent.
func legacyAudienceClaim(claims map[string]any) (aud []string, present bool, err error) {
	v, present := claims["aud"]
	if !present {
		return nil, false, nil
	}
	switch a := v.(type) {
	case string:
		return []string{a}, true, nil
	case []any:
		aud = make([]string, 0, len(a))
		for _, e := range a {
			s, ok := e.(string)
			if !ok {
				return nil, true, invalidClaim(ReasonAudience, "aud", "has a non-string member")
			}
			aud = append(aud, s)
		}
		return aud, true, nil
	}
	return nil, true, invalidClaim(ReasonAudience, "aud", "is not a string or array")
}

// legacyScopesOf merges the profile's scope claims: a space-separated string
// (RFC 8693 §4.2) or an array of strings. Duplicates are dropped; a claim
// of any other type rejects the token.
func legacyScopesOf(claims map[string]any, p *idp.Profile) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, name := range p.ScopeClaims {
		switch v := claims[name].(type) {
		case nil:
			if _, present := claims[name]; present {
				return nil, invalidClaim(ReasonClaims, name, "is null")
			}
		case string:
			for _, s := range strings.Fields(v) {
				add(s)
			}
		case []any:
			for _, e := range v {
				s, ok := e.(string)
				if !ok {
					return nil, invalidClaim(ReasonClaims, name, "has a non-string member")
				}
				add(s)
			}
		default:
			return nil, invalidClaim(ReasonClaims, name, "is not a string or array")
		}
	}
	return out, nil
}

// legacyFirstString returns the first of names whose claim is a non-empty
// string. A listed claim of another type rejects the token with reason.
func legacyFirstString(claims map[string]any, names []string, reason string) (string, error) {
	for _, n := range names {
		s, present, err := legacyStringClaim(claims, n, reason)
		if err != nil {
			return "", err
		}
		if present && s != "" {
			return s, nil
		}
	}
	return "", nil
}

// legacyCheckMarkers enforces the profile's token-type markers: RequiredClaims
// must be present with the exact string value; ForbiddenClaims must be
// absent; ForbiddenClaimValues must not match (ID tokens and other token
// kinds are never access tokens, RFC 9068 §4, RFC 8725 §2.8).
func legacyCheckMarkers(claims map[string]any, p *idp.Profile) error {
	for name, want := range p.RequiredClaims {
		if s, _ := claims[name].(string); s != want {
			return invalidClaim(ReasonTokenType, name, "does not mark an access token")
		}
	}
	for _, name := range p.ForbiddenClaims {
		if _, present := claims[name]; present {
			return invalidClaim(ReasonTokenType, name, "marks a non-access token")
		}
	}
	for name, bad := range p.ForbiddenClaimValues {
		s, _ := claims[name].(string)
		for _, b := range bad {
			if s == b {
				return invalidClaim(ReasonTokenType, name, "marks a non-access token")
			}
		}
	}
	return nil
}

// legacyVerify is the former Verifier.Verify without the token cache
// (the reference disables it): same checks, same order. It returns the
// claims map the former Principal.Claims held.
func legacyVerify(v *Verifier, ctx context.Context, raw string) (*Principal, map[string]any, error) {
	if len(raw) > v.p.MaxTokenBytes {
		return nil, nil, invalid(ReasonMalformed, "token too large")
	}
	c, err := legacySplitCompact(raw, v.p.Profile.TypHeaders)
	if err != nil {
		return nil, nil, err
	}
	key, err := v.keys.LookupKey(ctx, c.header.kid)
	if err != nil {
		if errors.Is(err, ErrKeysUnavailable) {
			return nil, nil, fmt.Errorf("authn: %w", err)
		}
		return nil, nil, invalid(ReasonKey, "no key matches the token's kid")
	}
	if err := legacyCheckKey(key, c.header.alg); err != nil {
		return nil, nil, err
	}
	pub, err := jwk.PublicRawKeyOf(key)
	if err != nil {
		return nil, nil, invalid(ReasonKey, "key is not a public signature key")
	}
	if err := legacyVerifySignature(c, pub); err != nil {
		return nil, nil, err
	}
	claims, err := legacyDecodeObject(c.payload)
	if err != nil {
		return nil, nil, invalid(ReasonMalformed, "payload: "+err.Error())
	}
	p, err := legacyCheckClaims(v, ctx, claims)
	if err != nil {
		return nil, nil, err
	}
	return p, claims, nil
}

// legacyCheckClaims applies the policy to signature-verified claims.
func legacyCheckClaims(v *Verifier, ctx context.Context, claims map[string]any) (*Principal, error) {
	prof := &v.p.Profile
	if err := legacyCheckMarkers(claims, prof); err != nil {
		return nil, err
	}
	iss, _, err := legacyStringClaim(claims, "iss", ReasonIssuer)
	if err != nil {
		return nil, err
	}
	if iss != v.p.Issuer {
		return nil, invalidClaim(ReasonIssuer, "iss", "does not match the issuer")
	}
	exp, iat, err := legacyCheckTimes(claims, v.p.Now(), v.p.Leeway)
	if err != nil {
		return nil, err
	}
	sub, _, err := legacyStringClaim(claims, prof.Subject(), ReasonClaims)
	if err != nil {
		return nil, err
	}
	if sub == "" {
		return nil, invalidClaim(ReasonClaims, prof.Subject(), "is missing or empty")
	}
	clientID, err := legacyFirstString(claims, prof.ClientIDClaims, ReasonClient)
	if err != nil {
		return nil, err
	}
	if clientID == "" && prof.RequireClientID {
		return nil, invalid(ReasonClient, "client id claim is missing")
	}
	aud, audPresent, err := legacyAudienceClaim(claims)
	if err != nil {
		return nil, err
	}
	if audPresent && !v.audienceAccepted(aud) {
		return nil, invalidClaim(ReasonAudience, "aud", "does not name this resource")
	}
	// Absent aud: only when the policy opts in, for a profile whose
	// provider issues such tokens (its RequiredClaims markers held above),
	// and only with an allow-listed client id (checked below).
	if !audPresent && !(v.p.InsecureAllowMissingAudience && prof.MayOmitAudience && v.p.ClientIDs != nil) {
		return nil, invalidClaim(ReasonAudience, "aud", "is missing")
	}
	if v.p.ClientIDs != nil {
		if err := v.allowClient(ctx, clientID); err != nil {
			return nil, err
		}
	}
	scopes, err := legacyScopesOf(claims, prof)
	if err != nil {
		return nil, err
	}
	username, err := legacyFirstString(claims, prof.UsernameClaims, ReasonClaims)
	if err != nil {
		return nil, err
	}
	return &Principal{
		Subject: sub, ClientID: clientID, Username: username, Scopes: scopes,
		Issuer: iss, Audience: aud, Expiry: exp, IssuedAt: iat,
		ScopeImplications: v.p.ScopeImplications,
	}, nil
}
