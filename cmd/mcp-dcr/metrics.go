package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// metricsPath is where Prometheus metrics are served.
const metricsPath = "/metrics"

// withMetrics serves metrics at /metrics (GET, exactly that path) and
// everything else with h: the registration routes are unchanged, since h
// sees every other request as it came (no mux path cleaning).
func withMetrics(h, metrics http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == metricsPath {
			metrics.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// exposeMetrics makes metrics reachable for `mcp-dcr serve`: on its own
// plain-HTTP listener when metrics_listen is set (returning h unchanged),
// else at /metrics of the service's own listener (returning h with that
// route). Not done: authentication of scrapes (bind metrics_listen to a
// private address, or filter /metrics at the load balancer).
func (a *app) exposeMetrics(ctx context.Context, h, metrics http.Handler) (http.Handler, error) {
	if a.cfg.MetricsListen == "" {
		return withMetrics(h, metrics), nil
	}
	if _, err := a.serveMetrics(ctx, metrics); err != nil {
		return nil, err
	}
	return h, nil
}

// serveMetrics listens on metrics_listen and serves metrics at /metrics
// (404 elsewhere) until ctx ends, then shuts the listener down within
// shutdownTimeout. It returns once listening, with the bound address; a
// failure to listen is returned, a later serve error logged.
func (a *app) serveMetrics(ctx context.Context, metrics http.Handler) (net.Addr, error) {
	l, err := net.Listen("tcp", a.cfg.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("listen %s (metrics_listen): %w", a.cfg.MetricsListen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+metricsPath, metrics)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("mcp-dcr: metrics listener failed", "listen", l.Addr().String(), "error", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	a.log.Info("mcp-dcr: serving metrics", "listen", l.Addr().String(), "path", metricsPath)
	return l.Addr(), nil
}
