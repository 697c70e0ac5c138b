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
