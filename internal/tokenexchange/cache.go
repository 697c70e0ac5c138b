package tokenexchange

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// DefaultCacheSize is a Cache's bound when NewCache is given 0.
const DefaultCacheSize = 10000

// maxSkew is how long before its expiry a cached token stops being used:
// at most 30 seconds, and a quarter of the token's lifetime for short
// ones, so the upstream never receives a token about to expire.
const maxSkew = 30 * time.Second

// Cache keeps issued tokens per key until shortly before they expire, at
// most a fixed number, dropping the least recently used first, and runs
// one exchange per key at a time however many requests wait for it. The
// caller builds keys so that one user's token never serves another. It is
// safe for concurrent use.
type Cache struct {
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*list.Element // of *cached
	lru     list.List                // front: most recently used
	flights map[string]*flight
}

type cached struct {
	key   string
	tok   *Token
	until time.Time
}

// flight is one exchange in progress; done closes when tok or err is set.
type flight struct {
	done chan struct{}
	tok  *Token
	err  error
}

// NewCache returns a cache of at most size tokens (0: DefaultCacheSize);
// now is its clock (nil: time.Now).
func NewCache(size int, now func() time.Time) *Cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	if now == nil {
		now = time.Now
	}
	return &Cache{max: size, now: now, entries: map[string]*list.Element{}, flights: map[string]*flight{}}
}

// Get returns the token cached for key if it is still good, else the
// result of fetch, which runs once for all the callers of key that arrive
// while it runs. fetch gets a context that keeps ctx's values but not its
// cancellation (one caller giving up must not fail the others; fetch
// bounds itself), and each caller stops waiting when its own ctx ends. A
// fetched token is kept until its expiry less a skew, and never after
// notAfter (when not zero: the client token's expiry, so that a new client
// token means a new exchange); a token without an expiry, or an error, is
// not kept.
func (c *Cache) Get(ctx context.Context, key string, notAfter time.Time, fetch func(context.Context) (*Token, error)) (*Token, error) {
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*cached)
		if c.now().Before(e.until) {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return e.tok, nil
		}
		c.remove(el)
	}
	f, running := c.flights[key]
	if !running {
		f = &flight{done: make(chan struct{})}
		c.flights[key] = f
		go c.run(context.WithoutCancel(ctx), key, notAfter, f, fetch)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// run performs one flight and stores its token.
func (c *Cache) run(ctx context.Context, key string, notAfter time.Time, f *flight, fetch func(context.Context) (*Token, error)) {
	start := c.now()
	f.tok, f.err = fetch(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.flights, key)
	close(f.done)
	if f.err != nil || f.tok == nil || f.tok.Expiry.IsZero() {
		return
	}
	until := f.tok.Expiry.Add(-min(maxSkew, f.tok.Expiry.Sub(start)/4))
	if !notAfter.IsZero() && notAfter.Before(until) {
		until = notAfter
	}
	if !c.now().Before(until) {
		return
	}
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	for c.lru.Len() >= c.max {
		c.remove(c.lru.Back())
	}
	c.entries[key] = c.lru.PushFront(&cached{key: key, tok: f.tok, until: until})
}

func (c *Cache) remove(el *list.Element) {
	c.lru.Remove(el)
	delete(c.entries, el.Value.(*cached).key)
}

// Len is the number of tokens kept (expired ones included until they are
// looked up or pushed out).
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
