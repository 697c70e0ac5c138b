package tokenexchange_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/tokenexchange"
)

// counter is a fetch that returns a new token per call, expiring lifetime
// after the clock's time (no expiry when lifetime is 0).
type counter struct {
	clock    *testkit.Clock
	lifetime time.Duration
	calls    atomic.Int64
}

func (c *counter) fetch(context.Context) (*tokenexchange.Token, error) {
	n := c.calls.Add(1)
	tok := &tokenexchange.Token{AccessToken: fmt.Sprintf("tok-%d", n)}
	if c.lifetime > 0 {
		tok.Expiry = c.clock.Now().Add(c.lifetime)
	}
	return tok, nil
}

func get(t *testing.T, c *tokenexchange.Cache, key string, notAfter time.Time, fetch func(context.Context) (*tokenexchange.Token, error)) string {
	t.Helper()
	tok, err := c.Get(context.Background(), key, notAfter, fetch)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return tok.AccessToken
}

// TestCacheLifetime: a token is served until its expiry less min(30s, a
// quarter of its lifetime), and never after notAfter.
func TestCacheLifetime(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		lifetime time.Duration
		notAfter time.Duration // from start; 0: none
		until    time.Duration // last use is just before start+until
	}{
		{"60s token: skew 15s", time.Minute, 0, 45 * time.Second},
		{"2m token: skew 30s", 2 * time.Minute, 0, 90 * time.Second},
		{"10m token: skew 30s", 10 * time.Minute, 0, 9*time.Minute + 30*time.Second},
		{"4s token: skew 1s", 4 * time.Second, 0, 3 * time.Second},
		{"1h token, client token expires in 20s", time.Hour, 20 * time.Second, 20 * time.Second},
		{"1h token, client token outlives it", time.Hour, 2 * time.Hour, time.Hour - 30*time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := testkit.NewClock(start)
			c := tokenexchange.NewCache(0, clock.Now)
			f := &counter{clock: clock, lifetime: tt.lifetime}
			var notAfter time.Time
			if tt.notAfter > 0 {
				notAfter = start.Add(tt.notAfter)
			}
			if got := get(t, c, "k", notAfter, f.fetch); got != "tok-1" {
				t.Fatalf("first Get = %s", got)
			}
			clock.Set(start.Add(tt.until - time.Nanosecond))
			if got := get(t, c, "k", notAfter, f.fetch); got != "tok-1" {
				t.Fatalf("Get just before %v = %s, want the cached tok-1", tt.until, got)
			}
			clock.Set(start.Add(tt.until))
			if got := get(t, c, "k", notAfter, f.fetch); got != "tok-2" {
				t.Fatalf("Get at %v = %s, want a new exchange", tt.until, got)
			}
			if n := f.calls.Load(); n != 2 {
				t.Errorf("%d fetches, want 2", n)
			}
		})
	}
}

// TestCacheNotStored: no expiry, an error, or a token already past
// notAfter is returned but not kept.
func TestCacheNotStored(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := testkit.NewClock(start)
	boom := errors.New("refused")
	for _, tt := range []struct {
		name     string
		notAfter time.Time
		fetch    func(context.Context) (*tokenexchange.Token, error)
		wantErr  error
	}{
		{"no expiry", time.Time{}, func(context.Context) (*tokenexchange.Token, error) {
			return &tokenexchange.Token{AccessToken: "t"}, nil
		}, nil},
		{"error", time.Time{}, func(context.Context) (*tokenexchange.Token, error) { return nil, boom }, boom},
		{"client token already expired", start.Add(-time.Second), func(context.Context) (*tokenexchange.Token, error) {
			return &tokenexchange.Token{AccessToken: "t", Expiry: start.Add(time.Hour)}, nil
		}, nil},
		{"token expired on arrival", time.Time{}, func(context.Context) (*tokenexchange.Token, error) {
			return &tokenexchange.Token{AccessToken: "t", Expiry: start.Add(-time.Second)}, nil
		}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tokenexchange.NewCache(0, clock.Now)
			var calls atomic.Int64
			fetch := func(ctx context.Context) (*tokenexchange.Token, error) { calls.Add(1); return tt.fetch(ctx) }
			for range 2 {
				tok, err := c.Get(context.Background(), "k", tt.notAfter, fetch)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Get: %v, want %v", err, tt.wantErr)
				}
				if err == nil && tok.AccessToken != "t" {
					t.Fatalf("Get = %+v", tok)
				}
			}
			if n := calls.Load(); n != 2 {
				t.Errorf("%d fetches, want 2 (nothing kept)", n)
			}
			if n := c.Len(); n != 0 {
				t.Errorf("Len = %d", n)
			}
		})
	}
}

