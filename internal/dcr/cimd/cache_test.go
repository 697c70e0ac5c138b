package cimd

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestFreshness proves the RFC 9111 rules freshness applies.
func TestFreshness(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name string
		h    map[string]string
		want time.Duration
	}{
		{"nothing", nil, DefaultTTL},
		{"max-age", map[string]string{"Cache-Control": "max-age=120"}, 2 * time.Minute},
		{"max-age quoted, spaced", map[string]string{"Cache-Control": `public,  MAX-AGE="30"`}, 30 * time.Second},
		{"s-maxage wins", map[string]string{"Cache-Control": "max-age=120, s-maxage=10"}, 10 * time.Second},
		{"max-age zero", map[string]string{"Cache-Control": "max-age=0"}, 0},
		{"no-store", map[string]string{"Cache-Control": "max-age=600, no-store"}, 0},
		{"no-cache", map[string]string{"Cache-Control": "no-cache"}, 0},
		{"capped", map[string]string{"Cache-Control": "max-age=31536000"}, MaxTTL},
		{"huge", map[string]string{"Cache-Control": "max-age=999999999999999999999"}, MaxTTL},
		{"bad max-age ignored", map[string]string{"Cache-Control": "max-age=abc"}, DefaultTTL},
		{"age subtracted", map[string]string{"Cache-Control": "max-age=120", "Age": "100"}, 20 * time.Second},
		{"age beyond", map[string]string{"Cache-Control": "max-age=120", "Age": "500"}, 0},
		{"expires vs date", map[string]string{"Date": at(-time.Hour), "Expires": at(-time.Hour + 3*time.Minute)}, 3 * time.Minute},
		{"expires vs now", map[string]string{"Expires": at(4 * time.Minute)}, 4 * time.Minute},
		{"expires past", map[string]string{"Expires": at(-time.Minute)}, 0},
		{"expires invalid", map[string]string{"Expires": "0"}, 0},
		{"max-age over expires", map[string]string{"Cache-Control": "max-age=60", "Expires": at(time.Hour)}, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.h {
				h.Set(k, v)
			}
			if got := freshness(h, now); got != tt.want {
				t.Fatalf("freshness = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDocCacheLRU proves the cache is bounded and evicts the least
// recently used entry, and drops entries once stale.
func TestDocCacheLRU(t *testing.T) {
	now := time.Now()
	c := newDocCache(2)
	doc := func(i int) *Document {
		return &Document{ClientID: fmt.Sprint(i), ExpiresAt: now.Add(time.Minute)}
	}
	c.put("a", doc(1))
	c.put("b", doc(2))
	if c.get("a", now) == nil { // a is now most recent
		t.Fatal("a missing")
	}
	c.put("c", doc(3)) // evicts b
	if c.get("b", now) != nil || c.get("a", now) == nil || c.get("c", now) == nil || c.len() != 2 {
		t.Fatalf("LRU eviction wrong (len %d)", c.len())
	}
	if c.get("a", now.Add(time.Minute)) != nil || c.len() != 1 {
		t.Fatal("stale entry served or kept")
	}
}
