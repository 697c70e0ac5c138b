package oauthmeta_test

import (
	"testing"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

func TestRedirectURIMatches(t *testing.T) {
	tests := []struct {
		registered, got string
		want            bool
	}{
		{"https://claude.ai/api/mcp/auth_callback", "https://claude.ai/api/mcp/auth_callback", true},
		{"https://claude.ai/api/mcp/auth_callback", "https://claude.ai/api/mcp/auth_callback/", false},
		// RFC 8252 §7.3: a portless loopback registration admits any port.
		{"http://localhost/callback", "http://localhost:53682/callback", true},
		{"http://127.0.0.1/callback", "http://127.0.0.1:33418/callback", true},
		{"http://[::1]/callback", "http://[::1]:4000/callback", true},
		{"http://127.0.0.1/", "http://127.0.0.1:33418/", true},
		{"http://127.0.0.1", "http://127.0.0.1:33418", true},
		{"http://127.0.0.1/cb?x=1", "http://127.0.0.1:9/cb?x=1", true},
		// ... but nothing else may differ.
		{"http://localhost/callback", "http://localhost:53682/callback2", false},
		{"http://localhost/callback", "http://localhost:53682/Callback", false},
		{"http://localhost/callback", "http://127.0.0.1:53682/callback", false},
		{"http://127.0.0.1/cb?x=1", "http://127.0.0.1:9/cb?x=2", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:9/cb#frag", false},
		{"http://127.0.0.1/cb", "http://user@127.0.0.1:9/cb", false},
		{"http://127.0.0.1/cb", "https://127.0.0.1:9/cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1/cb/../cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1.evil.example:9/cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:/cb", false},
		// A registered port is exact; non-loopback hosts never vary.
		{"http://127.0.0.1:33418/cb", "http://127.0.0.1:33419/cb", false},
		{"http://example.com/cb", "http://example.com:8080/cb", false},
		{"https://localhost/cb", "https://localhost:8443/cb", false},
		{"http://127.0.0.2/cb", "http://127.0.0.2:9/cb", false},
	}
	for _, tt := range tests {
		if got := oauthmeta.RedirectURIMatches(tt.registered, tt.got); got != tt.want {
			t.Errorf("RedirectURIMatches(%q, %q) = %v, want %v", tt.registered, tt.got, got, tt.want)
		}
	}
	if !oauthmeta.RedirectURIListed([]string{"https://a.example/cb", "http://localhost/callback"}, "http://localhost:1234/callback") {
		t.Error("RedirectURIListed missed a portless loopback entry")
	}
	if oauthmeta.RedirectURIListed(nil, "http://localhost:1234/callback") {
		t.Error("RedirectURIListed matched an empty list")
	}
}
