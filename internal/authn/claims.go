package authn

import (
	"math"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxNumericDate is 9999-12-31T23:59:59Z; later dates are nonsense and
// would overflow time arithmetic.
const maxNumericDate = 253402300799

// numericDate reads a NumericDate claim (RFC 7519 §2): a JSON number of
// seconds, possibly fractional, within [0, year 9999], read as
// strconv.ParseFloat reads it. Strings, booleans, null, objects, arrays
// and out-of-range numbers are rejected (ReasonExpired: it reads only the
// time claims).
func numericDate(v jval, name string) (t time.Time, present bool, err error) {
	if v == nil {
		return time.Time{}, false, nil
	}
	if !v.isNumber() {
		return time.Time{}, true, invalidClaim(ReasonExpired, name, "is not a number")
	}
	f, ok := smallInt(v)
	if !ok {
		var perr error
		f, perr = strconv.ParseFloat(string(v), 64)
		if perr != nil {
			return time.Time{}, true, invalidClaim(ReasonExpired, name, "is out of range")
		}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > maxNumericDate {
		return time.Time{}, true, invalidClaim(ReasonExpired, name, "is out of range")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
}

// smallInt reads a number of at most 15 digits and no sign, fraction or
// exponent: every such integer is exact in a float64, so the result equals
// strconv.ParseFloat's, without its cost.
func smallInt(v jval) (float64, bool) {
	if len(v) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return float64(n), true
}

// checkTimes applies RFC 7519 §4.1.4 exp (required), §4.1.5 nbf and §4.1.6
// iat (optional) with leeway: now must be before exp+leeway, not before
// nbf-leeway, and iat must not be later than now+leeway. It does not
// enforce a maximum token lifetime.
func (c *claimPlan) checkTimes(vals claimVals, now time.Time, leeway time.Duration) (exp, iat time.Time, err error) {
	exp, present, err := numericDate(vals[c.exp], "exp")
	if err != nil {
		return exp, iat, err
	}
	if !present {
		return exp, iat, invalidClaim(ReasonExpired, "exp", "is missing")
	}
	if !now.Before(exp.Add(leeway)) {
		return exp, iat, invalid(ReasonExpired, "token is expired")
	}
	nbf, present, err := numericDate(vals[c.nbf], "nbf")
	if err != nil {
		return exp, iat, err
	}
	if present && now.Add(leeway).Before(nbf) {
		return exp, iat, invalid(ReasonExpired, "token is not valid yet")
	}
	iat, present, err = numericDate(vals[c.iat], "iat")
	if err != nil {
		return exp, iat, err
	}
	if present && now.Add(leeway).Before(iat) {
		return exp, iat, invalidClaim(ReasonExpired, "iat", "is in the future")
	}
	return exp, iat, nil
}

// stringClaim returns the decoded text of the claim in slot, which must be
// a string when present; the error for another type has the reason of the
// check that reads the claim.
func (c *claimPlan) stringClaim(vals claimVals, slot int, reason string) (s []byte, present bool, err error) {
	v := vals[slot]
	if v == nil {
		return nil, false, nil
	}
	if !v.isString() {
		return nil, true, invalidClaim(reason, c.names[slot], "is not a string")
	}
	return v.str(), true, nil
}

// audienceClaim reads "aud" (RFC 7519 §4.1.3): a string or an array of
// strings. present is false only when the claim is absent.
func audienceClaim(v jval) (aud []string, present bool, err error) {
	switch {
	case v == nil:
		return nil, false, nil
	case v.isString():
		return []string{string(v.str())}, true, nil
	case v.isArray():
		it := arrayIter{d: v}
		for e, ok := it.next(); ok; e, ok = it.next() {
			if !e.isString() {
				return nil, true, invalidClaim(ReasonAudience, "aud", "has a non-string member")
			}
			aud = append(aud, string(e.str()))
		}
		if aud == nil {
			aud = []string{}
		}
		return aud, true, nil
	}
	return nil, true, invalidClaim(ReasonAudience, "aud", "is not a string or array")
}

// scopesOf merges the profile's scope claims: a string of scopes separated
// by white space (RFC 8693 §4.2; split as strings.Fields splits) or an
// array of strings. Duplicates are dropped; a claim of any other type,
// null included, rejects the token.
func (c *claimPlan) scopesOf(vals claimVals) ([]string, error) {
	var out []string
	var seen nameSet
	add := func(s []byte) {
		if len(s) > 0 && seen.add(s) {
			out = append(out, string(s))
		}
	}
	for _, slot := range c.scopes {
		v := vals[slot]
		switch {
		case v == nil:
		case v.isNull():
			return nil, invalidClaim(ReasonClaims, c.names[slot], "is null")
		case v.isString():
			for s := v.str(); len(s) > 0; {
				var f []byte
				f, s = nextField(s)
				add(f)
			}
		case v.isArray():
			it := arrayIter{d: v}
			for e, ok := it.next(); ok; e, ok = it.next() {
				if !e.isString() {
					return nil, invalidClaim(ReasonClaims, c.names[slot], "has a non-string member")
				}
				add(e.str())
			}
		default:
			return nil, invalidClaim(ReasonClaims, c.names[slot], "is not a string or array")
		}
	}
	return out, nil
}

// nextField returns the first run of non-space runes in s (unicode.IsSpace,
// as strings.Fields) and the rest after it.
func nextField(s []byte) (field, rest []byte) {
	start := -1
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(s[i:])
		}
		if unicode.IsSpace(r) {
			if start >= 0 {
				return s[start:i], s[i:]
			}
		} else if start < 0 {
			start = i
		}
		i += size
	}
	if start < 0 {
		return nil, nil
	}
	return s[start:], nil
}

// firstString returns the first of slots whose claim is a non-empty
// string. A listed claim of another type rejects the token with reason.
func (c *claimPlan) firstString(vals claimVals, slots []int, reason string) (string, error) {
	for _, slot := range slots {
		s, present, err := c.stringClaim(vals, slot, reason)
		if err != nil {
			return "", err
		}
		if present && len(s) > 0 {
			return string(s), nil
		}
	}
	return "", nil
}

// strOrEmpty is the decoded text of a string claim, else "" (absent or
// another type), as the token-type markers compare it.
func strOrEmpty(v jval) []byte {
	if !v.isString() {
		return nil
	}
	return v.str()
}

// checkMarkers enforces the profile's token-type markers: RequiredClaims
// must be present with the exact string value; ForbiddenClaims must be
// absent (null counts as present); ForbiddenClaimValues must not match
// (ID tokens and other token kinds are never access tokens, RFC 9068 §4,
// RFC 8725 §2.8). A claim that is not a string reads as "".
func (c *claimPlan) checkMarkers(vals claimVals) error {
	for _, r := range c.required {
		if string(strOrEmpty(vals[r.slot])) != r.want {
			return invalidClaim(ReasonTokenType, c.names[r.slot], "does not mark an access token")
		}
	}
	for _, slot := range c.forbidden {
		if vals[slot] != nil {
			return invalidClaim(ReasonTokenType, c.names[slot], "marks a non-access token")
		}
	}
	for _, fv := range c.forbiddenValues {
		s := strOrEmpty(vals[fv.slot])
		for _, b := range fv.bad {
			if string(s) == b {
				return invalidClaim(ReasonTokenType, c.names[fv.slot], "marks a non-access token")
			}
		}
	}
	return nil
}
