package gateway

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
)

// RateLimit is a token bucket (golang.org/x/time/rate): Rate requests per
// second on average, in bursts of up to Burst.
type RateLimit struct {
	// Rate is requests per second; 0: the default; negative: no limit.
	Rate float64
	// Burst is the bucket size; <= 0: the default.
	Burst int
}

// orDefault fills r's zero members from def.
func (r RateLimit) orDefault(def RateLimit) RateLimit {
	if r.Rate == 0 {
		r.Rate = def.Rate
	}
	if r.Burst <= 0 {
		r.Burst = def.Burst
	}
	return r
}

// Defaults of the limits (config's).
var (
	defaultPerIP        = RateLimit{Rate: config.DefaultRateLimitPerIP, Burst: config.DefaultRateLimitPerIPBurst}
	defaultPerPrincipal = RateLimit{Rate: config.DefaultRateLimitPerPrincipal, Burst: config.DefaultRateLimitPerPrincipalBurst}
)

// Messages of the limits' JSON-RPC errors (code -32000, no id: the body
// is not read yet).
const (
	msgRateIP        = "rate limit exceeded for this client address"
	msgRatePrincipal = "rate limit exceeded for this principal"
	msgConcurrency   = "too many concurrent requests for this principal"
)

// limits are the gateway's per-user limits shared by every route: the
// per-IP and per-principal rate limits (nil: off).
type limits struct {
	perIP, perPrincipal *keyedLimiter
}

func newLimits(o Options) limits {
	ip := o.RateLimitPerIP.orDefault(defaultPerIP)
	pr := o.RateLimitPerPrincipal.orDefault(defaultPerPrincipal)
	return limits{
		perIP:        newKeyedLimiter(ip.Rate, ip.Burst, o.Now),
		perPrincipal: newKeyedLimiter(pr.Rate, pr.Burst, o.Now),
	}
}

// limitIP answers 429 to a client address over rate_limit_per_ip, before
// its token is read (so that a flood of bad tokens costs no
// verification). IPv6 clients are limited per /64, the least a site is
// usually given, so that one host cannot rotate through its prefix.
func (s *Server) limitIP(next http.Handler) http.Handler {
	if s.limits.perIP == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait, ok := s.limits.perIP.allow(ipKey(s.clientIP(r))); !ok {
			tooMany(w, r, observe.ReasonRate, msgRateIP, wait)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitPrincipal answers 429 to a verified caller over
// rate_limit_per_principal, one bucket per issuer and subject for every
// route. A request without a principal passes (the bearer middleware in
// front refused it already, or the handler fails closed).
func (s *Server) limitPrincipal(next http.Handler) http.Handler {
	if s.limits.perPrincipal == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := call.PrincipalFrom(r.Context()); p != nil {
			if wait, ok := s.limits.perPrincipal.allow(principalKey(p)); !ok {
				tooMany(w, r, observe.ReasonRate, msgRatePrincipal, wait)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// streamCap counts one route's requests in flight per principal
// (max_streams_per_principal): a slot is taken once the token is verified,
// before the body is read, and given back when the handler returns, so a
// slow body and a long stream both hold one. Its map holds only keys with
// slots in use. A non-positive max disables it.
type streamCap struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

func newStreamCap(max int) *streamCap {
	if max == 0 {
		max = config.DefaultMaxStreamsPerPrincipal
	}
	return &streamCap{max: max, n: map[string]int{}}
}

// wrap answers 429 to a principal with max requests in flight.
func (c *streamCap) wrap(next http.Handler) http.Handler {
	if c.max <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := call.PrincipalFrom(r.Context())
		if p == nil {
			next.ServeHTTP(w, r)
			return
		}
		key := principalKey(p)
		if !c.acquire(key) {
			// A slot frees when one of the caller's requests ends, which
			// nothing here can predict: retry in a second.
			tooMany(w, r, observe.ReasonConcurrency, msgConcurrency, time.Second)
			return
		}
		defer c.release(key)
		next.ServeHTTP(w, r)
	})
}

func (c *streamCap) acquire(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[key] >= c.max {
		return false
	}
	c.n[key]++
	return true
}

func (c *streamCap) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[key]--; c.n[key] <= 0 {
		delete(c.n, key)
	}
}

// inUse is key's slots in use.
func (c *streamCap) inUse(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

// tooMany records the refusal and answers 429 with Retry-After (whole
// seconds, rounded up, at least 1) and a JSON-RPC error without id.
func tooMany(w http.ResponseWriter, r *http.Request, reason observe.Reason, msg string, wait time.Duration) {
	observe.Deny(r.Context(), reason, msg)
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
	mcpwire.WriteError(w, mcpwire.Errorf(http.StatusTooManyRequests, mcpwire.CodeServerError, nil, "%s", msg))
}

// retryAfter is wait in whole seconds, rounded up, at least 1.
func retryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}

// principalKey is the limits' key of a caller: issuer and subject.
func principalKey(p *authn.Principal) string { return p.Issuer + "\x00" + p.Subject }

// ipKey is the per-IP limit's key of a client address: the address, or
// its /64 for IPv6.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() {
		return ip
	}
	return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
}

// bodyDeadline bounds, from the request's arrival, the reading of a body
// that no layer ends up reading. A request refused before call.ReadWithin
// (Origin, a rate limit, the token, the stream cap) leaves its body
// unread, and net/http reads what remains of it (up to 256 KiB) before it
// sends the answer or reuses the connection: without a deadline a client
// trickling that body would hold the connection and its goroutine for as
// long as it pleased. call.ReadWithin sets the deadline again, from when
// it starts reading, and clears it once the body is in; net/http clears
// it before the connection's next request.
func (s *Server) bodyDeadline(next http.Handler) http.Handler {
	d := bodyReadTimeout(s.opts.BodyReadTimeout)
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 {
			// A writer without deadlines fails closed in call.ReadWithin.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		next.ServeHTTP(w, r)
	})
}

// bodyReadTimeout is Options.BodyReadTimeout for call.ReadWithin: the
// default for 0, none (0) for a negative one.
func bodyReadTimeout(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return config.DefaultBodyReadTimeout
	case d < 0:
		return 0
	}
	return d
}
