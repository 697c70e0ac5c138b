package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/metrics"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// fixture is a Metrics and a Hub over it sharing one fake clock.
type fixture struct {
	m   *metrics.Metrics
	hub *observe.Hub
	clk *testkit.Clock
}

func newFixture() *fixture {
	clk := testkit.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	m := metrics.New(metrics.Options{Now: clk.Now})
	return &fixture{m: m, hub: observe.NewHub(m).WithClock(clk.Now), clk: clk}
}

// req is one HTTP request on a route as the gateway's layers record it.
type req struct {
	route, httpMethod string
	ops               []observe.Operation // nil: the body was not read
	write             func(ctx context.Context)
	took              time.Duration
	status            int
}

// serve records r through the hub and returns after Finish.
func (f *fixture) serve(r req) {
	if r.httpMethod == "" {
		r.httpMethod = http.MethodPost
	}
	hr := httptest.NewRequest(r.httpMethod, "http://gw.example"+r.route, nil)
	ctx, rec := f.hub.Start(context.Background(), r.route, hr, "192.0.2.1")
	if r.ops != nil {
		observe.SetOperations(ctx, r.ops)
	}
	if r.write != nil {
		r.write(ctx)
	}
	f.clk.Advance(r.took)
	rec.Finish(ctx, r.status)
}

func call(name string) []observe.Operation {
	return []observe.Operation{{Method: "tools/call", Name: name}}
}

// fakeKeys is a KeySet.
type fakeKeys struct {
	ok, failed int64
	n          int
	at         time.Time
}

func (k *fakeKeys) FetchResults() (int64, int64) { return k.ok, k.failed }
func (k *fakeKeys) Len() int                     { return k.n }
func (k *fakeKeys) LoadedAt() time.Time          { return k.at }

// fakeCache is a TokenCache.
type fakeCache authn.CacheStats

func (c fakeCache) CacheStats() authn.CacheStats { return authn.CacheStats(c) }

// TestScenario: every mcpgw_* metric and label set after a mix of
// requests, compared with testdata/scenario.txt (go test -update rewrites
// it).
func TestScenario(t *testing.T) {
	f := newFixture()
	sessions := 3
	if err := f.m.WatchSessions("/mcp/stdio", func() int { return sessions }); err != nil {
		t.Fatal(err)
	}
	if err := f.m.WatchSessions("/mcp/up", func() int { return 0 }); err != nil {
		t.Fatal(err)
	}
	keys := &fakeKeys{ok: 2, failed: 1, n: 3}
	if err := f.m.WatchKeys(keys); err != nil {
		t.Fatal(err)
	}
	if err := f.m.WatchTokenCaches(fakeCache{Hits: 5, Misses: 2}, fakeCache{Hits: 1, Misses: 1}); err != nil {
		t.Fatal(err)
	}

	up := func(status int, latency time.Duration, kind string) func(context.Context) {
		return func(ctx context.Context) { observe.SetUpstream(ctx, status, latency, kind) }
	}
	for _, r := range []req{
		// Allowed tool calls through an HTTP upstream.
		{route: "/mcp/up", ops: call("search"), write: up(200, 30*time.Millisecond, ""), took: 40 * time.Millisecond, status: 200},
		{route: "/mcp/up", ops: call("fetch"), write: up(200, 2*time.Second, ""), took: 3 * time.Second, status: 200},
		// A 2025-03-26 batch: two operations, one HTTP request.
		{route: "/mcp/up", ops: []observe.Operation{{Method: "tools/list"}, {Method: "notifications/initialized"}},
			write: up(200, 5*time.Millisecond, ""), took: 6 * time.Millisecond, status: 200},
		// A client's response to a server request.
		{route: "/mcp/up", ops: []observe.Operation{{}}, write: up(202, time.Millisecond, ""), took: 2 * time.Millisecond, status: 202},
		// The upstream answered 500 (reached), then one not reachable.
		{route: "/mcp/up", ops: call("search"), write: func(ctx context.Context) {
			observe.SetUpstream(ctx, 500, 10*time.Millisecond, "status")
			observe.Failed(ctx, observe.ReasonUpstream, "upstream error")
		}, took: 11 * time.Millisecond, status: 502},
		{route: "/mcp/up", ops: call("search"), write: func(ctx context.Context) {
			observe.SetUpstream(ctx, 0, 0, "connect")
			observe.Failed(ctx, observe.ReasonUpstream, "unreachable")
		}, took: 2 * time.Millisecond, status: 502},
		// Refusals before the body is read.
		{route: "/mcp/up", write: func(ctx context.Context) { observe.Deny(ctx, authn.ReasonSignature, "bad") },
			took: time.Millisecond, status: 401},
		{route: "/mcp/up", write: func(ctx context.Context) { observe.Deny(ctx, observe.ReasonMissing, "no token") },
			took: time.Millisecond, status: 401},
		{route: "/mcp/up", write: func(ctx context.Context) { observe.Deny(ctx, observe.ReasonOrigin, "origin") },
			took: time.Millisecond, status: 403},
		{route: "/mcp/up", write: func(ctx context.Context) { observe.Failed(ctx, observe.ReasonUnavailable, "keys") },
			took: time.Millisecond, status: 503},
		// A scope refusal after the body was read.
		{route: "/mcp/up", ops: call("admin"), write: func(ctx context.Context) { observe.Deny(ctx, observe.ReasonScope, "scope") },
			took: time.Millisecond, status: 403},
		// A stdio route: no upstream status; a process failure.
		{route: "/mcp/stdio", ops: []observe.Operation{{Method: "initialize"}}, write: up(0, 20*time.Millisecond, ""),
			took: 25 * time.Millisecond, status: 200},
		{route: "/mcp/stdio", ops: call("x"), write: func(ctx context.Context) {
			observe.SetUpstream(ctx, 0, 0, "process")
			observe.Failed(ctx, observe.ReasonUpstream, "process exited")
		}, took: time.Millisecond, status: 502},
		// A GET stream held for a minute and a DELETE.
		{route: "/mcp/stdio", httpMethod: http.MethodGet, took: time.Minute, status: 200},
		{route: "/mcp/stdio", httpMethod: http.MethodDelete, took: time.Millisecond, status: 204},
	} {
		f.serve(r)
	}
	keys.at = f.clk.Now()
	f.clk.Advance(90 * time.Second) // the keys' age

	got, err := testutil.GatherAndFormat(f.m.Gatherer(), expfmt.TypeTextPlain, metricNames...)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "testdata/scenario.txt", got)
}

