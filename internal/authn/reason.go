package authn

import "errors"

// Reasons a token is refused, as returned by FailureReason. They are a
// small fixed set of label values (metrics label "reason" of
// mcpgw_auth_decisions_total, audit log field): new checks map onto one of
// them rather than add a value. Each names the check that refused the
// token; a claim of the wrong JSON type counts against the check that reads
// it (an "aud" that is a number is ReasonAudience). The message of the
// error (still wrapping ErrInvalidToken) says which detail failed.
const (
	// ReasonMalformed: not a JWS Compact Serialization (RFC 7515 §7.1) of
	// three non-empty strict-base64url segments, header or payload not one
	// JSON object (including duplicate members and invalid UTF-8), token
	// over MaxTokenBytes, header kid not a non-empty string, or an
	// unsupported header parameter ("crit", "b64", "cty", "enc", "zip").
	ReasonMalformed = "malformed"
	// ReasonAlgorithm: header alg missing, not a string or not allowed
	// ("none", HMAC, unknown or wrongly cased names; RFC 8725 §3.1), or not
	// matching the key's type, curve or pinned "alg" (RFC 7517 §4.4).
	ReasonAlgorithm = "algorithm"
	// ReasonKey: the key set has no key for the token's kid, or the key
	// found is not a public signature key (private or symmetric, "use" or
	// "key_ops" excluding verification).
	ReasonKey = "key"
	// ReasonSignature: the signature does not verify with the key,
	// including an RSASSA-PSS signature whose salt is not as long as the
	// hash (RFC 7518 §3.5) and an ECDSA signature that is not the curve's
	// fixed-length r||s (RFC 7518 §3.4).
	ReasonSignature = "signature"
	// ReasonTokenType: the "typ" header is not one the profile accepts
	// (RFC 8725 §3.11), or the claims mark a token that is not an access
	// token (ID token, refresh token; idp.Profile RequiredClaims,
	// ForbiddenClaims, ForbiddenClaimValues).
	ReasonTokenType = "token_type"
	// ReasonExpired: the validity window (RFC 7519 §4.1.4-§4.1.6) with
	// leeway: exp missing, not a NumericDate in range, or passed; nbf or
	// iat in the future or not a NumericDate.
	ReasonExpired = "expired"
	// ReasonIssuer: "iss" missing, not a string, or not exactly the issuer.
	ReasonIssuer = "issuer"
	// ReasonAudience: "aud" missing (where not allowed), not a string or
	// array of strings, or naming none of the policy's audiences.
	ReasonAudience = "audience"
	// ReasonClient: no client id claim (or one that is not a string), or a
	// client id the policy's allowlist does not allow.
	ReasonClient = "client"
	// ReasonClaims: any other claim problem: subject missing, empty or not
	// a string; a scope or username claim of the wrong JSON type.
	ReasonClaims = "claims"
	// ReasonUnavailable: ErrKeysUnavailable, no verification key could be
	// obtained or the client-id allowlist could not be consulted. It does
	// not say the token is bad (callers answer 503).
	ReasonUnavailable = "unavailable"
	// ReasonInvalid is the fallback for an error FailureReason does not
	// know: not made by this package, or an ErrInvalidToken without reason
	// (for example from a custom KeyLookup used directly).
	ReasonInvalid = "invalid"
)

// Reasons returns every value FailureReason can return for a non-nil
// error, for pre-registering metric label values. The slice is new on each
// call.
func Reasons() []string {
	return []string{
		ReasonMalformed, ReasonAlgorithm, ReasonKey, ReasonSignature,
		ReasonTokenType, ReasonExpired, ReasonIssuer, ReasonAudience,
		ReasonClient, ReasonClaims, ReasonUnavailable, ReasonInvalid,
	}
}

// FailureReason returns the machine-readable reason of an error returned by
// Verifier.Verify or KeySet.LookupKey, possibly wrapped further with %w:
// "" for nil; ReasonUnavailable for anything wrapping ErrKeysUnavailable
// (checked first, as callers map it to 503); the reason the failing check
// attached (one of the Reason constants); ReasonInvalid for any other
// error. It never inspects message text, and the result never contains
// token or key contents, so it is safe as a metric label and in logs.
func FailureReason(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, ErrKeysUnavailable) {
		return ReasonUnavailable
	}
	var re *reasonError
	if errors.As(err, &re) {
		return re.reason
	}
	return ReasonInvalid
}

// reasonError carries the Reason of a verification failure; its text and
// wrapped chain are those of err (which wraps ErrInvalidToken), so adding
// the reason changes neither messages nor errors.Is.
type reasonError struct {
	reason string
	err    error
}

func (e *reasonError) Error() string { return e.err.Error() }
func (e *reasonError) Unwrap() error { return e.err }
