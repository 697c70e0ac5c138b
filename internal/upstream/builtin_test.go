package upstream

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// TestBuiltinFailsClosedWithoutPrincipal: mounted without the gateway's
// bearer middleware, the built-in server serves nobody.
func TestBuiltinFailsClosedWithoutPrincipal(t *testing.T) {
	h := NewBuiltin(BuiltinOptions{Version: "t"})
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(init))
	r.Header.Set("Authorization", "Bearer forged")
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json, text/event-stream")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", w.Code)
	}

	p := &authn.Principal{Subject: "s", Issuer: "i", Expiry: time.Now().Add(time.Hour)}
	r = httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(init))
	r.Header.Set("Authorization", "Bearer forged")
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json, text/event-stream")
	r = r.WithContext(bearer.WithToken(r.Context(), p))
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || w.Header().Get("Mcp-Session-Id") == "" {
		t.Fatalf("with a principal: %d %s", w.Code, w.Body)
	}
}

func TestByProtocolGeneration(t *testing.T) {
	var got string
	h := byProtocolGeneration(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "stateful" }),
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "stateless" }),
	)
	for v, want := range map[string]string{
		"": "stateful", "2024-11-05": "stateful", "2025-06-18": "stateful", "2025-11-25": "stateful",
		"2026-07-28": "stateless", "2027-01-01": "stateless",
	} {
		r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
		if v != "" {
			r.Header.Set("MCP-Protocol-Version", v)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != want {
			t.Errorf("%q -> %s, want %s", v, got, want)
		}
	}
}
