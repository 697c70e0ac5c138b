// Package metrics is the gateway's Prometheus sink: an observe.Observer
// that turns every request on an MCP route into the mcpgw_* metrics, on a
// registry of its own (never the global default one) that also holds the
// Go runtime and process collectors, served by [Metrics.Handler] in the
// Prometheus text exposition format.
//
// Every label value is bounded whatever clients send: route is a
// configured route path, method one of the MCP methods the specification
// defines or "other" (see methodLabel), status a three-digit HTTP status
// or "other", decision and reason fixed sets (internal/observe), kind one
// of the upstream error kinds or "other". No subject, client id, tool
// name or request id becomes a label (the audit log carries those).
//
// It does not push metrics anywhere, and exemplars and native histograms
// are not used.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
)

// Buckets are the latency histograms' upper bounds in seconds, from 1ms
// (a cached token, a refusal) to 60s (a long tool call; longer ones fall
// in +Inf).
var Buckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Options configure [New].
type Options struct {
	// Now is the clock of mcpgw_request_duration_seconds and
	// mcpgw_jwks_age_seconds; nil means time.Now. It must be the
	// observe.Hub's clock (tests inject one fake clock into both).
	Now func() time.Time
}

// Metrics is the Prometheus observer. Observe counts each event (one per
// JSON-RPC operation); the per-HTTP-request series (duration, in-flight,
// upstream) are recorded once per request through the request phase
// (observe.PhaseRequest), so a batch is not counted several times. It is
// safe for concurrent use.
type Metrics struct {
	reg     *prometheus.Registry
	now     func() time.Time
	handler http.Handler

	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	auth           *prometheus.CounterVec
	upstream       *prometheus.HistogramVec
	upstreamErrors *prometheus.CounterVec
	streams        *prometheus.GaugeVec
}

var (
	_ observe.Observer      = (*Metrics)(nil)
	_ observe.PhaseObserver = (*Metrics)(nil)
)

// New returns the observer with its registry: the request metrics, the
// Go and process collectors. The gauges over the gateway's state
// (sessions, keys, token caches) are added by the Watch methods.
func New(o Options) *Metrics {
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Metrics{reg: prometheus.NewRegistry(), now: o.Now}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mcpgw_requests_total",
		Help: "JSON-RPC operations (and GET/DELETE requests) on MCP routes, by route, MCP method and HTTP status answered.",
	}, []string{"route", "method", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "mcpgw_request_duration_seconds",
		Help:    "Time from a request's arrival to the end of its response (for a stream, its end), by route.",
		Buckets: Buckets,
	}, []string{"route"})
	m.auth = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mcpgw_auth_decisions_total",
		Help: "Decisions on JSON-RPC operations: allow, deny (refused by the gateway) or error (failed after being allowed), with the reason (none when allowed).",
	}, []string{"route", "decision", "reason"})
	m.upstream = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "mcpgw_upstream_duration_seconds",
		Help:    "Time until the upstream's answer started, for requests the upstream answered, by route.",
		Buckets: Buckets,
	}, []string{"route"})
	m.upstreamErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mcpgw_upstream_errors_total",
		Help: "Requests whose upstream failed, by route and kind: connect, status, timeout, protocol, process.",
	}, []string{"route", "kind"})
	m.streams = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "mcpgw_streams",
		Help: "Requests in flight on MCP routes, including open event streams, by route.",
	}, []string{"route"})
	m.reg.MustRegister(m.requests, m.duration, m.auth, m.upstream, m.upstreamErrors, m.streams,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	return m
}

// Handler serves the registry in the Prometheus exposition format, for
// GET /metrics. It does no authentication: serve it on a listener only
// the scraper reaches (metrics_listen) or accept that the main listener
// exposes it.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Gatherer is the registry, for tests and tools that read the metrics
// without HTTP.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Observe counts one event in mcpgw_requests_total and
// mcpgw_auth_decisions_total.
func (m *Metrics) Observe(_ context.Context, e *observe.Event) {
	m.requests.WithLabelValues(e.Route, methodLabel(e), statusLabel(e.Status)).Inc()
	m.auth.WithLabelValues(e.Route, decisionLabel(e.Decision), reasonLabel(e.Reason)).Inc()
}

// StartPhase times the request phase only: the request is in flight
// (mcpgw_streams) until it ends, when its duration and its upstream's
// latency and error are recorded. Other phases are not timed here
// (tracing does).
func (m *Metrics) StartPhase(ctx context.Context, p observe.Phase, rec *observe.Request) (context.Context, func(error)) {
	if p != observe.PhaseRequest || rec == nil {
		return ctx, func(error) {}
	}
	start := rec.Snapshot()
	inFlight := m.streams.WithLabelValues(start.Route)
	inFlight.Inc()
	return ctx, func(error) {
		inFlight.Dec()
		e := rec.Snapshot()
		m.duration.WithLabelValues(e.Route).Observe(m.now().Sub(e.Time).Seconds())
		if e.UpstreamError != "" {
			m.upstreamErrors.WithLabelValues(e.Route, upstreamErrorLabel(e.UpstreamError)).Inc()
		}
		if answered(&e) {
			m.upstream.WithLabelValues(e.Route).Observe(e.UpstreamLatency.Seconds())
		}
	}
}

// answered reports whether the upstream answered: its latency was
// recorded and it either sent an HTTP status (an HTTP upstream, even an
// error status) or did not fail (a stdio upstream has no status).
func answered(e *observe.Event) bool {
	return e.UpstreamLatency > 0 && (e.UpstreamStatus != 0 || e.UpstreamError == "")
}
