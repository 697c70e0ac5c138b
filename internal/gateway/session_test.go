package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream"
)

// acceptAll is a verifier that admits any token as subject "any".
type acceptAll struct{}

func (acceptAll) Verify(context.Context, string) (*authn.Principal, error) {
	return &authn.Principal{Subject: "any", Expiry: time.Now().Add(time.Hour)}, nil
}

// bearerRT adds a bearer token to every request of an MCP client.
type bearerRT struct{ token string }

func (b bearerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// TestGoSDKClientCallsWhoami drives the built-in server with the official
// go-sdk client over both transport generations.
func TestGoSDKClientCallsWhoami(t *testing.T) {
	e := newEnv(t, envOpts{builtin: true})
	for _, version := range []string{"2026-07-28", "2025-11-25", "2025-06-18"} {
		t.Run(version, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
			tr := &mcp.StreamableClientTransport{Endpoint: e.resource,
				HTTPClient: &http.Client{Transport: bearerRT{e.token(map[string]any{"sub": "alice"})}}}
			cs, err := client.Connect(ctx, tr, &mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			if got := cs.InitializeResult().ProtocolVersion; got != version {
				t.Fatalf("negotiated %s, want %s", got, version)
			}
			tools, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range tools.Tools {
				names = append(names, tool.Name)
			}
			if strings.Join(names, ",") != "echo,whoami" && strings.Join(names, ",") != "whoami,echo" {
				t.Fatalf("tools = %v", names)
			}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
			if err != nil || res.IsError {
				t.Fatalf("whoami: %v %+v", err, res)
			}
			var id upstream.Identity
			raw, _ := json.Marshal(res.StructuredContent)
			if err := json.Unmarshal(raw, &id); err != nil {
				t.Fatal(err)
			}
			if id.Subject != "alice" || id.Issuer != e.iss.URL || len(id.Audience) != 1 || id.Audience[0] != e.resource {
				t.Fatalf("whoami = %+v", id)
			}
			if strings.Contains(string(raw), "eyJ") {
				t.Fatalf("whoami leaked a token: %s", raw)
			}
			echo, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "héllo"}})
			if err != nil || echo.Content[0].(*mcp.TextContent).Text != "héllo" {
				t.Fatalf("echo: %v %+v", err, echo)
			}
		})
	}
}

// TestSessionBelongsToItsPrincipal: another subject presenting a session id
// is refused.
func TestSessionBelongsToItsPrincipal(t *testing.T) {
	e := newEnv(t, envOpts{builtin: true})
	alice := "Bearer " + e.token(map[string]any{"sub": "alice"})
	bob := "Bearer " + e.token(map[string]any{"sub": "bob"})
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	resp := e.post(t, "/mcp", alice, nil, init)
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || sid == "" {
		t.Fatalf("initialize: %d session %q", resp.StatusCode, sid)
	}
	hdr := map[string]string{"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-06-18"}
	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	if resp := e.post(t, "/mcp", bob, hdr, list); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("bob using alice's session: %d, want 403", resp.StatusCode)
	}
	other := "Bearer " + e.token(map[string]any{"sub": "alice", "iss": e.iss.URL, "jti": "x2"})
	if resp := e.post(t, "/mcp", other, hdr, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("alice with a fresh token on her session: %d", resp.StatusCode)
	}
	if resp := e.post(t, "/mcp", alice, hdr, list); resp.StatusCode != http.StatusOK {
		t.Fatalf("alice on her session: %d", resp.StatusCode)
	}
	if resp := e.post(t, "/mcp", "", hdr, list); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session id without token: %d, want 401", resp.StatusCode)
	}
}
