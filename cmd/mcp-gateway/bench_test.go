//go:build unix

package main

import (
	"net"
	"net/http"
	"os"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// tokenTransport adds a bearer token to every request.
type tokenTransport struct {
	token string
	base  http.RoundTripper
}

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.base.RoundTrip(r)
}

// withCPU runs bench and reports the process's CPU time per call as
// cpu-µs/op: client, gateway and upstream together, garbage collection
// included. On a shared machine it moves less than calls/s, which also
// counts the time spent waiting for a CPU.
func withCPU(b *testing.B, bench func() float64) float64 {
	start := testkit.CPUTime()
	ops := bench()
	b.ReportMetric(float64((testkit.CPUTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
	return ops
}

// BenchmarkGatewayToolsCall measures tools/call straight to an upstream MCP
// server and through the whole gateway as `serve` wires it (Origin check,
// body cap, bearer verification of a real RS256 token, per-tool scope
// middleware, HTTP proxy with session binding and identity headers), with
// the same client code and load in the same invocation. "through-gateway"
// reports ratio = its calls/s ÷ the direct run's (goal ≥ 0.85). "builtin"
// calls the gateway's own echo tool (upstream.NewBuiltin) behind the same
// front.
func BenchmarkGatewayToolsCall(b *testing.B) {
	iss := authntest.NewIssuer(b)
	upURL := testenv.StartEchoUpstream(b)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	public := "http://" + ln.Addr().String()
	b.Setenv("BENCH_IDENTITY_KEY", "0123456789abcdef0123456789abcdef")
	cfg := &config.Config{Listen: ln.Addr().String(), PublicURL: public, Issuer: iss.URL, Provider: "generic",
		RequiredScopes: []string{"mcp:read"}, LogLevel: "error",
		// One principal from one address at full speed: the rate limits
		// would measure themselves.
		RateLimitPerIP: -1, RateLimitPerPrincipal: -1,
		// A JSON line per call on stderr would measure the terminal.
		AuditLog: config.AuditLogOff,
		Routes: []config.Route{{Path: "/mcp", Upstream: upURL, MaxStreamsPerPrincipal: 1024,
			ToolScopes: map[string][]string{"admin_*": {"mcp:admin"}},
			Identity:   "hmac", IdentityKeyEnv: "BENCH_IDENTITY_KEY"},
			{Path: "/builtin", Upstream: config.BuiltinUpstream}}}
	benchWired(b, cfg, ln)
	token := iss.Mint(iss.Claims(public + "/mcp"))
	builtinToken := iss.Mint(iss.Claims(public + "/builtin"))

	var direct float64
	b.Run("direct", func(b *testing.B) {
		direct = withCPU(b, func() float64 { return testenv.BenchToolsCall(b, upURL, nil) })
	})
	b.Run("through-gateway", func(b *testing.B) {
		tr := &http.Transport{MaxIdleConnsPerHost: 256}
		defer tr.CloseIdleConnections()
		ops := withCPU(b, func() float64 {
			return testenv.BenchToolsCall(b, public+"/mcp", tokenTransport{token: token, base: tr})
		})
		if direct > 0 && ops > 0 {
			b.ReportMetric(ops/direct, "ratio")
		}
	})
	b.Run("builtin", func(b *testing.B) {
		tr := &http.Transport{MaxIdleConnsPerHost: 256}
		defer tr.CloseIdleConnections()
		withCPU(b, func() float64 {
			return testenv.BenchToolsCall(b, public+"/builtin", tokenTransport{token: builtinToken, base: tr})
		})
	})
}

// benchWired completes cfg with its defaults, wires it as serve does and
// serves it on ln (serveAppOn) until the benchmark ends; it returns the
// live heap wiring added.
func benchWired(b *testing.B, cfg *config.Config, ln net.Listener) (heap float64) {
	b.Helper()
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	before := testkit.HeapInUse()
	a, err := wire(cfg, newLogger("error", "text"), os.Getenv)
	if err != nil {
		b.Fatal(err)
	}
	heap = testkit.HeapInUse() - before
	serveAppOn(b, a, ln)
	return heap
}
