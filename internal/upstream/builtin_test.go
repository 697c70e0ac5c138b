package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

// withPrincipal stands in for the gateway's bearer middleware.
func withPrincipal(p *authn.Principal, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(bearer.WithToken(r.Context(), p)))
	})
}

// TestBuiltinFailsClosed: the built-in server serves nobody without the
// gateway's bearer middleware (401), and refuses a POST whose body the
// gateway's front (call.Read) did not read, cap and parse (500), since the
// SDK's own cap is off.
func TestBuiltinFailsClosed(t *testing.T) {
	h := NewBuiltin(BuiltinOptions{Version: "t"})
	p := &authn.Principal{Subject: "s", Issuer: "i", Expiry: time.Now().Add(time.Hour)}
	for _, c := range []struct {
		name    string
		handler http.Handler
		status  int
	}{
		{"no principal", call.Read(0, h), http.StatusUnauthorized},
		{"no call.Read", withPrincipal(p, h), http.StatusInternalServerError},
		{"front as the gateway mounts it", withPrincipal(p, call.Read(0, h)), http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(initBody))
			r.Header.Set("Authorization", "Bearer forged")
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Accept", "application/json, text/event-stream")
			w := httptest.NewRecorder()
			c.handler.ServeHTTP(w, r)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d: %s", w.Code, c.status, w.Body)
			}
			if c.status == http.StatusOK && w.Header().Get(mcpwire.HeaderSessionID) == "" {
				t.Fatal("initialize answered without a session")
			}
		})
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

// bearerRT adds a bearer token to every request (the SDK's
// RequireBearerToken wants one; the principal comes from the context).
type bearerRT struct{ base http.RoundTripper }

func (b bearerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer opaque")
	return b.base.RoundTrip(r)
}

// TestBuiltinDeclaresExactlyWhatItServes drives the built-in server with
// the go-sdk client over both generations (2025-11-25 initialize;
// 2026-07-28 server/discover, stateless): the declared capabilities are
// exactly {"tools":{}}, tools work, and the methods of undeclared
// capabilities (prompts, resources, resource templates, logging) get
// -32601.
func TestBuiltinDeclaresExactlyWhatItServes(t *testing.T) {
	testkit.CheckGoroutines(t)
	p := &authn.Principal{Subject: "alice", Issuer: "https://issuer.test", Expiry: time.Now().Add(time.Hour)}
	hs := httptest.NewServer(withPrincipal(p, call.Read(0, NewBuiltin(BuiltinOptions{Version: "t"}))))
	defer hs.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	for _, version := range []string{mcpwire.Version20251125, mcpwire.Version20260728} {
		t.Run(version, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
			defer cancel()
			client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
			cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: hs.URL,
				HTTPClient: &http.Client{Transport: bearerRT{tr}}, MaxRetries: -1},
				&mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			res := cs.InitializeResult()
			if res.ProtocolVersion != version {
				t.Fatalf("negotiated %s, want %s", res.ProtocolVersion, version)
			}
			if caps, _ := json.Marshal(res.Capabilities); string(caps) != `{"tools":{}}` {
				t.Fatalf("declared capabilities %s, want exactly {\"tools\":{}}", caps)
			}
			if tools, err := cs.ListTools(ctx, nil); err != nil || len(tools.Tools) != 2 {
				t.Fatalf("tools/list: %+v, %v", tools, err)
			}
			undeclared := map[string]func() error{
				"prompts/list":             func() error { _, err := cs.ListPrompts(ctx, nil); return err },
				"resources/list":           func() error { _, err := cs.ListResources(ctx, nil); return err },
				"resources/templates/list": func() error { _, err := cs.ListResourceTemplates(ctx, nil); return err },
				"resources/read": func() error {
					_, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "file:///etc/passwd"})
					return err
				},
			}
			if version == mcpwire.Version20251125 { // removed from 2026-07-28
				undeclared["logging/setLevel"] = func() error { return cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "debug"}) }
			}
			for method, send := range undeclared {
				var we *jsonrpc.Error
				if err := send(); !errors.As(err, &we) || we.Code != mcpwire.CodeMethodNotFound {
					t.Errorf("%s: err = %v, want JSON-RPC error %d", method, err, mcpwire.CodeMethodNotFound)
				}
			}
		})
	}
}
