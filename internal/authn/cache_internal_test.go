package authn

import (
	"strconv"
	"testing"
	"time"
)

func TestTokenCacheIsBounded(t *testing.T) {
	c := newTokenCache(time.Minute)
	now := time.Now()
	p := &Principal{Expiry: now.Add(time.Hour)}
	for i := range maxCacheEntries + 500 {
		c.put("tok-"+strconv.Itoa(i), p, now, time.Minute)
	}
	if n := len(c.m); n > maxCacheEntries {
		t.Fatalf("cache holds %d entries, cap %d", n, maxCacheEntries)
	}
	if _, ok := c.get("tok-"+strconv.Itoa(maxCacheEntries+499), now); !ok {
		t.Fatal("the newest entry was evicted")
	}
	if newTokenCache(-1) != nil {
		t.Fatal("negative TTL must disable the cache")
	}
}
