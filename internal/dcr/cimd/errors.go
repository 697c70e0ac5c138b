package cimd

import (
	"errors"
	"net/http"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// Error codes of RFC 6749 §4.1.2.1 and §5.2 used by this package.
const (
	codeInvalidClient  = "invalid_client"
	codeServerError    = "server_error"
	codeUnavailable    = bearer.CodeUnavailable
	codeInvalidRequest = bearer.CodeInvalidRequest
)

// ErrForbiddenAddress reports that the SSRF guard (CIMD draft §8, SSRF) refused to
// connect: the client_id host is, or resolves to, a loopback, private,
// link-local, multicast, unspecified, shared (CGNAT) or other special-use
// (RFC 6890) address. Fetch wraps it together with the public
// *bearer.Error. It is not returned for hosts that do not resolve.
var ErrForbiddenAddress = errors.New("address is not a public unicast address")

// fetchError is what Fetch returns: a public *bearer.Error (safe to show a
// client, found with errors.As) and the internal cause (for logs, found
// with errors.Is).
type fetchError struct {
	public *bearer.Error
	cause  error
	kind   string // a dcr.CIMD* metric result; "" before a fetch
}

func (e *fetchError) Error() string {
	if e.cause == nil {
		return e.public.Error()
	}
	return e.public.Error() + ": " + e.cause.Error()
}

func (e *fetchError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.public}
	}
	return []error{e.public, e.cause}
}

// invalidClient builds the 401 invalid_client (RFC 6749 §5.2) that Fetch
// returns, with a description safe to show and the cause kept for logs.
func invalidClient(desc string, cause error) error { return failed("", desc, cause) }

// failed is invalidClient for a failed fetch, with its metric result kind
// (a dcr.CIMD* value; "" for a refusal before any fetch).
func failed(kind, desc string, cause error) error {
	return &fetchError{
		public: &bearer.Error{Status: http.StatusUnauthorized, Code: codeInvalidClient, Description: desc},
		cause:  cause,
		kind:   kind,
	}
}

// fetchResult is the dcr.Metrics.CIMDFetch result of a fetch that
// returned err.
func fetchResult(err error) string {
	var fe *fetchError
	switch {
	case err == nil:
		return dcr.CIMDFetched
	case errors.As(err, &fe) && fe.kind != "":
		return fe.kind
	}
	return dcr.CIMDUnclassified
}

// publicError returns the *bearer.Error inside err, or nil.
func publicError(err error) *bearer.Error {
	var be *bearer.Error
	if errors.As(err, &be) {
		return be
	}
	return nil
}
