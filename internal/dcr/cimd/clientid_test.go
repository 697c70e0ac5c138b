package cimd

import "testing"

// TestParseClientID proves the client_id URL rules, including tricky
// spellings that would defeat the exact client_id comparison.
func TestParseClientID(t *testing.T) {
	tests := []struct {
		raw string
		ok  bool
	}{
		{"https://client.example/oauth/client.json", true},
		{"https://client.example:8443/c", true},
		{"https://[2001:db8::1]/c", true}, // shape only; the dialer refuses the address
		{"https://client.example/a%2Fb", true},
		{"http://client.example/c", false},
		{"HTTPS://client.example/c", false},
		{"https://client.example", false},
		{"https://client.example/", false},
		{"https://client.example/c#frag", false},
		{"https://client.example/c#", false},
		{"https://client.example/c?x=1", false},
		{"https://client.example/c?", false},
		{"https://user@client.example/c", false},
		{"https://user:pw@client.example/c", false},
		{"https://client.example/a/../c", false},
		{"https://client.example/a/./c", false},
		{"https://client.example/a/%2e%2E/c", false},
		{"https://client.example/a/%2e", false},
		{"https://client.example/a b", false},
		{"https://client.example/c\n", false},
		{"https:///c", false},
		{"https://client.example:0/c", false},
		{"https://client.example:/c", false},
		{"https://client.example/%zz", false},
		{"https:client.example/c", false},
		{"urn:client", false},
		{"https://client.example/" + string(make([]byte, 1100)), false},
		{"", false},
	}
	for _, tt := range tests {
		_, err := parseClientID(tt.raw)
		if (err == nil) != tt.ok {
			t.Errorf("parseClientID(%q) err = %v, want ok=%v", tt.raw, err, tt.ok)
		}
	}
}

// TestIsURLClientID proves which client ids the bridge treats as CIMD.
func TestIsURLClientID(t *testing.T) {
	for id, want := range map[string]bool{
		"https://client.example/c": true,
		"HTTP://client.example/c":  true,
		"4l5d3q8j2h7k1m9n0p6r":     false,
		"":                         false,
		"client.example/c":         false,
	} {
		if got := IsURLClientID(id); got != want {
			t.Errorf("IsURLClientID(%q) = %v", id, got)
		}
	}
}
