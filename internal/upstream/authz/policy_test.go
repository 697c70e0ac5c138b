package authz

import (
	"slices"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"echo", "echo", true},
		{"echo", "Echo", false},
		{"echo", "echo2", false},
		{"echo", "", false},
		{"*", "", true},
		{"*", "anything/at all", true},
		{"admin.*", "admin.reset", true},
		{"admin.*", "admin.", true},
		{"admin.*", "admin", false},
		{"admin.*", "xadmin.reset", false},
		{"*.delete", "repo.delete", true},
		{"*.delete", "repo.delete.not", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZcd", false},
		{"a**b", "ab", true},
		{"file:///secret/*", "file:///secret/x/y", true},
		{"file:///secret/*", "file:///secrets", false},
		{"?", "x", false}, // ? is literal
		{"?", "?", true},
		{"[ab]", "a", false},  // no classes
		{`a\*`, `a\zz`, true}, // no escapes: \ is literal, * still a wildcard
		{"*a", strings.Repeat("b", 1000), false},
		{"*x*y*z", strings.Repeat("xy", 500) + "z", true},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestRulesNeeds(t *testing.T) {
	rs, err := compileRules("tool", map[string][]string{
		"*":       {"mcp:tools"},
		"admin.*": {"tools:admin", "mcp:tools"},
		"*.reset": {"tools:reset"},
		"echo":    {"tools:echo"},
	}, nameViews)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		names []string
		want  []string
	}{
		{[]string{"echo"}, []string{"mcp:tools", "tools:echo"}},
		{[]string{"admin.reset"}, []string{"mcp:tools", "tools:reset", "tools:admin"}},
		{[]string{"other"}, []string{"mcp:tools"}},
		{[]string{"echo", "admin.reset"}, []string{"mcp:tools", "tools:reset", "tools:admin", "tools:echo"}},
	}
	for _, tt := range tests {
		var targets [][]string
		for _, n := range tt.names {
			targets = append(targets, nameViews(n))
		}
		if got := rs.needs(targets...); !slices.Equal(got, tt.want) {
			t.Errorf("needs(%q) = %q, want %q", tt.names, got, tt.want)
		}
	}
	none, _ := compileRules("tool", map[string][]string{"admin.*": {"a"}}, nameViews)
	if got := none.needs(nameViews("echo")); got != nil {
		t.Errorf("unmatched name needs %q, want nil", got)
	}
}

func TestCompileRulesErrors(t *testing.T) {
	tests := []struct {
		name string
		m    map[string][]string
		want string
	}{
		{"empty pattern", map[string][]string{"": {"a"}}, "empty pattern"},
		{"no scopes", map[string][]string{"x": nil}, "no scopes"},
		{"empty scope", map[string][]string{"x": {""}}, "scope token"},
		{"space in scope", map[string][]string{"x": {"a b"}}, "scope token"},
		{"quote in scope", map[string][]string{"x": {`a"b`}}, "scope token"},
		{"backslash in scope", map[string][]string{"x": {`a\b`}}, "scope token"},
		{"non-ASCII scope", map[string][]string{"x": {"é"}}, "scope token"},
	}
	for _, tt := range tests {
		_, err := New(Policy{Resources: tt.m}, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := New(Policy{Tools: map[string][]string{"x": {"repo:read", "https://api/x.y"}}}, Options{}); err != nil {
		t.Errorf("valid policy refused: %v", err)
	}
}
