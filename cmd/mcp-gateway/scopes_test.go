package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

const scopesPublic = "https://gw.example"

// scopesConfig is two built-in routes with different tool scopes behind a
// global mcp:read, and the given scope_implies and scopes_supported.
func scopesConfig(t *testing.T, iss *authntest.Issuer, implies map[string][]string, supported []string) *config.Config {
	t.Helper()
	cfg := &config.Config{Listen: "127.0.0.1:0", PublicURL: scopesPublic, Issuer: iss.URL, Provider: "generic",
		LogLevel: "error", RequiredScopes: []string{"mcp:read"}, ScopeImplies: implies, ScopesSupported: supported,
		Routes: []config.Route{
			{Path: "/mcp/tickets", Upstream: config.BuiltinUpstream, ToolScopes: map[string][]string{"echo": {"mcp:write"}}},
			{Path: "/mcp/admin", Upstream: config.BuiltinUpstream, ToolScopes: map[string][]string{"whoami": {"mcp:admin"}}},
		}}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestWiredPRMScopesPerRoute: each route's PRM lists the global required
// scopes and its own tool scopes only (mcp:admin only where a tool needs
// it, although scope_implies relates it to mcp:write); the root lists
// every route's; a configured scopes_supported is one list everywhere,
// after the route's required scopes.
func TestWiredPRMScopesPerRoute(t *testing.T) {
	iss := authntest.NewIssuer(t)
	implies := map[string][]string{"mcp:admin": {"mcp:write"}, "mcp:write": {"mcp:read"}}
	var out strings.Builder
	for _, c := range []struct {
		name      string
		supported []string
	}{{"default: per route", nil}, {"scopes_supported configured", []string{"custom:a", "mcp:read"}}} {
		srv := serveWired(t, scopesConfig(t, iss, implies, c.supported))
		for _, p := range []string{"/mcp/tickets", "/mcp/admin", ""} {
			resp, err := http.Get(srv.URL + "/.well-known/oauth-protected-resource" + p)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: PRM %q: %d", c.name, p, resp.StatusCode)
			}
			fmt.Fprintf(&out, "## %s: PRM %s\n%s", c.name, p, strings.ReplaceAll(string(body), iss.URL, "ISSUER"))
		}
	}
	testkit.Golden(t, "testdata/route_scopes.golden", []byte(out.String()))
}

// TestWiredScopeImplies drives real tokens through the gateway as serve
// wires it (bearer middleware, per-tool policy, built-in tools): with
// scope_implies, a token granted only mcp:admin passes the route's
// mcp:read, calls the mcp:write tool and sees it listed; without, it is
// refused. mcp:admin passes the route's mcp:read only transitively
// (through mcp:write). A token with neither is told the narrow scopes.
// (Cycles, which Validate refuses, are harmless: see the authn and authz
// tests.)
func TestWiredScopeImplies(t *testing.T) {
	iss := authntest.NewIssuer(t)
	chain := map[string][]string{"mcp:admin": {"mcp:write"}, "mcp:write": {"mcp:read"}}
	callEcho := mcpRequest{method: "tools/call", name: "echo", params: `{"name":"echo","arguments":{"message":"hi"}`}
	whoami := mcpRequest{method: "tools/call", name: "whoami", params: `{"name":"whoami","arguments":{}`}
	list := mcpRequest{method: "tools/list", params: `{`}
	servers := map[string]*httptest.Server{
		"chain": serveWired(t, scopesConfig(t, iss, chain, nil)),
		"none":  serveWired(t, scopesConfig(t, iss, nil, nil)),
	}
	tests := []struct {
		name    string
		implies string // servers key
		scope   string
		req     mcpRequest
		status  int
		has     []string // 200: in the body; else in the challenge
		hasNot  []string
	}{
		{"admin implies write: call", "chain", "mcp:admin", callEcho, 200, []string{`"structuredContent":{"message":"hi"}`}, nil},
		{"admin implies write: listed", "chain", "mcp:admin", list, 200, []string{`"name":"echo"`, `"name":"whoami"`}, nil},
		{"granted scopes reach tools unexpanded", "chain", "mcp:admin", whoami, 200, []string{`"scopes":["mcp:admin"]`}, []string{"mcp:write", "mcp:read"}},
		{"without scope_implies: refused at the route", "none", "mcp:admin", callEcho, 403,
			[]string{`scope="mcp:read"`, `error="insufficient_scope"`}, []string{"mcp:admin"}},
		{"without scope_implies: write does not pass read", "none", "mcp:write", list, 403, []string{`scope="mcp:read"`}, nil},
		// Holding neither mcp:write nor mcp:admin: the challenge names the
		// narrow scopes the call needs, not mcp:admin.
		{"neither: the narrow scopes are named", "chain", "mcp:read", callEcho, 403,
			[]string{`scope="mcp:read mcp:write"`, `error="insufficient_scope"`}, []string{"mcp:admin"}},
		{"neither: not listed", "chain", "mcp:read", list, 200, []string{`"name":"whoami"`}, []string{`"name":"echo"`}},
		{"nothing held: the route's scopes are named", "chain", "other", callEcho, 403,
			[]string{`scope="mcp:read"`}, []string{"mcp:admin", "other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := iss.Claims(scopesPublic + "/mcp/tickets")
			claims["scope"] = tt.scope
			status, challenge, body := tt.req.do(t, servers[tt.implies].URL+"/mcp/tickets", iss.Mint(claims))
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s %s", status, tt.status, challenge, body)
			}
			got := body
			if status != 200 {
				got = challenge
			}
			for _, s := range tt.has {
				if !strings.Contains(got, s) {
					t.Errorf("%q lacks %q", got, s)
				}
			}
			for _, s := range tt.hasNot {
				if strings.Contains(got, s) {
					t.Errorf("%q has %q", got, s)
				}
			}
		})
	}
}

// mcpRequest is one sessionless (2026-07-28) MCP request; params is the
// params object without its closing brace (the _meta member is added).
type mcpRequest struct{ method, name, params string }

func (m mcpRequest) do(t *testing.T, url, token string) (status int, challenge, body string) {
	t.Helper()
	const meta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}`
	params := m.params + meta
	if m.params != "{" {
		params = m.params + "," + meta
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(
		fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":%q,"params":%s}`, m.method, params)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", m.method)
	if m.name != "" {
		req.Header.Set("Mcp-Name", m.name)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
}
