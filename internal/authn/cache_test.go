package authn_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
)

// countingKeys counts lookups, to see whether a verification hit the cache.
type countingKeys struct {
	authn.KeyLookup
	n atomic.Int64
}

func (c *countingKeys) LookupKey(ctx context.Context, kid string) (jwk.Key, error) {
	c.n.Add(1)
	return c.KeyLookup.LookupKey(ctx, kid)
}

// mutableAllow is a client-id allowlist that can change.
type mutableAllow struct{ ok atomic.Bool }

func (m *mutableAllow) AllowClientID(context.Context, string) (bool, error) { return m.ok.Load(), nil }

func TestVerifiedTokenCache(t *testing.T) {
	iss := authntest.NewIssuer(t)
	now := time.Now()
	clock := func() time.Time { return now }
	allow := &mutableAllow{}
	allow.ok.Store(true)
	keys := &countingKeys{KeyLookup: issuerKeys(t, iss)}
	v := newVerifier(t, keys, iss, func(p *authn.Policy) { p.Now = clock; p.ClientIDs = allow })
	claims := iss.Claims(testAudience)
	claims["exp"] = now.Add(40 * time.Second).Unix()
	tok := iss.Mint(claims)

	p1, err := v.Verify(ctxT(t), tok)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := v.Verify(ctxT(t), tok)
	if err != nil || p2 != p1 || keys.n.Load() != 1 {
		t.Fatalf("second verification: err %v, same principal %v, key lookups %d (want a cache hit)", err, p2 == p1, keys.n.Load())
	}

	// The allowlist is asked on every use, cached or not.
	allow.ok.Store(false)
	if _, err := v.Verify(ctxT(t), tok); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("revoked client on a cache hit: %v", err)
	}
	allow.ok.Store(true)

	// Past the cache TTL the token is verified in full again.
	now = now.Add(authn.DefaultCacheTTL + time.Second)
	if _, err := v.Verify(ctxT(t), tok); err != nil || keys.n.Load() != 2 {
		t.Fatalf("after TTL: err %v, lookups %d, want 2", err, keys.n.Load())
	}
	// An entry never outlives exp + leeway.
	now = now.Add(10*time.Second + authn.DefaultLeeway)
	if _, err := v.Verify(ctxT(t), tok); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("expired token accepted from cache: %v", err)
	}
}

func TestCacheDisabled(t *testing.T) {
	iss := authntest.NewIssuer(t)
	keys := &countingKeys{KeyLookup: issuerKeys(t, iss)}
	v := newVerifier(t, keys, iss, func(p *authn.Policy) { p.CacheTTL = -1 })
	tok := iss.Mint(iss.Claims(testAudience))
	for range 3 {
		if _, err := v.Verify(ctxT(t), tok); err != nil {
			t.Fatal(err)
		}
	}
	if keys.n.Load() != 3 {
		t.Fatalf("lookups = %d, want 3 with the cache off", keys.n.Load())
	}
}

// TestCacheRejectsFailuresFresh: a token that failed is not remembered as
// good, and a tampered twin of a cached token is verified in full.
func TestCacheDoesNotLeakToLookalikes(t *testing.T) {
	iss := authntest.NewIssuer(t)
	v := newVerifier(t, issuerKeys(t, iss), iss, nil)
	tok := iss.Mint(iss.Claims(testAudience))
	if _, err := v.Verify(ctxT(t), tok); err != nil {
		t.Fatal(err)
	}
	tampered := tok[:len(tok)-2] + "AA"
	if tampered == tok {
		tampered = tok[:len(tok)-2] + "BB"
	}
	if _, err := v.Verify(ctxT(t), tampered); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("tampered twin accepted: %v", err)
	}
}

// failingAllow always errors.
type failingAllow struct{}

func (failingAllow) AllowClientID(context.Context, string) (bool, error) {
	return false, errors.New("table down")
}

func TestAnyClientIDs(t *testing.T) {
	ctx := context.Background()
	static := authn.StaticClientIDs{"a"}
	tests := []struct {
		name    string
		any     authn.AnyClientIDs
		id      string
		ok      bool
		wantErr bool
	}{
		{"static yes", authn.AnyClientIDs{static, failingAllow{}}, "a", true, false},
		{"yes after a failure", authn.AnyClientIDs{failingAllow{}, static}, "a", true, false},
		{"no and a failure fails closed", authn.AnyClientIDs{static, failingAllow{}}, "b", false, true},
		{"plain no", authn.AnyClientIDs{static}, "b", false, false},
		{"empty", nil, "a", false, false},
	}
	for _, tt := range tests {
		ok, err := tt.any.AllowClientID(ctx, tt.id)
		if ok != tt.ok || (err != nil) != tt.wantErr {
			t.Errorf("%s: got %v, %v", tt.name, ok, err)
		}
	}
}
