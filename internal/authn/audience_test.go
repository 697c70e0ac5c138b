package authn

import "testing"

func TestAudienceMatches(t *testing.T) {
	tests := []struct {
		accepted, got string
		want          bool
	}{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp", true},
		{"https://mcp.example.com/mcp", "HTTPS://MCP.EXAMPLE.COM/mcp", true},
		{"https://mcp.example.com/mcp", "https://mcp.example.com:443/mcp", true},
		{"http://mcp.example.com/mcp", "http://mcp.example.com:80/mcp", true},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp/", true},
		{"https://mcp.example.com/mcp/", "https://mcp.example.com/mcp", true},
		{"https://mcp.example.com", "https://mcp.example.com/", true},
		{"https://[::1]:8443/mcp", "https://[::1]:8443/mcp/", true},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/MCP", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp//", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcpx", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp/x", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com", false},
		{"https://mcp.example.com/mcp", "http://mcp.example.com/mcp", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com:8443/mcp", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com:80/mcp", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com.evil/mcp", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com@evil/mcp", false},
		{"https://mcp.example.com/mcp", "https://evil@mcp.example.com/mcp", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp?x=1", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp#x", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/./mcp", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/%6Dcp", false},
		{"https://mcp.example.com/mcp", "", false},
		{"6e74172b-be56-4843-9ff4-e66a39bb12e3", "6e74172b-be56-4843-9ff4-e66a39bb12e3", true},
		{"6e74172b-be56-4843-9ff4-e66a39bb12e3", "6E74172B-BE56-4843-9FF4-E66A39BB12E3", false},
		{"api://mcp", "api://mcp", true},
		{"api://mcp", "API://mcp", false},
		{"api://mcp", "api://mcp/", false},
		{"urn:mcp", "urn:mcp", true},
	}
	for _, tt := range tests {
		if got := newAudience(tt.accepted).matches(tt.got); got != tt.want {
			t.Errorf("accepted %q, aud %q: got %v, want %v", tt.accepted, tt.got, got, tt.want)
		}
	}
}
