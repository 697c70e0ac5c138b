package httpapi

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cimd"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// maxSources bounds the limiter's memory. When it is full and no bucket
// has refilled (so none can be forgotten), new sources are refused: under
// a flood of distinct addresses the service fails closed.
const maxSources = 100_000

// limiter is a token bucket per source: rate tokens per minute, burst deep.
type limiter struct {
	mu      sync.Mutex
	perSec  float64
	burst   float64
	now     func() time.Time
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(perMinute, burst int, now func() time.Time) *limiter {
	return &limiter{perSec: float64(perMinute) / 60, burst: float64(burst), now: now,
		buckets: map[string]*bucket{}}
}

// take spends one token of key's bucket; when none is left it returns how
// long until one is.
func (l *limiter) take(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxSources && !l.sweep(now) {
			return false, time.Minute
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el.Seconds()*l.perSec)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.perSec * float64(time.Second))
}

// sweep forgets buckets that have refilled completely (forgetting them
// changes nothing); it reports whether any room was made.
func (l *limiter) sweep(now time.Time) bool {
	full := time.Duration(l.burst / l.perSec * float64(time.Second))
	n := len(l.buckets)
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
		}
	}
	return len(l.buckets) < n
}

// allow applies the rate limit to r; when refused it counts
// Metrics.RateLimited(endpoint) and writes 429 with Retry-After (whole
// seconds, at least 1) and {"error":"slow_down"}.
func (h *Handler) allow(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	ok, wait := h.limiter.take(h.source(r))
	if ok {
		return true
	}
	h.metrics.RateLimited(endpoint)
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	bearer.WriteJSON(w, &bearer.Error{Status: http.StatusTooManyRequests, Code: "slow_down",
		Description: "too many registration requests from this source; retry after " + strconv.Itoa(secs) + "s"})
	return false
}

// writeThrottle is the cimd.Throttle the handler passes to the bridge's
// /authorize and /token: every Cognito write their requests cause (an app
// client created or updated for a metadata document, a loopback callback
// URL added or refreshed) spends a token of the same bucket as
// registration, keyed by the same source. Refusals are counted as
// Metrics.RateLimited of the request's endpoint.
type writeThrottle struct {
	h        *Handler
	endpoint string
}

var _ cimd.Throttle = writeThrottle{}

// AllowWrite spends one token of r's source.
func (t writeThrottle) AllowWrite(r *http.Request) (bool, time.Duration) {
	ok, wait := t.h.limiter.take(t.h.source(r))
	if !ok {
		t.h.metrics.RateLimited(t.endpoint)
	}
	return ok, wait
}

// source names the client for rate limiting: the first X-Forwarded-For hop
// when trusted, else the connection's address; IPv6 addresses are grouped
// by /64 (one subscriber's allocation). Unparsable addresses are used as
// they are.
func (h *Handler) source(r *http.Request) string {
	raw := r.RemoteAddr
	if h.opts.TrustForwardedFor {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			raw = strings.TrimSpace(first)
		}
	}
	if host, _, err := net.SplitHostPort(raw); err == nil {
		raw = host
	}
	ip, err := netip.ParseAddr(strings.Trim(raw, "[]"))
	if err != nil {
		return raw
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
