//go:build unix

package observe_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/audit"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/metrics"
)

// discardWriter is a ResponseWriter that keeps nothing, so that the
// benchmark measures the seam rather than a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// seamRoute does what the gateway's layers record on an allowed tools/call
// (the verify phase, the principal, the operation) and answers 200.
var seamRoute = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, end := observe.StartPhase(ctx, observe.PhaseVerify)
	end(nil)
	observe.SetPrincipal(ctx, "user-1", "client-1", "https://idp.example")
	observe.SetOperations(ctx, []observe.Operation{{Method: "tools/call", Name: "echo"}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
})

// BenchmarkObserve is the cost per request of the observer seam
// (Hub.Handler around a route), for an allowed tools/call: "bare" is the
// route without the seam (its observe calls find no record); "hub" the
// seam with no sinks; then the Prometheus metrics, and the metrics plus
// the audit log (one JSON line per tools/call) to io.Discard or to a file.
func BenchmarkObserve(b *testing.B) {
	file := func(b *testing.B) observe.Observer {
		f, err := os.Create(filepath.Join(b.TempDir(), "audit.log"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = f.Close() })
		return audit.New(f)
	}
	for _, tc := range []struct {
		name  string
		sinks func(b *testing.B) []observe.Observer // nil: no Hub at all
	}{
		{"bare", nil},
		{"hub", func(*testing.B) []observe.Observer { return nil }},
		{"metrics", func(*testing.B) []observe.Observer {
			return []observe.Observer{metrics.New(metrics.Options{})}
		}},
		{"metrics+audit-discard", func(*testing.B) []observe.Observer {
			return []observe.Observer{audit.New(io.Discard), metrics.New(metrics.Options{})}
		}},
		{"metrics+audit-file", func(b *testing.B) []observe.Observer {
			return []observe.Observer{file(b), metrics.New(metrics.Options{})}
		}},
	} {
		b.Run("sinks="+tc.name, func(b *testing.B) {
			var h http.Handler = seamRoute
			if tc.sinks != nil {
				h = observe.NewHub(tc.sinks(b)...).Handler("/mcp", func(*http.Request) string { return "192.0.2.1" }, seamRoute)
			}
			r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "http://gw.example/mcp", nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			cpu := testkit.ReportCPU(b)
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
			cpu()
		})
	}
}
