package dcr

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// This file is the package's only place that builds client-facing errors.
// Every error the Service returns either is (errors.As) a *bearer.Error,
// whose Status, Code and Description the HTTP layer writes with
// bearer.WriteJSON, or is an internal failure the HTTP layer answers with 500
// server_error. Internal failures that need a specific answer carry both: a
// *bearer.Error and, through %w, the cause (errors.Is reaches it).

// Error codes of RFC 7591 §3.2.2 and the RFC 6749 codes this package uses.
const (
	CodeInvalidRedirectURI    = "invalid_redirect_uri"
	CodeInvalidClientMetadata = "invalid_client_metadata"
	CodeServerError           = "server_error"
)

// ErrInvalidRedirectURI builds the RFC 7591 §3.2.2 400 invalid_redirect_uri:
// a redirect URI is malformed or not admitted by the Policy.
func ErrInvalidRedirectURI(desc string) *bearer.Error {
	return &bearer.Error{Status: http.StatusBadRequest, Code: CodeInvalidRedirectURI, Description: desc}
}

// ErrInvalidClientMetadata builds the RFC 7591 §3.2.2 400
// invalid_client_metadata: any other metadata value is invalid or not allowed.
func ErrInvalidClientMetadata(desc string) *bearer.Error {
	return &bearer.Error{Status: http.StatusBadRequest, Code: CodeInvalidClientMetadata, Description: desc}
}

// errInvalidRequest is the RFC 6749 §4.1.2.1 400 invalid_request for an
// authorization request whose redirect URI the service cannot use.
func errInvalidRequest(desc string) *bearer.Error {
	return &bearer.Error{Status: http.StatusBadRequest, Code: bearer.CodeInvalidRequest, Description: desc}
}

// errBadRegistrationToken is the RFC 7592 §2.1-§2.3 answer for a missing,
// wrong or expired registration access token AND for an unknown client id:
// 401 invalid_token, identical in every case so that a caller cannot probe
// which client ids exist (RFC 7592 §2.1: "the authorization server MUST
// respond with HTTP 401 ... and SHOULD NOT reveal the existence").
func errBadRegistrationToken() *bearer.Error {
	return bearer.ErrInvalidToken("the registration access token is not valid for this client")
}

// errCeiling answers a registration refused because MaxRegistrations app
// clients already exist: 503 temporarily_unavailable. It is not the client's
// fault (so not 400/403), and it clears when registrations expire and
// `mcp-dcr gc` removes them or an operator raises the ceiling.
// It carries the metric reason quota (see [RegistrationOutcome]).
func errCeiling(limit int) error {
	return withReason(ReasonQuota, &bearer.Error{Status: http.StatusServiceUnavailable, Code: bearer.CodeUnavailable,
		Description: fmt.Sprintf("registration limit reached: this service allows at most %d registered clients "+
			"(kept below the Cognito app-client quota); retry later or ask the operator", limit)})
}

// errConcurrentUpdate answers an RFC 7592 update that lost a race twice, or
// a redirect URI update that kept losing:
// 409 with temporarily_unavailable; retrying the same request is safe.
func errConcurrentUpdate() *bearer.Error {
	return &bearer.Error{Status: http.StatusConflict, Code: bearer.CodeUnavailable,
		Description: "the registration changed concurrently; retry the request"}
}

// errCallbacksInUse answers an authorization request whose new loopback
// port would evict a callback URL a login may still be using (see
// CallbackInUseWindow): 503 temporarily_unavailable, retryable after wait.
func errCallbacksInUse(limit int, wait time.Duration) *bearer.Error {
	mins := max(1, int(math.Ceil(wait.Minutes())))
	return &bearer.Error{Status: http.StatusServiceUnavailable, Code: bearer.CodeUnavailable,
		Description: fmt.Sprintf("all %d loopback callback URLs of this client belong to logins started in the last %d minutes; "+
			"retry in %d minute(s)", limit, int(CallbackInUseWindow.Minutes()), mins)}
}

// serverError wraps an internal failure for the HTTP layer: if cause already
// carries a *bearer.Error (an adapter chose the answer, e.g. a Cognito limit)
// that answer stands; otherwise a 500 server_error with desc (never the
// cause's text) is attached. errors.Is(result, cause) holds either way.
func serverError(desc string, cause error) error {
	var be *bearer.Error
	if errors.As(cause, &be) {
		return fmt.Errorf("dcr: %s: %w", desc, cause)
	}
	pub := &bearer.Error{Status: http.StatusInternalServerError, Code: CodeServerError, Description: desc}
	return fmt.Errorf("%w: %w", pub, cause)
}

// reasonError attaches a metric reason (ReasonQuota, ReasonCognito,
// ReasonStore) to err where the failure is known; it changes neither the
// text nor what errors.Is and errors.As find.
type reasonError struct {
	reason string
	err    error
}

func (e *reasonError) Error() string { return e.err.Error() }
func (e *reasonError) Unwrap() error { return e.err }

// withReason marks err with a metric reason.
func withReason(reason string, err error) error { return &reasonError{reason: reason, err: err} }

// failureReason returns the metric reason attached to err, or "".
func failureReason(err error) string {
	var re *reasonError
	if errors.As(err, &re) {
		return re.reason
	}
	return ""
}
