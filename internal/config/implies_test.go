package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestScopeImpliesFromEnvironment: MCPGW_SCOPE_IMPLIES takes the mapping as
// JSON or YAML text, as MCPGW_ROUTES takes its list; empty means none.
func TestScopeImpliesFromEnvironment(t *testing.T) {
	want := map[string][]string{"mcp:admin": {"mcp:write", "mcp:read"}, "Files.ReadWrite": {"Files.Read"}}
	for _, tt := range []struct {
		name, text string
		want       map[string][]string
	}{
		{"json", `{"mcp:admin":["mcp:write","mcp:read"],"Files.ReadWrite":["Files.Read"]}`, want},
		{"yaml", "mcp:admin: [mcp:write, mcp:read]\nFiles.ReadWrite:\n  - Files.Read\n", want},
		{"empty", "", nil},
		{"blank", "  \n", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(LoadOptions{DotEnv: os.DevNull, Environ: []string{
				"MCPGW_PUBLIC_URL=https://a.example", "MCPGW_ISSUER=https://i.example", "MCPGW_SCOPE_IMPLIES=" + tt.text}})
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.want) == 0 && len(c.ScopeImplies) == 0 {
				return
			}
			if !reflect.DeepEqual(c.ScopeImplies, tt.want) {
				t.Fatalf("scope_implies = %v, want %v", c.ScopeImplies, tt.want)
			}
		})
	}
	for _, tc := range []loadCase{
		{name: "not YAML", env: []string{"MCPGW_SCOPE_IMPLIES={mcp:admin: [mcp:read"},
			want: []string{"environment MCPGW_SCOPE_IMPLIES: scope_implies: must be YAML or JSON text of a mapping of names to lists of strings: line 1: did not find expected ',' or ']'"}},
		{name: "a list", env: []string{`MCPGW_SCOPE_IMPLIES=["mcp:admin"]`},
			want: []string{"environment MCPGW_SCOPE_IMPLIES: scope_implies: must be YAML or JSON text of a mapping of names to lists of strings, not a list"}},
		{name: "bad scope", env: []string{"MCPGW_PUBLIC_URL=https://a.example", "MCPGW_ISSUER=https://i.example", `MCPGW_SCOPE_IMPLIES={"mcp:admin":["a b"]}`},
			want: []string{`environment MCPGW_SCOPE_IMPLIES: scope_implies["mcp:admin"][0]: "a b" is not a valid scope token (RFC 6749 section 3.3)`}},
	} {
		t.Run(tc.name, tc.check)
	}
}

// TestScopeImpliesKeepsScopesAsWritten: scopes are case-sensitive and may
// contain dots (Entra's Files.Read, Cognito's URL scopes); the file's
// mapping keys must reach the configuration unchanged.
func TestScopeImpliesKeepsScopesAsWritten(t *testing.T) {
	c, _ := loadCase{file: base + "scope_implies:\n  Files.ReadWrite: [Files.Read]\n  https://api.example.com/mcp.admin: [https://api.example.com/mcp.read]\n"}.load(t)
	want := map[string][]string{"Files.ReadWrite": {"Files.Read"}, "https://api.example.com/mcp.admin": {"https://api.example.com/mcp.read"}}
	if c == nil || !reflect.DeepEqual(c.ScopeImplies, want) {
		t.Fatalf("scope_implies = %v, want %v", c, want)
	}
}

// TestScopeImpliesRules: a hierarchy runs from broad to narrow. A scope
// implying itself changes nothing and is accepted; a cycle between distinct
// scopes would let the narrow scope grant the broad one and is refused.
func TestScopeImpliesRules(t *testing.T) {
	for _, tt := range []struct {
		name    string
		implies map[string][]string
		want    string // "" accepts
	}{
		{"hierarchy", map[string][]string{"mcp:admin": {"mcp:write"}, "mcp:write": {"mcp:read"}}, ""},
		{"diamond", map[string][]string{"a": {"b", "c"}, "b": {"d"}, "c": {"d"}}, ""},
		{"self", map[string][]string{"mcp:admin": {"mcp:admin", "mcp:read"}}, ""},
		{"two-cycle", map[string][]string{"mcp:admin": {"mcp:read"}, "mcp:read": {"mcp:admin"}},
			"scope_implies: mcp:admin, mcp:read imply each other (a cycle): each would grant the others; list only narrower scopes under a broader one"},
		{"three-cycle beside a hierarchy", map[string][]string{"c": {"a"}, "a": {"b"}, "b": {"c", "z"}, "top": {"a"}},
			"scope_implies: a, b, c imply each other (a cycle)"},
		{"implies nothing", map[string][]string{"mcp:admin": {}}, `scope_implies["mcp:admin"]: implies nothing: list the narrower scopes mcp:admin grants`},
		{"bad broad scope", map[string][]string{"a b": {"c"}}, `scope_implies["a b"]: "a b" is not a valid scope token`},
		{"bad narrow scope", map[string][]string{"a": {"ok", `c"d`}}, `scope_implies["a"][1]: "c\"d" is not a valid scope token`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			c.ScopeImplies = tt.implies
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want it to contain %q", err, tt.want)
			case tt.want != "" && strings.Count(err.Error(), "\n") != 1:
				t.Fatalf("want exactly one problem, got %v", err)
			}
		})
	}
}
