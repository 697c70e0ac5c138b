//go:build unix

package authn_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
)

// How cost grows with the verifier's inputs (issue 11): distinct tokens
// seen by one Verifier (its verified-token cache holds at most 10,000) and
// keys in the JWKS. Memory is the live heap a configuration adds, measured
// with runtime.GC and runtime.ReadMemStats around its setup ("heap-B").

// scaleTokenCounts are the distinct-token sizes: below, at and above the
// cache's bound (10,000 entries).
var scaleTokenCounts = []int{1_000, 10_000, 20_000, 100_000}

// scale holds what the cache curve builds once per process: EdDSA tokens
// (signing and verifying Ed25519 is ~30× cheaper than RS256, and what is
// cached does not depend on the alg), and one filled Verifier per size.
var scale struct {
	mu    sync.Mutex
	iss   *authntest.Issuer
	keys  authn.KeyLookup
	now   time.Time
	toks  []string
	fills map[int]*cacheFill
}

// cacheFill is a Verifier that verified n distinct tokens, the heap it
// holds and what filling it cost per token.
type cacheFill struct {
	v         *authn.Verifier
	last      string
	heap      float64
	fillNanos float64
}

// scaleTokens returns n distinct EdDSA tokens, minting the missing ones on
// every CPU.
func scaleTokens(b *testing.B, n int) []string {
	if scale.iss == nil {
		scale.iss = authntest.NewIssuer(b)
		scale.keys = issuerKeys(b, scale.iss)
		scale.fills = map[int]*cacheFill{}
	}
	if have := len(scale.toks); have < n {
		more := make([]string, n-have)
		workers := runtime.GOMAXPROCS(0)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < len(more); i += workers {
					more[i] = scale.iss.Mint(scale.iss.Claims(testAudience), authntest.WithAlg("EdDSA"))
				}
			})
		}
		wg.Wait()
		scale.toks = append(scale.toks, more...)
		// The verifiers' frozen clock: after every token's iat and nbf
		// (minting 100k tokens may take longer than the leeway).
		scale.now = time.Now()
	}
	return scale.toks[:n]
}

// scaleFill returns a Verifier that has verified n distinct tokens, in
// order, on a frozen clock (no entry expires, so only the size bound
// evicts), building it once per process.
func scaleFill(b *testing.B, n int) *cacheFill {
	scale.mu.Lock()
	defer scale.mu.Unlock()
	toks := scaleTokens(b, n)
	if f := scale.fills[n]; f != nil {
		return f
	}
	now := scale.now
	ctx := context.Background()
	before := testkit.HeapInUse()
	v := newVerifier(b, scale.keys, scale.iss, func(p *authn.Policy) { p.Now = func() time.Time { return now } })
	start := time.Now()
	for _, tok := range toks {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	after := testkit.HeapInUse()
	f := &cacheFill{v: v, last: toks[n-1], heap: float64(after) - float64(before),
		fillNanos: float64(elapsed.Nanoseconds()) / float64(n)}
	scale.fills[n] = f
	return f
}

// BenchmarkScaleTokenCache: a Verifier that has seen N distinct valid
// tokens. ns/op is a cached token's Verify (the last one seen, a hit);
// heap-B is what the Verifier holds after the N first verifications (it
// must stop growing at the cache's bound); fill-ns/token is the mean cost
// of those first-seen verifications, eviction included.
func BenchmarkScaleTokenCache(b *testing.B) {
	for _, n := range scaleTokenCounts {
		b.Run(fmt.Sprintf("distinct=%d", n), func(b *testing.B) {
			f := scaleFill(b, n)
			ctx := context.Background()
			misses := f.v.CacheStats().Misses
			b.ReportAllocs()
			cpu := testkit.ReportCPU(b)
			for b.Loop() {
				if _, err := f.v.Verify(ctx, f.last); err != nil {
					b.Fatal(err)
				}
			}
			cpu()
			if got := f.v.CacheStats().Misses; got != misses {
				b.Fatalf("the last token missed the cache %d times", got-misses)
			}
			b.ReportMetric(f.heap, "heap-B")
			b.ReportMetric(f.fillNanos, "fill-ns/token")
		})
	}
}

// scaleJWKS publishes n keys at iss, the signing RSA key last: n-1 filler
// RSA keys (the issuer's unpublished Foreign public key under other kids:
// each is parsed and stored like a distinct key) then the real one.
func scaleJWKS(b *testing.B, iss *authntest.Issuer, n int) {
	rsaKey, rsaKID := iss.RSA()
	keys := make([]jwk.Key, 0, n)
	for i := range n - 1 {
		keys = append(keys, authntest.JWK(b, &iss.Foreign.PublicKey, fmt.Sprintf("filler-%d", i), "RS256"))
	}
	keys = append(keys, authntest.JWK(b, &rsaKey.PublicKey, rsaKID, "RS256"))
	iss.SetJWKS(authntest.JWKS(b, keys...))
}

// scaleKeyCounts are the JWKS sizes (500 to show the slope).
var scaleKeyCounts = []int{1, 50, 500}

// BenchmarkScaleJWKSKeys: a real KeySet loaded with N keys, the token's
// kid being the last. ns/op is a full RS256 verification (cache off);
// heap-B is what the loaded KeySet holds.
func BenchmarkScaleJWKSKeys(b *testing.B) {
	iss := authntest.NewIssuer(b)
	for _, n := range scaleKeyCounts {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			scaleJWKS(b, iss, n)
			startKeySet(b, iss, nil) // warm up: the measured load reuses its connection
			before := testkit.HeapInUse()
			ks := startKeySet(b, iss, nil)
			heap := float64(testkit.HeapInUse()) - float64(before)
			if ks.Len() != n {
				b.Fatalf("key set holds %d keys, want %d", ks.Len(), n)
			}
			v := newVerifier(b, ks, iss, func(p *authn.Policy) { p.CacheTTL = -1 })
			tok := iss.Mint(iss.Claims(testAudience))
			ctx := context.Background()
			b.ReportAllocs()
			cpu := testkit.ReportCPU(b)
			for b.Loop() {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
			cpu()
			b.ReportMetric(heap, "heap-B")
			runtime.KeepAlive(ks)
		})
	}
}

// BenchmarkScaleJWKSLoad: a JWKS of N keys fetched and parsed by a new
// KeySet (what a refresh costs; discovery skipped), over loopback HTTP.
func BenchmarkScaleJWKSLoad(b *testing.B) {
	iss := authntest.NewIssuer(b)
	for _, n := range scaleKeyCounts {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			scaleJWKS(b, iss, n)
			b.ReportAllocs()
			cpu := testkit.ReportCPU(b)
			for b.Loop() {
				ks, err := authn.NewKeySet(authn.KeySetOptions{Issuer: iss.URL, JWKSURI: iss.JWKSURI()})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				if err := ks.Start(ctx); err != nil {
					b.Fatal(err)
				}
				cancel()
			}
			cpu()
		})
	}
}
