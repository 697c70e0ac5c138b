package httpproxy

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// directOpsPerSec is the direct run's throughput, for the gateway run's ratio.
var directOpsPerSec float64

// BenchmarkToolsCall measures tools/call throughput and p50/p99 latency
// straight to a go-sdk upstream and through the proxy, with the same
// upstream, client code and load (b.RunParallel over one client session per
// goroutine group). The "through-proxy" run reports ratio = its throughput /
// the direct run's (goal >= 0.85); run both in the same invocation:
//
//	go test -run '^$' -bench BenchmarkToolsCall -benchtime 5s ./internal/upstream/httpproxy
func BenchmarkToolsCall(b *testing.B) {
	srv := mcpServer(nil)
	up := streamableUpstream(b, srv, true, nil)
	p, err := New(Options{URL: up.URL, RouteID: "/mcp/bench", SessionKey: testKey, Identity: headerInjector{}, MaxStreamsPerPrincipal: 64})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	gw := front(b, p)
	for _, target := range []struct{ name, url string }{{"direct", up.URL}, {"through-proxy", gw.URL}} {
		b.Run(target.name, func(b *testing.B) { benchCalls(b, target.url, target.name == "through-proxy") })
	}
}

func benchCalls(b *testing.B, url string, ratio bool) {
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	c := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
	ctx := context.Background()
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, DisableStandaloneSSE: true,
		HTTPClient: &http.Client{Transport: headerTransport{sub: "alice", base: tr}}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()
	params := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "bench"}}
	var mu sync.Mutex
	var all []time.Duration
	b.ReportAllocs()
	b.SetParallelism(8) // enough calls in flight that throughput, not one hop's latency, is measured
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		lat := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t0 := time.Now()
			if _, err := cs.CallTool(ctx, params); err != nil {
				b.Error(err)
				return
			}
			lat = append(lat, time.Since(t0))
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	q := func(f float64) float64 { return float64(all[int(f*float64(len(all)-1))].Microseconds()) }
	ops := float64(len(all)) / elapsed.Seconds()
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(ops, "calls/s")
	if !ratio {
		directOpsPerSec = ops
	} else if directOpsPerSec > 0 {
		b.ReportMetric(ops/directOpsPerSec, "ratio")
	}
}
