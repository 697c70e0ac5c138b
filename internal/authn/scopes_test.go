package authn_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
)

// hierarchy is the README's example plus a chain and a cycle.
var hierarchy = map[string][]string{
	"mcp:admin":   {"mcp:write"},
	"mcp:write":   {"mcp:read"}, // so mcp:admin implies mcp:read transitively
	"cycle:a":     {"cycle:b"},
	"cycle:b":     {"cycle:c", "cycle:a"}, // a -> b -> c, and back to a
	"self":        {"self", ""},           // ignored
	"mcp:nothing": nil,
}

func TestNewScopeImplicationsNilWhenNothingIsImplied(t *testing.T) {
	for _, m := range []map[string][]string{nil, {}, {"a": nil}, {"a": {"a"}}, {"": {"b"}}, {"a": {""}}} {
		if s := authn.NewScopeImplications(m); s != nil {
			t.Errorf("%v: got a hierarchy, want nil (exact comparison)", m)
		}
	}
}

func TestScopeImplicationsImplies(t *testing.T) {
	s := authn.NewScopeImplications(hierarchy)
	tests := []struct {
		broad, narrow string
		want          bool
	}{
		{"mcp:admin", "mcp:write", true},
		{"mcp:admin", "mcp:read", true}, // transitive
		{"mcp:write", "mcp:read", true},
		{"mcp:write", "mcp:admin", false}, // implication has a direction
		{"mcp:read", "mcp:write", false},
		{"mcp:read", "mcp:read", true}, // a scope implies itself
		{"MCP:ADMIN", "mcp:write", false},
		{"mcp:admin", "MCP:WRITE", false}, // case-sensitive (RFC 6749 §3.3)
		{"cycle:a", "cycle:c", true},
		{"cycle:c", "cycle:a", false}, // c implies nothing
		{"cycle:b", "cycle:a", true},  // cycle: a and b imply each other
		{"cycle:a", "cycle:b", true},
		{"self", "", false},
		{"mcp:nothing", "mcp:read", false},
	}
	for _, tt := range tests {
		if got := s.Implies(tt.broad, tt.narrow); got != tt.want {
			t.Errorf("Implies(%q, %q) = %v, want %v", tt.broad, tt.narrow, got, tt.want)
		}
	}
	var none *authn.ScopeImplications
	if !none.Implies("a", "a") || none.Implies("mcp:admin", "mcp:read") {
		t.Error("nil hierarchy must compare exactly")
	}
}

func TestPrincipalMissingScopes(t *testing.T) {
	s := authn.NewScopeImplications(hierarchy)
	tests := []struct {
		name           string
		implies        *authn.ScopeImplications
		granted, req   []string
		want           []string
		wantWithoutAll []string // the same principal without a hierarchy
	}{
		{"nothing required", s, []string{"x"}, nil, nil, nil},
		{"exact grant", s, []string{"mcp:read"}, []string{"mcp:read"}, nil, nil},
		{"broad satisfies narrow", s, []string{"mcp:admin"}, []string{"mcp:write"}, nil, []string{"mcp:write"}},
		{"transitively", s, []string{"mcp:admin"}, []string{"mcp:read", "mcp:write"}, nil, []string{"mcp:read", "mcp:write"}},
		{"narrow does not satisfy broad", s, []string{"mcp:read"}, []string{"mcp:admin", "mcp:read"}, []string{"mcp:admin"}, []string{"mcp:admin"}},
		// Neither the narrow nor the broad scope: the narrow required
		// ones are missing, in the required order, never mcp:admin.
		{"neither: the narrow ones", s, []string{"other"}, []string{"mcp:write", "mcp:read"}, []string{"mcp:write", "mcp:read"}, []string{"mcp:write", "mcp:read"}},
		{"cycle", s, []string{"cycle:b"}, []string{"cycle:a", "cycle:c"}, nil, []string{"cycle:a", "cycle:c"}},
		{"case-sensitive", s, []string{"MCP:ADMIN"}, []string{"mcp:read"}, []string{"mcp:read"}, []string{"mcp:read"}},
		{"nil hierarchy: exact", nil, []string{"mcp:admin"}, []string{"mcp:read"}, []string{"mcp:read"}, []string{"mcp:read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &authn.Principal{Scopes: tt.granted, ScopeImplications: tt.implies}
			if got := p.MissingScopes(tt.req); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("MissingScopes(%v) = %v, want %v", tt.req, got, tt.want)
			}
			exact := &authn.Principal{Scopes: tt.granted}
			if got := exact.MissingScopes(tt.req); !reflect.DeepEqual(got, tt.wantWithoutAll) {
				t.Errorf("without a hierarchy: MissingScopes(%v) = %v, want %v", tt.req, got, tt.wantWithoutAll)
			}
			if !reflect.DeepEqual(p.Scopes, tt.granted) {
				t.Errorf("Scopes changed to %v: they must stay as granted", p.Scopes)
			}
		})
	}
}

// TestMissingScopesDoesNotAllocate: the check runs on every request; it
// must not allocate when the caller holds the scopes, with or without a
// hierarchy.
func TestMissingScopesDoesNotAllocate(t *testing.T) {
	s := authn.NewScopeImplications(hierarchy)
	req := []string{"mcp:read", "mcp:write"}
	for name, p := range map[string]*authn.Principal{
		"exact":     {Scopes: []string{"openid", "mcp:read", "mcp:write"}},
		"exact+h":   {Scopes: []string{"openid", "mcp:read", "mcp:write"}, ScopeImplications: s},
		"implied+h": {Scopes: []string{"openid", "mcp:admin"}, ScopeImplications: s},
	} {
		if n := testing.AllocsPerRun(100, func() {
			if p.MissingScopes(req) != nil {
				t.Fatal("missing")
			}
		}); n != 0 {
			t.Errorf("%s: %v allocations per check", name, n)
		}
	}
}

// TestVerifierCarriesScopeImplications: a verified principal, fresh or from
// the token cache, carries the policy's hierarchy, and its Scopes are the
// token's.
func TestVerifierCarriesScopeImplications(t *testing.T) {
	iss := authntest.NewIssuer(t)
	keys := startKeySet(t, iss, nil)
	s := authn.NewScopeImplications(hierarchy)
	v := newVerifier(t, keys, iss, func(p *authn.Policy) { p.ScopeImplications = s })
	c := iss.Claims(testAudience)
	c["scope"] = "mcp:admin"
	tok := iss.Mint(c)
	for _, round := range []string{"fresh", "cached"} {
		p, err := v.Verify(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if p.ScopeImplications != s || p.MissingScopes([]string{"mcp:read"}) != nil {
			t.Fatalf("%s: principal does not carry the hierarchy", round)
		}
		if !reflect.DeepEqual(p.Scopes, []string{"mcp:admin"}) {
			t.Fatalf("%s: Scopes = %v, want the granted [mcp:admin]", round, p.Scopes)
		}
	}
	plain := newVerifier(t, keys, iss, nil)
	p, err := plain.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.MissingScopes([]string{"mcp:read"}); !reflect.DeepEqual(got, []string{"mcp:read"}) {
		t.Fatalf("without scope_implies: missing %v, want [mcp:read]", got)
	}
}
