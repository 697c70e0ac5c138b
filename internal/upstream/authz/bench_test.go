package authz_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/authz"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// BenchmarkWrap measures the middleware alone (no network) on an allowed
// tools/call, and on a tools/list whose JSON answer is filtered, each
// against the bare handler (-unwrapped); both behind call.Read.
func BenchmarkWrap(b *testing.B) {
	m, err := authz.New(testPolicy, authz.Options{Deny: deny})
	if err != nil {
		b.Fatal(err)
	}
	p := &authn.Principal{Subject: "s", Scopes: []string{"mcp"}, Expiry: time.Now().Add(time.Hour)}
	for _, bc := range []struct{ name, body, answer string }{
		{"tools-call", rpc(1, "tools/call", `{"name":"echo","arguments":{"message":"hello"}}`), `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`},
		{"tools-list", rpc(1, "tools/list", ""), `{"jsonrpc":"2.0","id":1,"result":` + lists["tools/list"] + `}`},
	} {
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(bc.answer))
		})
		for name, h := range map[string]http.Handler{bc.name: call.Read(0, m.Wrap(next)), bc.name + "-unwrapped": call.Read(0, next)} {
			bench(b, name, h, bc.body, p)
		}
	}
}

func bench(b *testing.B, name string, h http.Handler, body string, p *authn.Principal) {
	b.Run(name, func(b *testing.B) {
		for b.Loop() {
			r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(body))
			r = r.WithContext(bearer.WithToken(r.Context(), p))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatal(w.Code)
			}
		}
	})
}