// metricNames are every mcpgw_* metric, as an operator's dashboard reads them.
var metricNames = []string{
	"mcpgw_requests_total", "mcpgw_request_duration_seconds", "mcpgw_auth_decisions_total",
	"mcpgw_upstream_duration_seconds", "mcpgw_upstream_errors_total",
	"mcpgw_streams", "mcpgw_sessions",
	"mcpgw_jwks_fetches_total", "mcpgw_jwks_keys", "mcpgw_jwks_age_seconds",
	"mcpgw_token_cache_hits_total", "mcpgw_token_cache_misses_total",
}

// TestMethodLabelIsBounded: whatever methods, HTTP methods and statuses
// clients cause, mcpgw_requests_total keeps to the MCP methods plus
// notification, response, other, GET and DELETE, and to three-digit
// statuses or "other": 1500 distinct methods and 2000 statuses do not
// make thousands of series.
func TestMethodLabelIsBounded(t *testing.T) {
	allowed := map[string]bool{"notification": true, "response": true, "other": true, "GET": true, "DELETE": true}
	for _, m := range []string{"initialize", "ping", "tools/list", "tools/call", "resources/list",
		"resources/templates/list", "resources/read", "resources/subscribe", "resources/unsubscribe",
		"prompts/list", "prompts/get", "completion/complete", "logging/setLevel", "subscriptions/listen"} {
		allowed[m] = true
	}
	// labels returns every label value of mcpgw_requests_total by name.
	labels := func(f *fixture) (series int, values map[string]map[string]bool) {
		families, err := f.m.Gatherer().Gather()
		if err != nil {
			t.Fatal(err)
		}
		values = map[string]map[string]bool{"method": {}, "status": {}, "route": {}}
		for _, mf := range families {
			if mf.GetName() != "mcpgw_requests_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				series++
				for _, l := range m.GetLabel() {
					values[l.GetName()][l.GetValue()] = true
				}
			}
		}
		return series, values
	}

	t.Run("methods", func(t *testing.T) {
		f := newFixture()
		hostile := []string{"tools/call ", "TOOLS/CALL", "tools/call\x00", "rpc.discover", "../../etc/passwd", "x-vendor/do", ""}
		for i := range 500 {
			hostile = append(hostile, fmt.Sprintf("method-%d", i), fmt.Sprintf("notifications/custom-%d", i), strings.Repeat("a", i))
		}
		for _, m := range append(hostile, "tools/call", "ping") {
			f.serve(req{route: "/mcp", ops: []observe.Operation{{Method: m}}, status: 200})
		}
		for _, hm := range []string{"GET", "DELETE", "PUT", "PATCH", "OPTIONS", "PROPFIND", "X-EVIL"} {
			f.serve(req{route: "/mcp", httpMethod: hm, status: 200})
		}
		series, values := labels(f)
		for v := range values["method"] {
			if !allowed[v] {
				t.Errorf("method label %q", v)
			}
		}
		// other, notification, response, tools/call, ping, GET, DELETE.
		if series != 7 {
			t.Errorf("%d series, want 7: %v", series, values["method"])
		}
	})

	t.Run("statuses", func(t *testing.T) {
		f := newFixture()
		for status := -1; status < 2000; status++ {
			f.serve(req{route: "/mcp", ops: call("x"), status: status})
		}
		series, values := labels(f)
		for v := range values["status"] {
			if v != "other" && (len(v) != 3 || v < "100" || v > "599") {
				t.Errorf("status label %q", v)
			}
		}
		if series != 501 { // 100..599 and other
			t.Errorf("%d series, want 501", series)
		}
	})
}

