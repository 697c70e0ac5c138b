package authn

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCacheTTL is how long a verified token is remembered.
const DefaultCacheTTL = 30 * time.Second

// maxCacheEntries bounds the verified-token cache.
const maxCacheEntries = 10000

// Sizing of the verified-token cache's map: initial capacity (small: every
// route has its own verifier, and most see a handful of users), and the
// smallest size at which growth triggers a sweep of expired entries.
const (
	cacheInitialSize = 16
	minSweepSize     = 256
)

// cacheKey is the SHA-256 of a raw token.
type cacheKey [sha256.Size]byte

// tokenCache remembers the principals of tokens that passed every check,
// keyed by the SHA-256 of the raw token (the token itself is not kept). An
// entry lives until min(insertion + TTL, exp + leeway). A hit skips parsing
// and signature verification but not the time check, and the caller still
// re-asks the client-id allowlist. Consequence, documented on
// Policy.CacheTTL: a token signed by a key the IdP has since removed stays
// accepted for at most TTL.
//
// Expired entries are dropped when looked up, and by a sweep of the whole
// map run from put when the map has doubled since the last sweep or a TTL
// has passed since it: amortised O(1) per put, no goroutine, and an
// expired entry lingers for at most about a TTL of traffic.
type tokenCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[cacheKey]cacheEntry
	// sweepAt and nextSweep trigger the next sweep (see put).
	sweepAt   int
	nextSweep time.Time
	// peak is the most entries m held since it was last rebuilt (see
	// compact).
	peak int

	hits, misses atomic.Uint64
}

// CacheStats counts lookups in a Verifier's verified-token cache
// (Verifier.CacheStats), for the mcpgw_token_cache_hits_total and
// mcpgw_token_cache_misses_total metrics. A miss is a token not cached or
// whose entry had expired; tokens over MaxTokenBytes are refused before
// the cache is consulted and count as neither.
type CacheStats struct {
	Hits, Misses uint64
}

// stats returns the counts (zero for a disabled cache).
func (c *tokenCache) stats() CacheStats {
	if c == nil {
		return CacheStats{}
	}
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load()}
}

type cacheEntry struct {
	p     *Principal
	until time.Time
}

func newTokenCache(ttl time.Duration) *tokenCache {
	if ttl <= 0 {
		return nil
	}
	return &tokenCache{ttl: ttl, m: make(map[cacheKey]cacheEntry, cacheInitialSize), sweepAt: minSweepSize}
}

// get returns the cached principal of raw if it is still valid at now, and
// raw's key, which put takes so that a miss hashes the token once. It does
// not allocate: the token is hashed in place.
func (c *tokenCache) get(raw string, now time.Time) (*Principal, cacheKey, bool) {
	if c == nil {
		return nil, cacheKey{}, false
	}
	k := cacheKey(sha256.Sum256(stringBytes(raw)))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		c.misses.Add(1)
		return nil, k, false
	}
	if !now.Before(e.until) {
		delete(c.m, k)
		c.misses.Add(1)
		return nil, k, false
	}
	c.hits.Add(1)
	return e.p, k, true
}

// put remembers p under k (from get) until min(now+TTL, exp+leeway).
func (c *tokenCache) put(k cacheKey, p *Principal, now time.Time, leeway time.Duration) {
	if c == nil {
		return
	}
	until := now.Add(c.ttl)
	if limit := p.Expiry.Add(leeway); limit.Before(until) {
		until = limit
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.sweepAt || len(c.m) >= maxCacheEntries || !now.Before(c.nextSweep) {
		c.sweep(now)
	}
	if len(c.m) >= maxCacheEntries {
		c.evict()
	}
	c.m[k] = cacheEntry{p: p, until: until}
	c.peak = max(c.peak, len(c.m))
}

// sweep drops expired entries and schedules the next sweep for when the
// map has doubled or a TTL has passed.
func (c *tokenCache) sweep(now time.Time) {
	for k, e := range c.m {
		if !now.Before(e.until) {
			delete(c.m, k)
		}
	}
	c.sweepAt = max(2*len(c.m), minSweepSize)
	c.nextSweep = now.Add(c.ttl)
	c.compact()
}

// evict drops an arbitrary tenth of a cache still full after a sweep (map order is random), so
// a flood of distinct valid tokens cannot grow memory without bound.
func (c *tokenCache) evict() {
	drop := len(c.m) - maxCacheEntries*9/10
	for k := range c.m {
		if drop <= 0 {
			break
		}
		delete(c.m, k)
		drop--
	}
	c.rebuild()
}

// compact rebuilds the map once it holds at most half of its peak: a Go
// map keeps the storage of deleted entries, so without this a cache that
// once held 10,000 tokens would keep their memory.
func (c *tokenCache) compact() {
	if c.peak > minSweepSize && 2*len(c.m) <= c.peak {
		c.rebuild()
	}
}

// rebuild copies the live entries into a map of their size. After evict
// it runs every maxCacheEntries/10 new tokens of a flood, copying the
// 9,000 that stay: without it, deletions and inserts churning a full map
// grow its storage far beyond 10,000 entries.
func (c *tokenCache) rebuild() {
	m := make(map[cacheKey]cacheEntry, len(c.m))
	for k, e := range c.m {
		m[k] = e
	}
	c.m, c.peak = m, len(m)
}
