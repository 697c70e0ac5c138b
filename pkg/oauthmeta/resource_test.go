package oauthmeta

import "testing"

func TestProtectedResourceMetadataURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"},
		{"https://mcp.example.com/mcp/", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"},
		{"https://mcp.example.com", "https://mcp.example.com/.well-known/oauth-protected-resource"},
		{"https://mcp.example.com/", "https://mcp.example.com/.well-known/oauth-protected-resource"},
		{"http://127.0.0.1:8080/a/b", "http://127.0.0.1:8080/.well-known/oauth-protected-resource/a/b"},
		{"https://h.example/x?tenant=1", "https://h.example/.well-known/oauth-protected-resource/x?tenant=1"},
	}
	for _, tt := range tests {
		got, err := ProtectedResourceMetadataURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ProtectedResourceMetadataURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"/mcp", "urn:x", "ftp://h/x", ""} {
		if _, err := ProtectedResourceMetadataURL(bad); err == nil {
			t.Errorf("ProtectedResourceMetadataURL(%q) accepted", bad)
		}
	}
	if got, _ := AuthorizationServerMetadataURL("https://idp.example/tenant1"); got != "https://idp.example/.well-known/oauth-authorization-server/tenant1" {
		t.Errorf("AS metadata URL = %q", got)
	}
}

func TestSameResource(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp", true},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp/", true},
		{"https://MCP.Example.com/mcp", "HTTPS://mcp.example.com/mcp", true},
		{"https://mcp.example.com:443/mcp", "https://mcp.example.com/mcp", true},
		{"http://mcp.example.com:80/mcp", "http://mcp.example.com/mcp", true},
		{"https://mcp.example.com/MCP", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com/mcp//", "https://mcp.example.com/mcp", false},
		{"http://mcp.example.com/mcp", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com:8443/mcp", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com.evil/mcp", "https://mcp.example.com/mcp", false},
		{"https://evil@mcp.example.com/mcp", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com/mcp-admin", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com/mcp#x", "https://mcp.example.com/mcp", false},
		{"api://default", "api://default", true},
		{"api://default", "API://default", false},
		{"", "", false},
		{"https://mcp.example.com/mcp?a=1", "https://mcp.example.com/mcp?a=1", true},
		{"https://mcp.example.com/mcp?a=1", "https://mcp.example.com/mcp", false},
		{"my-api", "my-api", true},
		{"my-api", "My-API", false},
	}
	for _, tt := range tests {
		if got := SameResource(tt.a, tt.b); got != tt.same {
			t.Errorf("SameResource(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.9.9.9": true, "::1": true, "[::1]": true,
		"localhost.": false, "localhost.evil.com": false, "127.0.0.1.nip.io": false, "0.0.0.0": false, "10.0.0.1": false, "": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v", host, got)
		}
	}
}
