package httpproxy

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// repeatCalls is how many pings and progress calls TestRepeatedCalls makes
// per route kind.
const repeatCalls = 300

// TestRepeatedCalls: every response arrives, repeatCalls times in a row,
// for ping and for a tool call with progress, through the bridge and
// through the Streamable HTTP proxy against real go-sdk upstreams, with a
// Go reverse proxy in front of the gateway as the conformance harness has
// (see goReverseProxy: without the response hold, such a front loses about
// one response in a hundred; the conformance suite saw ping,
// tools-call-with-progress and server-sse-polling fail about one run in
// three).
func TestRepeatedCalls(t *testing.T) {
	for _, kind := range []string{"sse", "stateful", "stateless"} {
		t.Run(kind, func(t *testing.T) {
			checkLeaks(t)
			o := Options{}
			switch kind {
			case "sse":
				o.URL, o.Transport = sseUpstream(t, mcpServer(nil), nil).URL, TransportSSE
			default:
				o.URL = streamableUpstream(t, mcpServer(nil), kind == "stateless", nil).URL
			}
			url := goReverseProxy(t, front(t, newProxy(t, o)).URL)
			progress := make(chan float64, 1)
			cs := connect(t, url, "alice", "2025-11-25", func(r *mcp.ProgressNotificationClientRequest) {
				select {
				case progress <- r.Params.Progress:
				default:
				}
			})
			start := time.Now()
			var lost []string
			for i := range repeatCalls {
				ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
				if err := cs.Ping(ctx, nil); err != nil {
					lost = append(lost, fmt.Sprintf("ping %d: %v", i, err))
				}
				params := &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{}}
				params.SetProgressToken(fmt.Sprintf("p-%d", i))
				if _, err := cs.CallTool(ctx, params); err != nil {
					lost = append(lost, fmt.Sprintf("call %d: %v", i, err))
				} else {
					select { // the client runs its progress handler asynchronously
					case <-progress:
					case <-ctx.Done():
						lost = append(lost, fmt.Sprintf("call %d: no progress", i))
					}
				}
				cancel()
			}
			t.Logf("%s: %d pings and %d progress calls in %v, %d lost", kind, repeatCalls, repeatCalls, time.Since(start), len(lost))
			if len(lost) > 0 {
				t.Errorf("%d of %d lost: %q", len(lost), 2*repeatCalls, lost)
			}
		})
	}
}

// goReverseProxy puts in front of url a reverse proxy built as the
// conformance harness builds its own (httputil.ReverseProxy streaming
// request and response bodies, FlushInterval -1), and returns its URL.
// Such a proxy drops the connection to the gateway when response headers
// arrive before its transport finished with the request body
// (golang/go#40747): writing the headers makes its server drain and close
// the inbound body, the transport's final read of it fails, and the
// transport closes the connection, cutting the response stream.
func goReverseProxy(t *testing.T, url string) string {
	t.Helper()
	target, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	rp := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(target) },
		FlushInterval: -1,
		Transport:     tr,
		ErrorLog:      log.New(io.Discard, "", 0),
	})
	t.Cleanup(rp.Close)
	return rp.URL
}
