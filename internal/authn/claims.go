package authn

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
)

// maxNumericDate is 9999-12-31T23:59:59Z; later dates are nonsense and
// would overflow time arithmetic.
const maxNumericDate = 253402300799

// numericDate reads a NumericDate claim (RFC 7519 §2): a JSON number of
// seconds, possibly fractional, within [0, year 9999]. Strings, booleans,
// null, NaN/Inf and out-of-range numbers are rejected (ReasonExpired: it
// reads only the time claims).
func numericDate(claims map[string]any, name string) (t time.Time, present bool, err error) {
	v, present := claims[name]
	if !present {
		return time.Time{}, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, true, invalidClaim(ReasonExpired, name, "is not a number")
	}
	f, perr := n.Float64()
	if perr != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > maxNumericDate {
		return time.Time{}, true, invalidClaim(ReasonExpired, name, "is out of range")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
}

// checkTimes applies RFC 7519 §4.1.4 exp (required), §4.1.5 nbf and §4.1.6
// iat (optional) with leeway: now must be before exp+leeway, not before
// nbf-leeway, and iat must not be later than now+leeway. It does not
// enforce a maximum token lifetime.
func checkTimes(claims map[string]any, now time.Time, leeway time.Duration) (exp, iat time.Time, err error) {
	exp, present, err := numericDate(claims, "exp")
	if err != nil {
		return exp, iat, err
	}
	if !present {
		return exp, iat, invalidClaim(ReasonExpired, "exp", "is missing")
	}
	if !now.Before(exp.Add(leeway)) {
		return exp, iat, invalid(ReasonExpired, "token is expired")
	}
	nbf, present, err := numericDate(claims, "nbf")
	if err != nil {
		return exp, iat, err
	}
	if present && now.Add(leeway).Before(nbf) {
		return exp, iat, invalid(ReasonExpired, "token is not valid yet")
	}
	iat, present, err = numericDate(claims, "iat")
	if err != nil {
		return exp, iat, err
	}
	if present && now.Add(leeway).Before(iat) {
		return exp, iat, invalidClaim(ReasonExpired, "iat", "is in the future")
	}
	return exp, iat, nil
}

// stringClaim returns a claim that must be a string when present; the
// error for another type has the reason of the check that reads the claim.
func stringClaim(claims map[string]any, name, reason string) (s string, present bool, err error) {
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

// audienceClaim reads "aud" (RFC 7519 §4.1.3): a string or an array of
// strings. present is false only when the claim is absent.
func audienceClaim(claims map[string]any) (aud []string, present bool, err error) {
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

// scopesOf merges the profile's scope claims: a space-separated string
// (RFC 8693 §4.2) or an array of strings. Duplicates are dropped; a claim
// of any other type rejects the token.
func scopesOf(claims map[string]any, p *idp.Profile) ([]string, error) {
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

// firstString returns the first of names whose claim is a non-empty
// string. A listed claim of another type rejects the token with reason.
func firstString(claims map[string]any, names []string, reason string) (string, error) {
	for _, n := range names {
		s, present, err := stringClaim(claims, n, reason)
		if err != nil {
			return "", err
		}
		if present && s != "" {
			return s, nil
		}
	}
	return "", nil
}

// checkMarkers enforces the profile's token-type markers: RequiredClaims
// must be present with the exact string value; ForbiddenClaims must be
// absent; ForbiddenClaimValues must not match (ID tokens and other token
// kinds are never access tokens, RFC 9068 §4, RFC 8725 §2.8).
func checkMarkers(claims map[string]any, p *idp.Profile) error {
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