// TestStreamsInFlight: mcpgw_streams counts a request from its start to
// its end, per route.
func TestStreamsInFlight(t *testing.T) {
	f := newFixture()
	inFlight := func() string {
		got, err := testutil.GatherAndFormat(f.m.Gatherer(), expfmt.TypeTextPlain, "mcpgw_streams")
		if err != nil {
			t.Fatal(err)
		}
		return string(got)
	}
	hr := httptest.NewRequest(http.MethodGet, "http://gw.example/mcp", nil)
	ctx1, rec1 := f.hub.Start(context.Background(), "/mcp", hr, "192.0.2.1")
	ctx2, rec2 := f.hub.Start(context.Background(), "/mcp", hr, "192.0.2.1")
	if got := inFlight(); !strings.Contains(got, `mcpgw_streams{route="/mcp"} 2`) {
		t.Fatalf("two open requests:\n%s", got)
	}
	rec1.Finish(ctx1, 200)
	rec1.Finish(ctx1, 200) // a second Finish does nothing
	if got := inFlight(); !strings.Contains(got, `mcpgw_streams{route="/mcp"} 1`) {
		t.Fatalf("one open request:\n%s", got)
	}
	rec2.Finish(ctx2, 200)
	if got := inFlight(); !strings.Contains(got, `mcpgw_streams{route="/mcp"} 0`) {
		t.Fatalf("none open:\n%s", got)
	}
}

// TestHandler: /metrics serves the text format with the request metrics,
// the Go and process collectors, and nothing of the global registry.
func TestHandler(t *testing.T) {
	f := newFixture()
	f.serve(req{route: "/mcp", ops: call("x"), status: 200})
	srv := httptest.NewServer(f.m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("%s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`mcpgw_requests_total{method="tools/call",route="/mcp",status="200"} 1`,
		"go_goroutines ", "process_cpu_seconds_total ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if n, err := testutil.GatherAndCount(prometheus.DefaultGatherer, "mcpgw_requests_total"); err != nil || n != 0 {
		t.Fatalf("the default registry has %d mcpgw_requests_total series (%v)", n, err)
	}
}

// TestWatchTwice: a source registered twice is an error, not a panic or a
// duplicate series.
func TestWatchTwice(t *testing.T) {
	f := newFixture()
	if err := f.m.WatchSessions("/mcp", func() int { return 1 }); err != nil {
		t.Fatal(err)
	}
	if err := f.m.WatchSessions("/mcp", func() int { return 2 }); err == nil {
		t.Error("route /mcp watched twice")
	}
	if err := f.m.WatchKeys(&fakeKeys{}); err != nil {
		t.Fatal(err)
	}
	if err := f.m.WatchKeys(&fakeKeys{}); err == nil {
		t.Error("keys watched twice")
	}
	if err := f.m.WatchTokenCaches(); err != nil {
		t.Fatal(err)
	}
	if err := f.m.WatchTokenCaches(); err == nil {
		t.Error("token caches watched twice")
	}
}

// TestJWKSAgeAbsentBeforeFirstLoad: no age is reported for keys never
// loaded (a 0 would read as fresh keys).
func TestJWKSAgeAbsentBeforeFirstLoad(t *testing.T) {
	f := newFixture()
	keys := &fakeKeys{failed: 4}
	if err := f.m.WatchKeys(keys); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(f.m.Gatherer(), "mcpgw_jwks_age_seconds"); err != nil || n != 0 {
		t.Fatalf("age before any load: %d series (%v)", n, err)
	}
	err := testutil.GatherAndCompare(f.m.Gatherer(), strings.NewReader(`
# HELP mcpgw_jwks_keys Usable signing keys cached from the issuer's JWKS.
# TYPE mcpgw_jwks_keys gauge
mcpgw_jwks_keys 0
`), "mcpgw_jwks_keys")
	if err != nil {
		t.Fatal(err)
	}
}
