package dcr

import (
	"errors"
	"net/http"
	"time"

	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// Metrics receives what the registration service measures; declared here,
// used by its HTTP face (internal/dcr/httpapi), the Cognito adapter and the
// CIMD fetcher, implemented by internal/dcr/dcrmetrics (Prometheus for
// `mcp-dcr serve`, CloudWatch Embedded Metric Format under Lambda). Every
// argument is one of the fixed label values below (or an HTTP status), so
// that series stay bounded; client ids, URLs and error texts never appear.
// Implementations must be safe for concurrent use and must not block.
type Metrics interface {
	// Request counts one HTTP request on endpoint (an Endpoint* value),
	// answered with status.
	Request(endpoint string, status int)
	// Registration counts the outcome of one RFC 7591 §3.1 registration
	// request (POST /register): result is a Result* value and reason a
	// Reason* value (see [RegistrationOutcome]).
	Registration(result, reason string)
	// RateLimited counts one request on endpoint refused (429) or one
	// Cognito write it caused refused by the per-source rate limit.
	RateLimited(endpoint string)
	// CognitoCall times one Cognito API call: op is the API operation
	// name (CreateUserPoolClient, ...), result a Cognito* value.
	CognitoCall(op, result string, d time.Duration)
	// CIMDFetch counts one Client ID Metadata Document lookup: result is
	// a CIMD* value.
	CIMDFetch(result string)
}

// Endpoint label values of Metrics.Request and Metrics.RateLimited.
const (
	EndpointRegister       = "register"        // POST /register (RFC 7591)
	EndpointRegisterManage = "register_manage" // /register/{client_id} (RFC 7592)
	EndpointAuthorize      = "authorize"       // the CIMD bridge's /authorize
	EndpointToken          = "token"           // the CIMD bridge's /token
	EndpointMetadata       = "metadata"        // RFC 8414 / OIDC discovery documents
	EndpointOther          = "other"           // anything else (404)
)

// Result label values of Metrics.Registration.
const (
	ResultCreated = "created" // a new app client and registration
	ResultReused  = "reused"  // an identical live public registration returned
	ResultRefused = "refused" // a 4xx answer, or the max_registrations ceiling
	ResultError   = "error"   // an internal failure (5xx)
)

// Reason label values of Metrics.Registration, besides the error codes of
// RFC 7591 §3.2.2 (CodeInvalidRedirectURI, CodeInvalidClientMetadata) and
// RFC 6750 §3.1 (invalid_token: a missing or wrong initial access token)
// and RFC 6749 (invalid_request) that pass through as they are.
const (
	ReasonNone        = "none"         // created or reused
	ReasonRateLimited = "rate_limited" // 429 slow_down
	ReasonQuota       = "quota"        // max_registrations reached (503)
	ReasonCognito     = "cognito"      // a Cognito call failed (throttling included)
	ReasonStore       = "store"        // the registration store failed
	ReasonInternal    = "internal"     // any other failure
	ReasonOther       = "other"        // an error code not listed here
)

// Result label values of Metrics.CognitoCall.
const (
	CognitoOK        = "ok"
	CognitoThrottled = "throttled" // TooManyRequests, LimitExceeded, Throttling
	CognitoNotFound  = "not_found" // ResourceNotFoundException
	CognitoError     = "error"
)

// Result label values of Metrics.CIMDFetch.
const (
	CIMDCacheHit     = "cache_hit"         // served fresh from the cache, no request
	CIMDFetched      = "fetched"           // fetched and valid
	CIMDForbidden    = "forbidden_address" // the SSRF guard refused the host's address
	CIMDUnreachable  = "unreachable"       // DNS, connect, TLS or timeout failure
	CIMDBadStatus    = "bad_status"        // an answer other than 200 (redirects included)
	CIMDTooLarge     = "too_large"         // beyond the size cap
	CIMDInvalid      = "invalid"           // not JSON, or the document rules failed
	CIMDUnclassified = "error"             // anything else
)

// NopMetrics discards every measurement (the default when none is set).
type NopMetrics struct{}

var _ Metrics = NopMetrics{}

// Request discards.
func (NopMetrics) Request(string, int) {}

// Registration discards.
func (NopMetrics) Registration(string, string) {}

// RateLimited discards.
func (NopMetrics) RateLimited(string) {}

// CognitoCall discards.
func (NopMetrics) CognitoCall(string, string, time.Duration) {}

// CIMDFetch discards.
func (NopMetrics) CIMDFetch(string) {}

// OrNop returns m, or NopMetrics when m is nil.
func OrNop(m Metrics) Metrics {
	if m == nil {
		return NopMetrics{}
	}
	return m
}

// registrationCodes are the client-facing error codes that are reasons as
// they are; slow_down is the rate limiter's 429.
var registrationCodes = map[string]string{
	CodeInvalidRedirectURI:    CodeInvalidRedirectURI,
	CodeInvalidClientMetadata: CodeInvalidClientMetadata,
	bearer.CodeInvalidToken:   bearer.CodeInvalidToken,
	bearer.CodeInvalidRequest: bearer.CodeInvalidRequest,
	"slow_down":               ReasonRateLimited,
}

// RegistrationOutcome maps what a registration request came to (res on
// success, else err as the HTTP layer answers it) onto Metrics.Registration's
// labels: created or reused with reason none; refused with the reason the
// failure carries (see errors.go: quota) or its error code; error with
// cognito, store or internal for 5xx failures. Codes outside the known set
// become "other", so that the label stays bounded.
func RegistrationOutcome(res *Result, err error) (result, reason string) {
	if err == nil {
		if res != nil && res.Reused {
			return ResultReused, ReasonNone
		}
		return ResultCreated, ReasonNone
	}
	if r := failureReason(err); r != "" {
		if r == ReasonQuota {
			return ResultRefused, r
		}
		return ResultError, r
	}
	var be *bearer.Error
	if !errors.As(err, &be) || be.Status >= http.StatusInternalServerError {
		return ResultError, ReasonInternal
	}
	if r, ok := registrationCodes[be.Code]; ok {
		return ResultRefused, r
	}
	return ResultRefused, ReasonOther
}
