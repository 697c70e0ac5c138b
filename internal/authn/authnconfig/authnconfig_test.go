package authnconfig_test

import (
	"slices"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authnconfig"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
)

// TestBuildPerRoute checks what each route's verifier is built from: the
// route's resource identifier as its audience unless audiences is set, and
// the global required scopes followed by the route's, each once.
func TestBuildPerRoute(t *testing.T) {
	base := config.Config{
		PublicURL:      "https://gw.example.com/",
		Issuer:         "https://idp.example.com",
		RequiredScopes: []string{"mcp:read"},
		Routes: []config.Route{
			{Path: "/mcp", Upstream: config.BuiltinUpstream},
			{Path: "/mcp/admin", Upstream: config.BuiltinUpstream, RequiredScopes: []string{"mcp:read", "mcp:admin"}},
		},
	}
	tests := []struct {
		name      string
		audiences []string
		wantAud   [][]string
	}{
		{"resource per route", nil, [][]string{{"https://gw.example.com/mcp"}, {"https://gw.example.com/mcp/admin"}}},
		{"configured audiences", []string{"api://gw"}, [][]string{{"api://gw"}, {"api://gw"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			cfg.Audiences = tt.audiences
			cfg.ApplyDefaults()
			keys, routes, err := authnconfig.Build(&cfg, authnconfig.Options{})
			if err != nil || keys == nil {
				t.Fatalf("Build: %v", err)
			}
			if len(routes) != 2 {
				t.Fatalf("got %d routes, want 2", len(routes))
			}
			for i, r := range routes {
				if !slices.Equal(r.Audiences, tt.wantAud[i]) {
					t.Errorf("route %s audiences = %v, want %v", r.Config.Path, r.Audiences, tt.wantAud[i])
				}
				if r.Verifier == nil {
					t.Errorf("route %s has no verifier", r.Config.Path)
				}
			}
			if want := []string{"mcp:read", "mcp:admin"}; !slices.Equal(routes[1].RequiredScopes, want) {
				t.Errorf("required = %v, want %v", routes[1].RequiredScopes, want)
			}
			if routes[0].Resource != "https://gw.example.com/mcp" {
				t.Errorf("resource = %q", routes[0].Resource)
			}
		})
	}
	bad := base
	bad.Provider = "nope"
	if _, _, err := authnconfig.Build(&bad, authnconfig.Options{}); err == nil {
		t.Error("Build accepted an unknown provider")
	}
}
