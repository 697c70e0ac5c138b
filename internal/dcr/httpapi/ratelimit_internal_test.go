package httpapi

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestSource(t *testing.T) {
	tests := []struct {
		name    string
		remote  string
		xff     string
		trusted bool
		want    string
	}{
		{"IPv4 connection", "192.0.2.7:5555", "", false, "192.0.2.7"},
		{"X-Forwarded-For ignored when untrusted", "192.0.2.7:5555", "198.51.100.1", false, "192.0.2.7"},
		{"first X-Forwarded-For hop when trusted", "10.0.0.2:80", " 198.51.100.1 , 10.0.0.9", true, "198.51.100.1"},
		{"trusted but absent", "192.0.2.7:1", "", true, "192.0.2.7"},
		{"IPv6 grouped by /64", "[2001:db8:1:2:aaaa::1]:443", "", false, "2001:db8:1:2::/64"},
		{"same /64, other host", "[2001:db8:1:2:bbbb::9]:443", "", false, "2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6", "[::ffff:192.0.2.7]:1", "", false, "192.0.2.7"},
		{"Lambda sourceIp", "203.0.113.9:0", "", false, "203.0.113.9"},
		{"unparsable", "weird", "", false, "weird"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Handler{opts: Options{TrustForwardedFor: tt.trusted}}
			r, _ := http.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := h.source(r); got != tt.want {
				t.Fatalf("source = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLimiterBoundsMemory(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(60, 2, func() time.Time { return now })
	for i := range maxSources {
		if ok, _ := l.take(fmt.Sprint(i)); !ok {
			t.Fatalf("source %d refused", i)
		}
	}
	if ok, wait := l.take("one-too-many"); ok || wait <= 0 {
		t.Fatalf("a full table admitted a new source (%v, %v)", ok, wait)
	}
	now = now.Add(2 * time.Second) // every bucket has refilled: all can be forgotten
	if ok, _ := l.take("one-too-many"); !ok || len(l.buckets) != 1 {
		t.Fatalf("sweep did not make room: %d buckets", len(l.buckets))
	}
}
