package authn_test

import (
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// TestKeySetFetchResults: the accessors behind mcpgw_jwks_fetches_total,
// mcpgw_jwks_keys and mcpgw_jwks_age_seconds count each refresh by
// outcome, report the cached keys, and keep the time of the last
// successful load while the issuer is down.
func TestKeySetFetchResults(t *testing.T) {
	iss := authntest.NewIssuer(t)
	clock := testkit.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	ks, err := authn.NewKeySet(authn.KeySetOptions{Issuer: iss.URL, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, wantOK, wantFailed int64, wantLen int, wantLoaded time.Time) {
		t.Helper()
		ok, failed := ks.FetchResults()
		if ok != wantOK || failed != wantFailed || ks.Len() != wantLen || !ks.LoadedAt().Equal(wantLoaded) {
			t.Fatalf("%s: FetchResults = %d, %d; Len = %d; LoadedAt = %v; want %d, %d, %d, %v",
				step, ok, failed, ks.Len(), ks.LoadedAt(), wantOK, wantFailed, wantLen, wantLoaded)
		}
	}
	check("before start", 0, 0, 0, time.Time{})

	// Not started: every refresh below is an on-demand one, paced by clock.
	ctx := ctxT(t)
	iss.SetDown(true) // discovery fails: a failed refresh
	if _, err := ks.LookupKey(ctx, iss.ECKID); err == nil {
		t.Fatal("key found with the issuer down")
	}
	check("discovery down", 0, 1, 0, time.Time{})

	iss.SetDown(false)
	clock.Advance(time.Minute) // past MinRefreshInterval
	loaded := clock.Now()
	if _, err := ks.LookupKey(ctx, iss.ECKID); err != nil { // on-demand load
		t.Fatal(err)
	}
	check("loaded", 1, 1, 3, loaded)

	iss.SetDown(true)
	clock.Advance(time.Minute) // past MinRefreshInterval: an unknown kid refetches
	if _, err := ks.LookupKey(ctx, "unknown"); err == nil {
		t.Fatal("unknown kid accepted")
	}
	check("jwks down", 1, 2, 3, loaded)

	if _, err := ks.LookupKey(ctx, "unknown-again"); err == nil { // rate-limited: not a fetch
		t.Fatal("unknown kid accepted")
	}
	check("rate-limited", 1, 2, 3, loaded)
}

// TestVerifierCacheStats: a first verification is a miss, a repeat a
// hit, an oversized token neither; a disabled cache counts nothing.
func TestVerifierCacheStats(t *testing.T) {
	iss := authntest.NewIssuer(t)
	tok := iss.Mint(iss.Claims(testAudience))
	v := newVerifier(t, issuerKeys(t, iss), iss, nil)
	for range 3 {
		if _, err := v.Verify(ctxT(t), tok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Verify(ctxT(t), string(make([]byte, authn.DefaultMaxTokenBytes+1))); err == nil {
		t.Fatal("oversized token accepted")
	}
	if got, want := v.CacheStats(), (authn.CacheStats{Hits: 2, Misses: 1}); got != want {
		t.Fatalf("CacheStats = %+v, want %+v", got, want)
	}

	off := newVerifier(t, issuerKeys(t, iss), iss, func(p *authn.Policy) { p.CacheTTL = -1 })
	if _, err := off.Verify(ctxT(t), tok); err != nil {
		t.Fatal(err)
	}
	if got := off.CacheStats(); got != (authn.CacheStats{}) {
		t.Fatalf("disabled cache: CacheStats = %+v", got)
	}
}
