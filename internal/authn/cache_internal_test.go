package authn

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// putRaw caches p under raw as Verify does: get's key, then put.
func putRaw(c *tokenCache, raw string, p *Principal, now time.Time) {
	_, k, _ := c.get(raw, now)
	c.put(k, p, now, time.Minute)
}

func TestTokenCacheIsBounded(t *testing.T) {
	c := newTokenCache(time.Minute)
	now := time.Now()
	p := &Principal{Expiry: now.Add(time.Hour)}
	for i := range maxCacheEntries + 500 {
		putRaw(c, "tok-"+strconv.Itoa(i), p, now)
	}
	if n := len(c.m); n > maxCacheEntries {
		t.Fatalf("cache holds %d entries, cap %d", n, maxCacheEntries)
	}
	if _, _, ok := c.get("tok-"+strconv.Itoa(maxCacheEntries+499), now); !ok {
		t.Fatal("the newest entry was evicted")
	}
	if newTokenCache(-1) != nil {
		t.Fatal("negative TTL must disable the cache")
	}
}

// TestTokenCacheSweepsExpired checks that expired entries are dropped long
// before the bound: after a TTL, the next put sweeps; and growth past
// double the live size sweeps too.
func TestTokenCacheSweepsExpired(t *testing.T) {
	c := newTokenCache(time.Minute)
	now := time.Now()
	p := &Principal{Expiry: now.Add(time.Hour)}
	for i := range 1000 {
		putRaw(c, "old-"+strconv.Itoa(i), p, now)
	}
	later := now.Add(2 * time.Minute) // every "old" entry has expired
	putRaw(c, "new-0", p, later)
	if n := len(c.m); n != 1 {
		t.Fatalf("after a TTL, the cache holds %d entries, want 1", n)
	}

	// Short-lived tokens (exp + leeway before the TTL) expiring under a
	// steady flow: the map stays near twice the live entries.
	c = newTokenCache(time.Hour)
	short := &Principal{Expiry: now.Add(-50 * time.Second)} // until = now+10s
	for i := range 5000 {
		at := now.Add(time.Duration(i) * 100 * time.Millisecond) // 100 live at a time
		putRaw(c, "short-"+strconv.Itoa(i), &Principal{Expiry: short.Expiry.Add(time.Duration(i) * 100 * time.Millisecond)}, at)
	}
	if n := len(c.m); n > 2*minSweepSize {
		t.Fatalf("cache holds %d entries with about 100 live, want at most %d", n, 2*minSweepSize)
	}
}

// TestTokenCacheHitDoesNotAllocate checks the hit path: hashing the token
// in place, lookup and stats.
func TestTokenCacheHitDoesNotAllocate(t *testing.T) {
	c := newTokenCache(time.Minute)
	now := time.Now()
	raw := strings.Repeat("x", 900)
	putRaw(c, raw, &Principal{Expiry: now.Add(time.Hour)}, now)
	if n := testing.AllocsPerRun(100, func() {
		if _, _, ok := c.get(raw, now); !ok {
			t.Fatal("miss")
		}
	}); n != 0 {
		t.Fatalf("a cache hit allocates %v times", n)
	}
}

// TestTokenCacheMemoryStaysBounded floods the cache with twenty times
// more distinct tokens than it holds: its live heap must stay near that
// of a full cache. A Go map keeps the storage of deleted entries, so
// without rebuild the churn grew it about eightfold (1.2 to 9.7 MB).
func TestTokenCacheMemoryStaysBounded(t *testing.T) {
	c := newTokenCache(time.Hour)
	now := time.Now()
	p := &Principal{Expiry: now.Add(2 * time.Hour)}
	key := func(i int) string { return "flood-" + strconv.Itoa(i) }
	for i := range 2 * maxCacheEntries {
		putRaw(c, key(i), p, now)
	}
	full := testkit.HeapInUse()
	for i := 2 * maxCacheEntries; i < 20*maxCacheEntries; i++ {
		putRaw(c, key(i), p, now)
	}
	after := testkit.HeapInUse()
	if len(c.m) > maxCacheEntries {
		t.Fatalf("cache holds %d entries, cap %d", len(c.m), maxCacheEntries)
	}
	if grown := after - full; grown > 2<<20 {
		t.Fatalf("live heap grew by %.1f MiB over %d more distinct tokens; a full cache holds about 1 MiB", grown/(1<<20), 18*maxCacheEntries)
	}
}