// doneWatch is a context that reports when Get starts waiting on it: Get
// reads ctx.Done() only in its wait, after it joined (or started) the
// flight, so once called the caller is committed to that flight.
type doneWatch struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func watch(ctx context.Context) *doneWatch {
	return &doneWatch{Context: ctx, waiting: make(chan struct{})}
}

func (d *doneWatch) Done() <-chan struct{} {
	d.once.Do(func() { close(d.waiting) })
	return d.Context.Done()
}

// blocked is a fetch that blocks until release is closed, returning tok.
type blocked struct {
	started chan context.Context // receives fetch's ctx
	release chan struct{}
	calls   atomic.Int64
	tok     *tokenexchange.Token
}

func newBlocked(tok *tokenexchange.Token) *blocked {
	return &blocked{started: make(chan context.Context, 16), release: make(chan struct{}), tok: tok}
}

func (b *blocked) fetch(ctx context.Context) (*tokenexchange.Token, error) {
	b.calls.Add(1)
	b.started <- ctx
	<-b.release
	return b.tok, nil
}

// TestCacheSingleFlight: callers of one key arriving while its exchange
// runs share it. The token has no expiry, so it is not kept: a caller
// that did not share the flight would start another fetch.
func TestCacheSingleFlight(t *testing.T) {
	const n = 16
	c := tokenexchange.NewCache(0, nil)
	b := newBlocked(&tokenexchange.Token{AccessToken: "shared"})
	type result struct {
		tok *tokenexchange.Token
		err error
	}
	results := make(chan result, n)
	var waiting []chan struct{}
	for range n {
		ctx := watch(context.Background())
		waiting = append(waiting, ctx.waiting)
		go func() {
			tok, err := c.Get(ctx, "k", time.Time{}, b.fetch)
			results <- result{tok, err}
		}()
	}
	testkit.Recv(t, b.started, testkit.DefaultTimeout, "the exchange to start")
	for _, w := range waiting {
		testkit.WaitDone(t, w, testkit.DefaultTimeout, "every caller to wait")
	}
	close(b.release)
	for range n {
		r := testkit.Recv(t, results, testkit.DefaultTimeout, "a caller's result")
		if r.err != nil || r.tok.AccessToken != "shared" {
			t.Fatalf("Get = %+v, %v", r.tok, r.err)
		}
	}
	if got := b.calls.Load(); got != 1 {
		t.Errorf("%d fetches for %d concurrent callers, want 1", got, n)
	}
}

// TestCacheKeysIndependent: a blocked exchange of one key holds up no
// other key.
func TestCacheKeysIndependent(t *testing.T) {
	c := tokenexchange.NewCache(0, nil)
	a := newBlocked(&tokenexchange.Token{AccessToken: "a"})
	done := make(chan string, 1)
	go func() {
		tok, err := c.Get(context.Background(), "a", time.Time{}, a.fetch)
		if err != nil {
			done <- err.Error()
			return
		}
		done <- tok.AccessToken
	}()
	testkit.Recv(t, a.started, testkit.DefaultTimeout, "a's exchange to start")
	if got := get(t, c, "b", time.Time{}, func(context.Context) (*tokenexchange.Token, error) {
		return &tokenexchange.Token{AccessToken: "b"}, nil
	}); got != "b" {
		t.Fatalf("Get(b) = %s", got)
	}
	close(a.release)
	if got := testkit.Recv(t, done, testkit.DefaultTimeout, "a's result"); got != "a" {
		t.Fatalf("Get(a) = %s", got)
	}
}

