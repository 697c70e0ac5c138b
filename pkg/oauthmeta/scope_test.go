package oauthmeta

import "testing"

func TestValidScopeToken(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"openid", true},
		{"mcp/tools.read", true},
		{"https://api.example.com/read", true},
		{"api://x/.default", true},
		{"!#$%&'()*+,-./:;<=>?@[]^_`{|}~", true}, // every allowed punctuation
		{"", false},
		{"a b", false},
		{"a\tb", false},
		{`a"b`, false},
		{`a\b`, false},
		{"a\x7f", false},
		{"a\x00", false},
		{"caf\u00e9", false}, // non-ASCII
	}
	for _, tt := range tests {
		if got := ValidScopeToken(tt.s); got != tt.want {
			t.Errorf("ValidScopeToken(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}
