package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authnconfig"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/metrics"
)

// metricsWriteTimeout bounds one scrape's response on metrics_listen.
const metricsWriteTimeout = 30 * time.Second

// sessionCounter is an upstream that holds sessions (stdio.Server:
// processes; httpproxy.Proxy: legacy SSE bridge sessions).
type sessionCounter interface {
	Sessions() int
}

// wireMetrics finds the Prometheus observer among obs (observers adds
// it) and hands it the gauges' sources: the issuer's key set, every
// route's verifier (their token caches are summed) and the routes'
// session counts. It returns nil when obs has none.
func wireMetrics(obs []observe.Observer, keys *authn.KeySet, verifiers []authnconfig.Route, sessions map[string]sessionCounter) (*metrics.Metrics, error) {
	var m *metrics.Metrics
	for _, o := range obs {
		if mo, ok := o.(*metrics.Metrics); ok {
			m = mo
		}
	}
	if m == nil {
		return nil, nil
	}
	caches := make([]metrics.TokenCache, 0, len(verifiers))
	for _, rv := range verifiers {
		caches = append(caches, rv.Verifier)
	}
	errs := []error{m.WatchKeys(keys), m.WatchTokenCaches(caches...)}
	for route, s := range sessions {
		errs = append(errs, m.WatchSessions(route, s.Sessions))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// mainMetrics is what the main listener serves at /metrics: the metrics,
// unless metrics_listen gives them a listener of their own.
func (a *app) mainMetrics() http.Handler {
	if a.metrics == nil || a.cfg.MetricsListen != "" {
		return nil
	}
	return a.metrics.Handler()
}

// serveMetrics binds metrics_listen and serves GET /metrics there, with
// the main listener's header and idle timeouts and a write timeout; the
// returned func shuts it down (gracefully, within shutdown_timeout) and
// waits for it. Without metrics_listen it does nothing. The listener is
// plain HTTP: keep it on a network only the scraper reaches.
func (a *app) serveMetrics() (stop func(), err error) {
	if a.metrics == nil || a.cfg.MetricsListen == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", a.cfg.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("metrics_listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.Handler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: a.cfg.ReadHeaderTimeout,
		ReadTimeout:       metricsWriteTimeout,
		WriteTimeout:      metricsWriteTimeout,
		IdleTimeout:       a.cfg.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("metrics listener failed", "addr", ln.Addr().String(), "err", err)
		}
	}()
	a.log.Info("metrics listening", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		<-done
	}, nil
}
