package httpproxy

import (
	"net/http"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
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
	p, err := New(Options{URL: up.URL, RouteID: "/mcp/bench", SessionKey: testKey, Identity: headerInjector{}})
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
	ops := testenv.BenchToolsCall(b, url, headerTransport{sub: "alice", base: tr})
	if !ratio {
		directOpsPerSec = ops
	} else if directOpsPerSec > 0 && ops > 0 {
		b.ReportMetric(ops/directOpsPerSec, "ratio")
	}
}
