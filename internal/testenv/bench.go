package testenv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// BenchToolsCall drives tools/call of the tool "echo" at the MCP endpoint
// url with one go-sdk client session shared by 8×GOMAXPROCS goroutines
// (b.RunParallel), so throughput rather than one hop's latency is
// measured. rt carries requests (it may add credentials); nil means a
// fresh transport. It reports p50-µs, p99-µs and calls/s and returns the
// calls per second, so a caller can report a ratio between two runs made
// in the same invocation.
func BenchToolsCall(b *testing.B, url string, rt http.RoundTripper) float64 {
	b.Helper()
	if rt == nil {
		tr := &http.Transport{MaxIdleConnsPerHost: 256}
		defer tr.CloseIdleConnections()
		rt = tr
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
	ctx := context.Background()
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, DisableStandaloneSSE: true,
		HTTPClient: &http.Client{Transport: rt}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()
	params := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "bench"}}
	var mu sync.Mutex
	var all []time.Duration
	b.ReportAllocs()
	b.SetParallelism(8)
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
		return 0
	}
	slices.Sort(all)
	q := func(f float64) float64 { return float64(all[int(f*float64(len(all)-1))].Microseconds()) }
	ops := float64(len(all)) / elapsed.Seconds()
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(ops, "calls/s")
	return ops
}

// StartEchoUpstream serves a stateless go-sdk MCP server with one tool,
// "echo" ({"message": string} → one text content with the message: what
// BenchToolsCall calls), on a loopback httptest server closed at cleanup,
// and returns its URL.
func StartEchoUpstream(t testing.TB) string {
	t.Helper()
	up := httptest.NewServer(echoHandler("echo-upstream"))
	t.Cleanup(up.Close)
	return up.URL
}

// echoHandler is a stateless go-sdk MCP server named name with one tool,
// "echo" ({"message": string} → one text content with the message), over
// Streamable HTTP.
func echoHandler(name string) http.Handler {
	srv := mcp.NewServer(&mcp.Implementation{Name: name, Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in struct {
		Message string `json:"message"`
	}) (*mcp.CallToolResult, struct{}, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Message}}}, struct{}{}, nil
	})
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: true, DisableLocalhostProtection: true})
}
