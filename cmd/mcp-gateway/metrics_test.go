package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// scrape GETs url and returns the status and body.
func scrape(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: testkit.DefaultTimeout}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sample returns the value of the series line (name and labels, exactly
// as exposed) in a /metrics body, or -1.
func sample(body, series string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// TestServeMetrics: the gateway as serve wires it counts an allowed
// tools/call, a refused one (a token signed by a key the issuer never
// published: reason signature), the issuer's JWKS fetch and a repeated
// token's cache hit, and serves them at /metrics on the main listener,
// with a sessions gauge for the stdio route (whose process never starts
// here).
func TestServeMetrics(t *testing.T) {
	iss := authntest.NewIssuer(t)
	ln, public := listenLocal(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Listen: ln.Addr().String(), PublicURL: public, Issuer: iss.URL, Provider: "generic",
		LogLevel: "error", AuditLog: config.AuditLogOff,
		Routes: []config.Route{
			{Path: "/mcp", Upstream: config.BuiltinUpstream},
			{Path: "/mcp/stdio", Upstream: self + " -test.run=^$"},
		}}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	serveWiredOn(t, cfg, ln)

	resource := public + "/mcp"
	whoami := mcpRequest{method: "tools/call", name: "whoami", params: `{"name":"whoami","arguments":{}`}
	token := iss.Mint(iss.Claims(resource))
	for range 2 { // the second verification is a cache hit
		if status, _, body := whoami.do(t, resource, token); status != http.StatusOK {
			t.Fatalf("allowed call: %d %s", status, body)
		}
	}
	forged := iss.Mint(iss.Claims(resource), authntest.WithKey(iss.Foreign))
	if status, _, _ := whoami.do(t, resource, forged); status != http.StatusUnauthorized {
		t.Fatalf("forged token: %d, want 401", status)
	}

	// Events are recorded after each response is written: wait for them.
	var body string
	want := map[string]func(float64) bool{
		`mcpgw_requests_total{method="tools/call",route="/mcp",status="200"}`:         func(v float64) bool { return v == 2 },
		`mcpgw_requests_total{method="other",route="/mcp",status="401"}`:              func(v float64) bool { return v == 1 },
		`mcpgw_auth_decisions_total{decision="allow",reason="none",route="/mcp"}`:     func(v float64) bool { return v == 2 },
		`mcpgw_auth_decisions_total{decision="deny",reason="signature",route="/mcp"}`: func(v float64) bool { return v == 1 },
		`mcpgw_request_duration_seconds_count{route="/mcp"}`:                          func(v float64) bool { return v == 3 },
		`mcpgw_streams{route="/mcp"}`:                                                 func(v float64) bool { return v == 0 },
		`mcpgw_jwks_fetches_total{result="ok"}`:                                       func(v float64) bool { return v == 1 },
		`mcpgw_jwks_fetches_total{result="error"}`:                                    func(v float64) bool { return v == 0 },
		`mcpgw_jwks_keys`:                    func(v float64) bool { return v == 3 },
		`mcpgw_jwks_age_seconds`:             func(v float64) bool { return v >= 0 },
		`mcpgw_token_cache_hits_total`:       func(v float64) bool { return v == 1 },
		`mcpgw_token_cache_misses_total`:     func(v float64) bool { return v == 2 },
		`mcpgw_sessions{route="/mcp/stdio"}`: func(v float64) bool { return v == 0 },
	}
	ok := testkit.Poll(testkit.DefaultTimeout, func() bool {
		var status int
		status, body = scrape(t, public+"/metrics")
		if status != http.StatusOK {
			return false
		}
		for series, good := range want {
			if v := sample(body, series); v < 0 || !good(v) {
				return false
			}
		}
		return true
	})
	if !ok {
		for series, good := range want {
			if v := sample(body, series); v < 0 || !good(v) {
				t.Errorf("%s = %v", series, v)
			}
		}
		t.Fatalf("/metrics:\n%s", body)
	}
	if strings.Contains(body, `mcpgw_sessions{route="/mcp"}`) {
		t.Error("a sessions gauge for the built-in route, which has no sessions")
	}
}

// TestServeMetricsListen: with metrics_listen set, run serves /metrics
// there (and nothing else), the main listener answers 404 for it, and
// the metrics listener shuts down with the main one.
func TestServeMetricsListen(t *testing.T) {
	iss := authntest.NewIssuer(t)
	cfg, err := config.Load(config.LoadOptions{DotEnv: os.DevNull, Environ: []string{
		"MCPGW_LISTEN=127.0.0.1:0", "MCPGW_METRICS_LISTEN=localhost:0", "MCPGW_PUBLIC_URL=http://127.0.0.1",
		"MCPGW_ISSUER=" + iss.URL, "MCPGW_AUDIT_LOG=off"}})
	if err != nil {
		t.Fatal(err)
	}
	logs := &testkit.SafeBuffer{}
	a, err := wire(cfg, slog.New(slog.NewTextHandler(logs, nil)), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var runErr error
	finished := make(chan struct{})
	go func() { runErr = a.run(ctx); close(finished) }()
	t.Cleanup(func() { cancel(); <-finished })

	addr := func(msg string) string {
		line := testkit.WaitContains(t, logs, `msg="`+msg+`"`, testkit.DefaultTimeout)
		m := regexp.MustCompile(`msg="` + msg + `" addr=(\S+)`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("no address in the logs:\n%s", line)
		}
		return m[1]
	}
	metricsAddr, mainAddr := addr("metrics listening"), addr("mcp-gateway listening")

	status, body := scrape(t, "http://"+metricsAddr+"/metrics")
	if status != http.StatusOK || !strings.Contains(body, "mcpgw_jwks_fetches_total") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("metrics_listen /metrics: %d\n%s", status, body)
	}
	if status, _ := scrape(t, "http://"+metricsAddr+"/healthz"); status != http.StatusNotFound {
		t.Errorf("metrics_listen /healthz: %d, want 404", status)
	}
	if status, _ := scrape(t, "http://"+mainAddr+"/metrics"); status != http.StatusNotFound {
		t.Errorf("main listener /metrics: %d, want 404", status)
	}
	if status, _ := scrape(t, "http://"+mainAddr+"/healthz"); status != http.StatusOK {
		t.Errorf("main listener /healthz: %d", status)
	}

	cancel()
	testkit.WaitDone(t, finished, testkit.DefaultTimeout, "run to return")
	if runErr != nil {
		t.Fatalf("run: %v", runErr)
	}
	testkit.WaitClosed(t, metricsAddr, "the metrics listener")
}
