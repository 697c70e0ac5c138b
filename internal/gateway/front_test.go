package gateway_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// TestErrorBodiesGolden pins the gateway's own refusals, every one a
// JSON-RPC error written by mcpwire: a foreign Origin (403, before the
// token), echo's 404 and 405, and what the one body reader in front of
// every MCP route answers (413 beyond max_body_bytes with -32600, not the
// -32001 of session-not-found; 400 for a body that is not JSON or not
// JSON-RPC), after the token was checked.
func TestErrorBodiesGolden(t *testing.T) {
	e := newEnv(t, envOpts{})
	good := "Bearer " + e.token(nil)
	big := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"` + strings.Repeat("a", 70<<10) + `"}}`
	cases := []struct {
		name, method, path, auth, origin, body string
	}{
		{"foreign origin", http.MethodPost, "/mcp", good, "https://evil.example", ping},
		{"unknown path", http.MethodGet, "/nope", "", "", ""},
		{"method not allowed", http.MethodPost, "/healthz", "", "", ping},
		{"body over the cap", http.MethodPost, "/mcp", good, "", big},
		{"body over the cap without a token", http.MethodPost, "/mcp", "", "", big},
		{"not JSON", http.MethodPost, "/mcp", good, "", `{"jsonrpc":`},
		{"not JSON-RPC", http.MethodPost, "/mcp", good, "", `{}`},
	}
	var out strings.Builder
	for _, c := range cases {
		req, err := http.NewRequest(c.method, e.public+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp.Body)
		resp.Body.Close()
		fmt.Fprintf(&out, "## %s\nstatus: %d\ncontent-type: %s\nbody: %s\n", c.name, resp.StatusCode,
			resp.Header.Get("Content-Type"), strings.TrimSpace(body))
	}
	testkit.Golden(t, "testdata/errors.golden", []byte(out.String()))
	if n := e.reached.Load(); n != 0 {
		t.Fatalf("%d refused requests reached the route's handler", n)
	}
}

// TestBodyReadOnceForTheHandler proves the gateway mounts call.Read in front
// of a route's handler, after the token: a POST arrives with the verified
// principal and the parsed body in call.From, and r.Body replays the same
// bytes; a GET carries the principal and no body.
func TestBodyReadOnceForTheHandler(t *testing.T) {
	e := newEnv(t, envOpts{})
	auth := "Bearer " + e.token(map[string]any{"sub": "carol"})
	if resp := e.post(t, "/mcp", auth, nil, ping); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	got := e.last.Load()
	if got == nil || got.call.Principal == nil || got.call.Principal.Subject != "carol" {
		t.Fatalf("POST reached the handler without the principal: %+v", got)
	}
	if b := got.call.Body; b == nil || b.Batch || len(b.Messages) != 1 || b.Messages[0].Method != "ping" || string(b.Raw) != ping {
		t.Fatalf("POST body in the call: %+v", b)
	}
	if got.body != ping {
		t.Fatalf("r.Body replayed %q, want %q", got.body, ping)
	}

	req, _ := http.NewRequest(http.MethodGet, e.public+"/mcp", nil)
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got = e.last.Load()
	if resp.StatusCode != http.StatusOK || got.call.Principal == nil || got.call.Body != nil {
		t.Fatalf("GET: %d, call %+v", resp.StatusCode, got.call)
	}
}
