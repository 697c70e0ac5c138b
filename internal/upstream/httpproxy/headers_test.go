package httpproxy

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// golden compares got with testdata/name (go test -update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", name), []byte(got))
}

// TestForwardedHeaders: what an upstream receives from a client request
// full of credentials, forwarding headers and hop-by-hop headers is exactly
// the allowlist plus the Injector's header (testdata/forwarded_headers.golden).
func TestForwardedHeaders(t *testing.T) {
	checkLeaks(t)
	up, rec := scripted(t)
	gw := front(t, newProxy(t, Options{URL: up.URL, Identity: headerInjector{}}))
	resp, _ := rawDo(t, http.MethodPost, gw.URL+"/?access_token=leak", "alice", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, map[string]string{
		"Authorization":           "Bearer client-token",
		"Cookie":                  "sid=1",
		"Proxy-Authorization":     "Basic eDp5",
		"X-Forwarded-For":         "10.0.0.1",
		"X-Forwarded-Host":        "evil.test",
		"Forwarded":               "for=10.0.0.1",
		"X-Real-Ip":               "10.0.0.1",
		"Connection":              "X-Hop, Mcp-Param-Hop",
		"X-Hop":                   "1",
		"Mcp-Param-Hop":           "dropped: named in Connection",
		"Te":                      "trailers",
		"Mcp-Protocol-Version":    "2026-07-28",
		"Mcp-Method":              "notifications/initialized",
		"Mcp-Name":                "n",
		"Mcp-Param-Region":        "eu-west-1",
		"Mcp-Param-Unknown-Thing": "kept",
		"Last-Event-Id":           "3",
		"User-Agent":              "test-agent/1",
		"Accept-Language":         "fr",
		"X-Gateway-Subject":       "mallory",
		"Origin":                  "https://claude.ai",
	})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if q := rec.all()[0].query; q != "" {
		t.Errorf("client query %q reached the upstream", q)
	}
	got := rec.all()[0].header
	var lines []string
	for k, v := range got {
		if k == "Content-Length" || k == "Accept-Encoding" {
			continue // set by net/http
		}
		lines = append(lines, k+": "+strings.Join(v, ", "))
	}
	slices.Sort(lines)
	golden(t, "forwarded_headers.golden", strings.Join(lines, "\n")+"\n")
}
