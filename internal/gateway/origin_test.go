package gateway_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestOriginValidation(t *testing.T) {
	e := newEnv(t, envOpts{origins: []string{"https://inspector.example"}})
	good := "Bearer " + e.token(nil)
	cases := []struct {
		name, origin, auth string
		want               int
	}{
		{"no origin, no token", "", "", 401},
		{"no origin, token", "", good, 200},
		{"public origin", e.public, good, 200},
		{"configured origin", "https://inspector.example", good, 200},
		{"foreign origin with valid token", "https://evil.example", good, 403},
		{"foreign origin without token", "https://evil.example", "", 403},
		{"dns rebinding look-alike", "http://evil.example:" + strings.Split(e.public, ":")[2], good, 403},
		{"loopback origin not enabled", "http://localhost:6274", good, 403},
		{"null origin", "null", good, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := map[string]string{}
			if c.origin != "" {
				h["Origin"] = c.origin
			}
			resp := e.post(t, "/mcp", c.auth, h, ping)
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
			if c.want == 200 && c.origin != "" && resp.Header.Get("Access-Control-Allow-Origin") != c.origin {
				t.Fatalf("allowed origin not echoed: %v", resp.Header)
			}
		})
	}
	if e.reached.Load() != 3 {
		t.Fatalf("handler reached %d times, want 3", e.reached.Load())
	}
}

func TestCORSPreflightOnMCPRoute(t *testing.T) {
	e := newEnv(t, envOpts{origins: []string{"https://inspector.example"}})
	req, _ := http.NewRequest(http.MethodOptions, e.public+"/mcp", nil)
	req.Header.Set("Origin", "https://inspector.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type, mcp-protocol-version")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("preflight status %d", resp.StatusCode)
	}
	for _, h := range []string{"Authorization", "Mcp-Session-Id", "MCP-Protocol-Version", "Mcp-Method"} {
		if !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), h) {
			t.Errorf("Allow-Headers lacks %s", h)
		}
	}
	if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
		t.Error("WWW-Authenticate not exposed to browser clients")
	}
}