// TestCacheWaiterCancelled: a caller that gives up returns its context's
// cause at once; the exchange goes on, with a context that is not
// cancelled, and its token serves the next caller.
func TestCacheWaiterCancelled(t *testing.T) {
	clock := testkit.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	c := tokenexchange.NewCache(0, clock.Now)
	b := newBlocked(&tokenexchange.Token{AccessToken: "late", Expiry: clock.Now().Add(time.Hour)})
	type ctxKey struct{}
	ctx, cancel := context.WithCancelCause(context.WithValue(context.Background(), ctxKey{}, "v"))
	gaveUp := errors.New("client went away")
	errc := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, "k", time.Time{}, b.fetch)
		errc <- err
	}()
	fctx := testkit.Recv(t, b.started, testkit.DefaultTimeout, "the exchange to start")
	cancel(gaveUp)
	if err := testkit.Recv(t, errc, testkit.DefaultTimeout, "the cancelled caller to return"); !errors.Is(err, gaveUp) {
		t.Fatalf("cancelled Get = %v, want its cause", err)
	}
	if err := fctx.Err(); err != nil {
		t.Errorf("fetch's context ended with its first caller: %v", err)
	}
	if v, _ := fctx.Value(ctxKey{}).(string); v != "v" {
		t.Error("fetch's context lost the caller's values")
	}
	close(b.release)
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { return c.Len() == 1 }, "the token to be kept")
	if got := get(t, c, "k", time.Time{}, func(context.Context) (*tokenexchange.Token, error) {
		t.Error("a second exchange")
		return nil, errors.New("unexpected")
	}); got != "late" {
		t.Fatalf("next Get = %s", got)
	}
	if n := b.calls.Load(); n != 1 {
		t.Errorf("%d fetches", n)
	}
}

// TestCacheBound: a full cache drops the least recently used token.
func TestCacheBound(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		touch   []string // gets after a, b are stored, before c
		evicted string
	}{
		{"no touch: a, the oldest, goes", nil, "a"},
		{"a touched: b goes", []string{"a"}, "b"},
		{"a then b touched: a goes", []string{"a", "b"}, "a"},
		{"b then a touched: b goes", []string{"b", "a"}, "b"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := testkit.NewClock(start)
			c := tokenexchange.NewCache(2, clock.Now)
			calls := map[string]int{}
			fetch := func(key string) func(context.Context) (*tokenexchange.Token, error) {
				return func(context.Context) (*tokenexchange.Token, error) {
					calls[key]++ // Get returns after fetch: no race
					return &tokenexchange.Token{AccessToken: fmt.Sprintf("%s-%d", key, calls[key]), Expiry: start.Add(time.Hour)}, nil
				}
			}
			for _, k := range append(append([]string{"a", "b"}, tt.touch...), "c") {
				get(t, c, k, time.Time{}, fetch(k))
			}
			if n := c.Len(); n != 2 {
				t.Errorf("Len = %d, want 2", n)
			}
			// The kept ones first: fetching the evicted one again evicts another.
			for _, k := range []string{"a", "b", "c"} {
				if k == tt.evicted {
					continue
				}
				if got := get(t, c, k, time.Time{}, fetch(k)); got != k+"-1" {
					t.Errorf("Get(%s) = %s, want the cached %s-1", k, got, k)
				}
			}
			if got := get(t, c, tt.evicted, time.Time{}, fetch(tt.evicted)); got != tt.evicted+"-2" {
				t.Errorf("Get(%s) = %s, want a new exchange", tt.evicted, got)
			}
		})
	}
}

func TestCacheDefaultSize(t *testing.T) {
	clock := testkit.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	c := tokenexchange.NewCache(0, clock.Now)
	for i := range tokenexchange.DefaultCacheSize + 1 {
		get(t, c, fmt.Sprint(i), time.Time{}, func(context.Context) (*tokenexchange.Token, error) {
			return &tokenexchange.Token{AccessToken: "t", Expiry: clock.Now().Add(time.Hour)}, nil
		})
	}
	if n := c.Len(); n != tokenexchange.DefaultCacheSize {
		t.Errorf("Len = %d, want %d", n, tokenexchange.DefaultCacheSize)
	}
}
