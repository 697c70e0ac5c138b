package gateway

import (
	"fmt"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// TestKeyedLimiterStaysBounded: an attacker rotating keys (IP addresses)
// never grows the limiter past maxKeys, and an honest key in use beside
// the rotation keeps its own bucket (it is spent, and refused, as it
// would be alone).
func TestKeyedLimiterStaysBounded(t *testing.T) {
	c := testkit.NewClock(time.Unix(1_000_000, 0))
	k := newKeyedLimiter(1, 2, c.Now)
	k.maxKeys = 100
	honest := 0
	for i := range 10_000 {
		if _, ok := k.allow(fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&0xff, i&0xff)); !ok {
			t.Fatalf("a fresh key was refused at %d", i)
		}
		if n := k.size(); n > k.maxKeys {
			t.Fatalf("%d keys remembered after %d distinct keys, cap %d", n, i+1, k.maxKeys)
		}
		if i%10 == 0 {
			if _, ok := k.allow("198.51.100.1"); ok {
				honest++
			}
		}
	}
	if honest != 2 {
		t.Fatalf("the honest key was let in %d times on a frozen clock, want its burst of 2", honest)
	}
}

// TestKeyedLimiterForgetsIdleKeys: a key idle for as long as its bucket
// takes to refill is forgotten (it would be full again), so memory goes
// back down once a flood stops.
func TestKeyedLimiterForgetsIdleKeys(t *testing.T) {
	c := testkit.NewClock(time.Unix(1_000_000, 0))
	k := newKeyedLimiter(2, 10, c.Now) // refills in 5s
	for i := range 500 {
		k.allow(fmt.Sprint(i))
	}
	c.Advance(4 * time.Second)
	k.allow("late")
	if n := k.size(); n != 501 {
		t.Fatalf("%d keys before the refill time, want 501", n)
	}
	c.Advance(time.Second)
	k.allow("later")
	if n := k.size(); n != 2 {
		t.Fatalf("%d keys after the first 500 idled out, want 2 (late, later)", n)
	}
}

// TestKeyedLimiterRetryAfter: a refusal spends nothing and says how long
// until the next token (whole seconds, rounded up, at least 1, for
// Retry-After); a negative or zero rate is no limiter.
func TestKeyedLimiterRetryAfter(t *testing.T) {
	tests := []struct {
		rate  float64
		burst int
		want  int
	}{
		{0.5, 1, 2},
		{0.25, 3, 4},
		{3, 1, 1}, // 334ms
		{100, 5, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.rate), func(t *testing.T) {
			c := testkit.NewClock(time.Unix(1_000_000, 0))
			k := newKeyedLimiter(tt.rate, tt.burst, c.Now)
			for range tt.burst {
				if _, ok := k.allow("a"); !ok {
					t.Fatal("refused within the burst")
				}
			}
			for range 3 { // refusals do not push the next token further
				wait, ok := k.allow("a")
				if ok || retryAfter(wait) != tt.want {
					t.Fatalf("over the burst: ok=%v wait=%v Retry-After %d, want %d", ok, wait, retryAfter(wait), tt.want)
				}
			}
			c.Advance(time.Duration(tt.want) * time.Second)
			if _, ok := k.allow("a"); !ok {
				t.Fatal("refused after Retry-After")
			}
		})
	}
	if newKeyedLimiter(-1, 10, time.Now) != nil || newKeyedLimiter(0, 10, time.Now) != nil {
		t.Fatal("a non-positive rate must disable the limiter")
	}
}

// TestIPKey: IPv4 addresses are their own key, IPv6 ones share their /64.
func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"not-an-ip":            "not-an-ip",
	} {
		if got := ipKey(in); got != want {
			t.Errorf("ipKey(%q) = %q, want %q", in, got, want)
		}
	}
}
