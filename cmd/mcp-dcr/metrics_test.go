package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrmetrics"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// get answers GET url with its status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsOnServiceListener: without metrics_listen, /metrics is a
// route of the service's listener and every other path still reaches the
// registration handler.
func TestMetricsOnServiceListener(t *testing.T) {
	m := dcrmetrics.NewPrometheus()
	m.Registration(dcr.ResultCreated, dcr.ReasonNone)
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "api "+r.URL.Path) })
	a := &app{cfg: &config.DCR{}, log: slog.New(slog.DiscardHandler)}
	h, err := a.exposeMetrics(t.Context(), api, m.Handler())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	if code, body := get(t, srv.URL+"/metrics"); code != 200 ||
		!strings.Contains(body, `mcpdcr_registrations_total{reason="none",result="created"} 1`) {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	for _, p := range []string{"/register", "/metrics/x", "/.well-known/oauth-authorization-server"} {
		if code, body := get(t, srv.URL+p); code != 200 || body != "api "+p {
			t.Fatalf("%s: %d %q, want the registration handler", p, code, body)
		}
	}
}

// TestMetricsListen: with metrics_listen, /metrics is served there (404
// elsewhere) and not on the service's listener, and the listener closes
// when the context ends; a port in use is an error at start.
func TestMetricsListen(t *testing.T) {
	m := dcrmetrics.NewPrometheus()
	m.RateLimited(dcr.EndpointRegister)
	api := http.NotFoundHandler()
	a := &app{cfg: &config.DCR{MetricsListen: "127.0.0.1:0"}, log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr, err := a.serveMetrics(ctx, m.Handler())
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String()
	if code, body := get(t, base+"/metrics"); code != 200 || !strings.Contains(body, `mcpdcr_rate_limited_total{endpoint="register"} 1`) {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	if code, _ := get(t, base+"/register"); code != 404 {
		t.Fatalf("/register on the metrics listener: %d", code)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	b := &app{cfg: &config.DCR{MetricsListen: busy.Addr().String()}, log: a.log}
	if h, err := b.exposeMetrics(ctx, api, m.Handler()); err == nil || h != nil || !strings.Contains(err.Error(), "metrics_listen") {
		t.Fatalf("busy metrics_listen: %v", err)
	}
	c := &app{cfg: &config.DCR{MetricsListen: "127.0.0.1:0"}, log: a.log}
	h, err := c.exposeMetrics(ctx, api, m.Handler())
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Fatalf("/metrics on the service listener with metrics_listen set: %d", rec.Code)
	}

	cancel()
	testkit.WaitClosed(t, addr.String(), "the metrics listener")
}
