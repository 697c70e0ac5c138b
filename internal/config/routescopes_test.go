package config

import (
	"slices"
	"testing"
)

// TestRouteScopes: a route advertises the global and its own required
// scopes, then its tool, resource and prompt scopes (patterns sorted),
// each once, without offline_access, other routes' scopes or the broader
// scopes scope_implies relates them to; scopes_supported is left empty
// unless configured.
func TestRouteScopes(t *testing.T) {
	c := Config{
		PublicURL: "https://gw.example", Issuer: "https://idp.example",
		RequiredScopes: []string{"mcp:read", "offline_access"},
		ScopeImplies:   map[string][]string{"mcp:admin": {"mcp:write", "mcp:read"}},
		Routes: []Route{
			{Path: "/a", Upstream: BuiltinUpstream,
				ToolScopes:     map[string][]string{"z_*": {"mcp:write"}, "a_*": {"tickets:close", "mcp:read"}},
				ResourceScopes: map[string][]string{"file:///x/*": {"files:read"}},
				PromptScopes:   map[string][]string{"p": {"prompts:use"}}},
			{Path: "/b", Upstream: BuiltinUpstream, RequiredScopes: []string{"mcp:admin"}},
			{Path: "/c", Upstream: BuiltinUpstream},
		},
	}
	c.ApplyDefaults()
	if c.ScopesSupported != nil {
		t.Fatalf("scopes_supported defaulted to %v; it must stay empty (per-route lists)", c.ScopesSupported)
	}
	for i, want := range [][]string{
		{"mcp:read", "tickets:close", "mcp:write", "files:read", "prompts:use"},
		{"mcp:read", "mcp:admin"},
		{"mcp:read"},
	} {
		if got := c.RouteScopes(c.Routes[i]); !slices.Equal(got, want) {
			t.Errorf("route %s: %v, want %v", c.Routes[i].Path, got, want)
		}
	}
	c.ScopesSupported = []string{"custom"}
	c.ApplyDefaults()
	if !slices.Equal(c.ScopesSupported, []string{"custom"}) {
		t.Fatalf("configured scopes_supported changed to %v", c.ScopesSupported)
	}
}

// TestRouteRequiredAndSupported: a route requires the global scopes then its
// own, each once; a configured scopes_supported is advertised on every
// route after that route's required scopes.
func TestRouteRequiredAndSupported(t *testing.T) {
	r := Route{Path: "/mcp/admin", RequiredScopes: []string{"mcp:read", "mcp:admin"},
		ToolScopes: map[string][]string{"drop": {"mcp:danger"}}}
	c := Config{RequiredScopes: []string{"mcp:read"}}
	if got, want := c.RouteRequiredScopes(r), []string{"mcp:read", "mcp:admin"}; !slices.Equal(got, want) {
		t.Errorf("RouteRequiredScopes = %v, want %v", got, want)
	}
	if got, want := c.RouteScopesSupported(r), []string{"mcp:read", "mcp:admin", "mcp:danger"}; !slices.Equal(got, want) {
		t.Errorf("RouteScopesSupported (default) = %v, want %v", got, want)
	}
	c.ScopesSupported = []string{"mcp:tools", "mcp:read"}
	if got, want := c.RouteScopesSupported(r), []string{"mcp:read", "mcp:admin", "mcp:tools"}; !slices.Equal(got, want) {
		t.Errorf("RouteScopesSupported (configured) = %v, want %v", got, want)
	}
}
