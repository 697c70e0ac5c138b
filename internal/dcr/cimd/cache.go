package cimd

import (
	"container/list"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Cache lifetimes (CIMD draft §5.2 lets the server bound them) when a
// response says nothing (DefaultTTL) and the most a response can ask for
// (MaxTTL). There is no lower bound: max-age=0 or no-store refetch every
// time.
const (
	DefaultTTL = 5 * time.Minute
	MaxTTL     = 24 * time.Hour
)

// freshness returns how long a 200 response may be reused, following
// RFC 9111 §4.2.1 for a shared cache: "no-store" and "no-cache" mean not at
// all (this cache does not revalidate); otherwise s-maxage, then max-age,
// then Expires minus Date (or minus now when Date is absent), each less the
// Age header; DefaultTTL when none is present; never more than MaxTTL. An
// unparsable Expires means already expired (RFC 9111 §5.3). It does not
// implement Vary, heuristic freshness or stale-while-revalidate.
func freshness(h http.Header, now time.Time) time.Duration {
	var maxAge, sMaxAge = -1, -1
	for _, cc := range h.Values("Cache-Control") {
		for _, d := range strings.Split(cc, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			val = strings.Trim(strings.TrimSpace(val), `"`)
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0
			case "max-age":
				maxAge = seconds(val)
			case "s-maxage":
				sMaxAge = seconds(val)
			}
		}
	}
	var ttl time.Duration
	switch {
	case sMaxAge >= 0:
		ttl = time.Duration(sMaxAge) * time.Second
	case maxAge >= 0:
		ttl = time.Duration(maxAge) * time.Second
	case h.Get("Expires") != "":
		exp, err := http.ParseTime(h.Get("Expires"))
		if err != nil {
			return 0
		}
		base := now
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			base = d
		}
		ttl = exp.Sub(base)
	default:
		return DefaultTTL
	}
	if age := seconds(h.Get("Age")); age > 0 {
		ttl -= time.Duration(age) * time.Second
	}
	return min(max(ttl, 0), MaxTTL)
}

// seconds parses a delta-seconds value; -1 when invalid. Values beyond a
// day, including ones too large to parse (RFC 9111 §1.2.2), are clamped
// (the caller caps at MaxTTL anyway).
func seconds(s string) int {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if errors.Is(err, strconv.ErrRange) && n > 0 {
		n, err = math.MaxInt64, nil
	}
	if err != nil || n < 0 {
		return -1
	}
	return int(min(n, int64(MaxTTL/time.Second)+1))
}

// docCache is a bounded least-recently-used cache of fetched documents.
type docCache struct {
	mu    sync.Mutex
	size  int
	order *list.List // front = most recently used; values are *cacheEntry
	items map[string]*list.Element
}

type cacheEntry struct {
	key string
	doc *Document
}

func newDocCache(size int) *docCache {
	return &docCache{size: size, order: list.New(), items: map[string]*list.Element{}}
}

// get returns a document still fresh at now; stale entries are dropped.
func (c *docCache) get(key string, now time.Time) *Document {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.doc.ExpiresAt) {
		c.order.Remove(el)
		delete(c.items, key)
		return nil
	}
	c.order.MoveToFront(el)
	return e.doc
}

// put stores doc, evicting the least recently used entry when full.
func (c *docCache) put(key string, doc *Document) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		el.Value.(*cacheEntry).doc = doc
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&cacheEntry{key: key, doc: doc})
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}
