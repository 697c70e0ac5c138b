package gateway

import (
	"container/list"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// defaultMaxLimiterKeys bounds the keys (client IPs or principals) one
// keyedLimiter remembers: about 250 bytes each, so some 16 MiB at most.
const defaultMaxLimiterKeys = 1 << 16

// keyedLimiter is one token bucket (golang.org/x/time/rate) per key, in
// memory that stays bounded whatever keys arrive: a key unused for as long
// as its bucket takes to refill is forgotten (lossless: it would be full
// again), and beyond maxKeys the least recently used key is forgotten
// (which only hands that key a full bucket again). An attacker who
// rotates keys (IP addresses) therefore cannot grow it; what a fresh key
// gets is one burst. It is safe for concurrent use.
type keyedLimiter struct {
	limit   rate.Limit
	burst   int
	idle    time.Duration
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // of *bucket
	lru  list.List                // least recently used first
}

type bucket struct {
	key  string
	lim  *rate.Limiter
	last time.Time
}

// newKeyedLimiter returns a limiter of perSecond requests per key on
// average with bursts of burst (at least 1), or nil when perSecond is not
// positive (no limit).
func newKeyedLimiter(perSecond float64, burst int, now func() time.Time) *keyedLimiter {
	if perSecond <= 0 {
		return nil
	}
	burst = max(burst, 1)
	refill := time.Duration(math.Ceil(float64(burst) / perSecond * float64(time.Second)))
	return &keyedLimiter{
		limit: rate.Limit(perSecond), burst: burst, idle: max(refill, time.Second),
		maxKeys: defaultMaxLimiterKeys, now: now, keys: map[string]*list.Element{},
	}
}

// allow spends one token of key's bucket. When the bucket is empty it
// spends nothing and returns how long until a token is there (the
// reservation's delay).
func (k *keyedLimiter) allow(key string) (wait time.Duration, ok bool) {
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.expire(now)
	b := k.bucket(key, now)
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return time.Second, false
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// bucket returns key's bucket, made most recently used, creating it (and
// forgetting the least recently used key if full) when absent.
func (k *keyedLimiter) bucket(key string, now time.Time) *bucket {
	if e, ok := k.keys[key]; ok {
		k.lru.MoveToBack(e)
		b := e.Value.(*bucket)
		b.last = now
		return b
	}
	for len(k.keys) >= k.maxKeys {
		k.remove(k.lru.Front())
	}
	b := &bucket{key: key, lim: rate.NewLimiter(k.limit, k.burst), last: now}
	k.keys[key] = k.lru.PushBack(b)
	return b
}

// expire forgets the keys idle for k.idle or longer.
func (k *keyedLimiter) expire(now time.Time) {
	for e := k.lru.Front(); e != nil; e = k.lru.Front() {
		if now.Sub(e.Value.(*bucket).last) < k.idle {
			return
		}
		k.remove(e)
	}
}

func (k *keyedLimiter) remove(e *list.Element) {
	delete(k.keys, e.Value.(*bucket).key)
	k.lru.Remove(e)
}

// size is how many keys are remembered.
func (k *keyedLimiter) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys)
}
