package authn

import (
	"errors"
	"fmt"
)

// ErrKeysUnavailable means a dependency of verification is unavailable: no
// verification key could be obtained (the issuer is down and nothing is
// cached) or the client-id allowlist could not be consulted. Callers map it
// to 503. It does not say the token is bad.
var ErrKeysUnavailable = errors.New("authn: verification keys unavailable")

// ErrInvalidToken is wrapped by every other verification failure. The text
// of errors wrapping it names checks and claim names only, never key
// material or token contents, so it is safe to show a client. Their
// machine-readable reason is FailureReason's; never parse the text.
var ErrInvalidToken = errors.New("invalid token")

// invalid returns an error wrapping ErrInvalidToken with a fixed message,
// whose FailureReason is reason (a Reason constant). Messages must never
// include token or key contents.
func invalid(reason, msg string) error {
	return &reasonError{reason: reason, err: fmt.Errorf("%w: %s", ErrInvalidToken, msg)}
}

// invalidClaim returns an error naming a claim (the name only, no value),
// whose FailureReason is reason.
func invalidClaim(reason, claim, problem string) error {
	return &reasonError{reason: reason, err: fmt.Errorf("%w: claim %q %s", ErrInvalidToken, claim, problem)}
}
