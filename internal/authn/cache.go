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

// tokenCache remembers the principals of tokens that passed every check,
// keyed by the SHA-256 of the raw token (the token itself is not kept). An
// entry lives until min(insertion + TTL, exp + leeway). A hit skips parsing
// and signature verification but not the time check, and the caller still
// re-asks the client-id allowlist. Consequence, documented on
// Policy.CacheTTL: a token signed by a key the IdP has since removed stays
// accepted for at most TTL.
type tokenCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[[sha256.Size]byte]cacheEntry

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
	return &tokenCache{ttl: ttl, m: make(map[[sha256.Size]byte]cacheEntry)}
}

// get returns the cached principal of raw if it is still valid at now.
func (c *tokenCache) get(raw string, now time.Time) (*Principal, bool) {
	if c == nil {
		return nil, false
	}
	k := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		c.misses.Add(1)
		return nil, false
	}
	if !now.Before(e.until) {
		delete(c.m, k)
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	return e.p, true
}

// put remembers p for raw until min(now+TTL, exp+leeway).
func (c *tokenCache) put(raw string, p *Principal, now time.Time, leeway time.Duration) {
	if c == nil {
		return
	}
	until := now.Add(c.ttl)
	if limit := p.Expiry.Add(leeway); limit.Before(until) {
		until = limit
	}
	k := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCacheEntries {
		c.evict(now)
	}
	c.m[k] = cacheEntry{p: p, until: until}
}

// evict drops expired entries, then, if still full, an arbitrary tenth
// (map order is random), so a flood of distinct valid tokens cannot grow
// memory without bound.
func (c *tokenCache) evict(now time.Time) {
	for k, e := range c.m {
		if !now.Before(e.until) {
			delete(c.m, k)
		}
	}
	drop := len(c.m) - maxCacheEntries*9/10
	for k := range c.m {
		if drop <= 0 {
			break
		}
		delete(c.m, k)
		drop--
	}
}
