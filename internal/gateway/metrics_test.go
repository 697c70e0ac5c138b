package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
)

// TestMetricsEndpoint: Options.MetricsHandler is served at GET /metrics,
// without a token; without it (metrics on their own listener) /metrics is
// 404.
func TestMetricsEndpoint(t *testing.T) {
	scrape := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "mcpgw_requests_total 0\n")
	})
	for _, tt := range []struct {
		name    string
		handler http.Handler
		method  string
		status  int
	}{
		{"mounted", scrape, http.MethodGet, http.StatusOK},
		{"mounted, POST", scrape, http.MethodPost, http.StatusMethodNotAllowed},
		{"not mounted", nil, http.MethodGet, http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g, err := gateway.New(gateway.Options{PublicURL: "http://gw.example", MetricsHandler: tt.handler})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			g.Handler().ServeHTTP(rec, httptest.NewRequest(tt.method, "http://gw.example/metrics", nil))
			if rec.Code != tt.status {
				t.Fatalf("%s /metrics = %d, want %d", tt.method, rec.Code, tt.status)
			}
			if tt.status == http.StatusOK && !strings.Contains(rec.Body.String(), "mcpgw_requests_total") {
				t.Fatalf("body %q", rec.Body.String())
			}
		})
	}
}
