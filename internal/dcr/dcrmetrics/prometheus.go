package dcrmetrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

// Metric names, shared by both implementations.
const (
	NameRequests        = "mcpdcr_requests_total"
	NameRegistrations   = "mcpdcr_registrations_total"
	NameRateLimited     = "mcpdcr_rate_limited_total"
	NameCognitoCalls    = "mcpdcr_cognito_calls_total"
	NameCognitoDuration = "mcpdcr_cognito_call_duration_seconds"
	NameCIMDFetches     = "mcpdcr_cimd_fetches_total"
)

// cognitoBuckets are the duration histogram's buckets (seconds): Cognito
// control-plane calls take tens to hundreds of milliseconds, and the SDK's
// retries can stretch one to seconds.
var cognitoBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Prometheus is dcr.Metrics on a Prometheus registry of its own (not the
// global one), with the Go runtime and process collectors. It is safe for
// concurrent use.
type Prometheus struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec
	registrations *prometheus.CounterVec
	rateLimited   *prometheus.CounterVec
	cognitoCalls  *prometheus.CounterVec
	cognitoTime   *prometheus.HistogramVec
	cimdFetches   *prometheus.CounterVec
}

var _ dcr.Metrics = (*Prometheus)(nil)

// NewPrometheus builds the metrics and registers them on a new registry.
func NewPrometheus() *Prometheus {
	p := &Prometheus{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameRequests,
			Help: "HTTP requests answered, by endpoint (register, register_manage, authorize, token, metadata, other) and status code."},
			[]string{"endpoint", "status"}),
		registrations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameRegistrations,
			Help: "RFC 7591 registration requests by result (created, reused, refused, error) and reason (none, an RFC 7591 or RFC 6749 error code, rate_limited, quota, cognito, store, internal, other)."},
			[]string{"result", "reason"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameRateLimited,
			Help: "Requests (or the Cognito writes they caused) refused by the per-source rate limit, by endpoint."},
			[]string{"endpoint"}),
		cognitoCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameCognitoCalls,
			Help: "Cognito API calls by operation and result (ok, throttled, not_found, error)."},
			[]string{"op", "result"}),
		cognitoTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: NameCognitoDuration,
			Help: "Duration of Cognito API calls, SDK retries included, by operation.", Buckets: cognitoBuckets},
			[]string{"op"}),
		cimdFetches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameCIMDFetches,
			Help: "Client ID Metadata Document lookups by result (cache_hit, fetched, forbidden_address, unreachable, bad_status, too_large, invalid, error)."},
			[]string{"result"}),
	}
	p.reg.MustRegister(p.requests, p.registrations, p.rateLimited, p.cognitoCalls, p.cognitoTime, p.cimdFetches,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return p
}

// Handler serves the registry in the Prometheus text (or negotiated)
// exposition format; errors while gathering are answered 500.
func (p *Prometheus) Handler() http.Handler {
	return promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
}

// Request counts mcpdcr_requests_total{endpoint,status}.
func (p *Prometheus) Request(endpoint string, status int) {
	p.requests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
}

// Registration counts mcpdcr_registrations_total{result,reason}.
func (p *Prometheus) Registration(result, reason string) {
	p.registrations.WithLabelValues(result, reason).Inc()
}

// RateLimited counts mcpdcr_rate_limited_total{endpoint}.
func (p *Prometheus) RateLimited(endpoint string) {
	p.rateLimited.WithLabelValues(endpoint).Inc()
}

// CognitoCall counts mcpdcr_cognito_calls_total{op,result} and observes
// mcpdcr_cognito_call_duration_seconds{op}.
func (p *Prometheus) CognitoCall(op, result string, d time.Duration) {
	p.cognitoCalls.WithLabelValues(op, result).Inc()
	p.cognitoTime.WithLabelValues(op).Observe(d.Seconds())
}

// CIMDFetch counts mcpdcr_cimd_fetches_total{result}.
func (p *Prometheus) CIMDFetch(result string) {
	p.cimdFetches.WithLabelValues(result).Inc()
}
