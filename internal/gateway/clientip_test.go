package gateway_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
)

// TestClientIP: behind trusted proxies the client is the rightmost
// X-Forwarded-For address that is not a trusted proxy; a peer that is not
// trusted is the client whatever it claims.
func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ab::/48")}
	tests := []struct {
		name, peer string
		xff        []string // header lines
		want       string
	}{
		{"no proxy, no header", "203.0.113.9:5000", nil, "203.0.113.9"},
		{"untrusted peer spoofs the header", "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"untrusted peer spoofs a trusted address", "203.0.113.9:5000", []string{"10.0.0.1"}, "203.0.113.9"},
		{"trusted proxy names the client", "10.0.0.2:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client prepends lies", "10.0.0.2:443", []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted proxies", "10.0.0.2:443", []string{"1.1.1.1, 198.51.100.1, 10.0.0.3"}, "198.51.100.1"},
		{"repeated header lines in order", "10.0.0.2:443", []string{"1.1.1.1", "198.51.100.1, 10.0.0.3"}, "198.51.100.1"},
		{"entry with a port", "10.0.0.2:443", []string{"198.51.100.1:5555"}, "198.51.100.1"},
		{"IPv6 entry in brackets with a port", "10.0.0.2:443", []string{"[2001:db8::7]:5555"}, "2001:db8::7"},
		{"IPv4-mapped IPv6", "10.0.0.2:443", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"IPv6 proxy", "[2001:db8:ab::1]:443", []string{"2001:db8::7"}, "2001:db8::7"},
		{"every hop trusted: the leftmost", "10.0.0.2:443", []string{"10.1.1.1, 10.0.0.3"}, "10.1.1.1"},
		{"garbage left of the trusted hops stops the walk", "10.0.0.2:443", []string{"nonsense, 10.0.0.3"}, "10.0.0.3"},
		{"garbage left of the client is ignored", "10.0.0.2:443", []string{"nonsense, 198.51.100.1"}, "198.51.100.1"},
		{"trusted proxy without header", "10.0.0.2:443", nil, "10.0.0.2"},
		{"peer that is no address", "@unix", []string{"198.51.100.1"}, "@unix"},
	}
	ip := gateway.ClientIP(trusted)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tt.peer, Header: http.Header{}}
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ip(r); got != tt.want {
				t.Fatalf("ClientIP = %q, want %q", got, tt.want)
			}
		})
	}
	if got := gateway.ClientIP(nil)(&http.Request{RemoteAddr: "10.0.0.2:1", Header: http.Header{"X-Forwarded-For": {"1.1.1.1"}}}); got != "10.0.0.2" {
		t.Fatalf("no trusted proxies: %q", got)
	}
}
