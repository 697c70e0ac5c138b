package main

import (
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// BenchmarkScaleRoutesWired: mcp-gateway as `serve` wires it (wire: one
// verifier, HTTP proxy, metrics series and middleware chain per route)
// with N HTTP routes, all fronting one stateless upstream. It reports
// tools/call throughput on the last route over loopback HTTP
// (testenv.BenchToolsCall: calls/s, p50-µs, p99-µs) and what wiring the N
// routes adds to the live heap (heap-B, heap-B/route).
func BenchmarkScaleRoutesWired(b *testing.B) {
	iss := authntest.NewIssuer(b)
	upURL := testenv.StartEchoUpstream(b)
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			public := "http://" + ln.Addr().String()
			cfg := &config.Config{Listen: ln.Addr().String(), PublicURL: public, Issuer: iss.URL, Provider: "generic",
				RequiredScopes: []string{"mcp:read"}, LogLevel: "error", AuditLog: "off",
				RateLimitPerIP: -1, RateLimitPerPrincipal: -1}
			for i := range n {
				cfg.Routes = append(cfg.Routes, config.Route{Path: fmt.Sprintf("/mcp/r%d", i), Upstream: upURL,
					MaxStreamsPerPrincipal: 1024})
			}
			heap := benchWired(b, cfg, ln)
			path := fmt.Sprintf("/mcp/r%d", n-1)
			tr := &http.Transport{MaxIdleConnsPerHost: 256}
			defer tr.CloseIdleConnections()
			testenv.BenchToolsCall(b, public+path, tokenTransport{token: iss.Mint(iss.Claims(public + path)), base: tr})
			b.ReportMetric(heap, "heap-B")
			b.ReportMetric(heap/float64(n), "heap-B/route")
		})
	}
}
