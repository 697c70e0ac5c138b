package authn_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
)

// benchState is shared by the benchmarks: one issuer and a growing pool of
// distinct tokens (distinct jti), so later b.N rounds only mint the delta.
// Each round builds a fresh Verifier, so every pooled token is first seen.
var bench struct {
	once sync.Once
	iss  *authntest.Issuer
	keys authn.KeyLookup
	toks []string
}

func benchSetup(b *testing.B) {
	bench.once.Do(func() {
		bench.iss = authntest.NewIssuer(b)
		bench.keys = startKeySet(b, bench.iss, nil)
	})
}

func benchTokens(b *testing.B, n int) []string {
	for len(bench.toks) < n {
		bench.toks = append(bench.toks, bench.iss.Mint(bench.iss.Claims(testAudience)))
	}
	return bench.toks[:n]
}

// BenchmarkVerify measures a full verification with keys cached (real
// KeySet, RS256, 2048-bit key).
func BenchmarkVerify(b *testing.B) {
	benchSetup(b)
	b.Run("first_seen", func(b *testing.B) {
		toks := benchTokens(b, b.N)
		v := newVerifier(b, bench.keys, bench.iss, nil)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := v.Verify(ctx, toks[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("same_token", func(b *testing.B) {
		tok := benchTokens(b, 1)[0]
		v := newVerifier(b, bench.keys, bench.iss, nil)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRSAVerifyPKCS1v15 is the floor: the bare RSA verification of a
// SHA-256 digest with the same 2048-bit key.
func BenchmarkRSAVerifyPKCS1v15(b *testing.B) {
	benchSetup(b)
	key, _ := bench.iss.RSA()
	digest := sha256.Sum256([]byte("header.payload"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyVsRSA interleaves, in every iteration, a first-seen
// Verify and the bare rsa.VerifyPKCS1v15 of BenchmarkRSAVerifyPKCS1v15,
// timing each, so that load on a shared machine falls on both alike. It
// reports the median of each and verify/rsa, the ratio of the medians: the
// cost of verification over the RSA floor.
func BenchmarkVerifyVsRSA(b *testing.B) {
	benchSetup(b)
	toks := benchTokens(b, b.N)
	v := newVerifier(b, bench.keys, bench.iss, nil)
	key, _ := bench.iss.RSA()
	digest := sha256.Sum256([]byte("header.payload"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	tv, tr := make([]time.Duration, b.N), make([]time.Duration, b.N)
	rsaOnce := func(i int) {
		t0 := time.Now()
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
			b.Fatal(err)
		}
		tr[i] = time.Since(t0)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 1 {
			rsaOnce(i)
		}
		t0 := time.Now()
		if _, err := v.Verify(ctx, toks[i]); err != nil {
			b.Fatal(err)
		}
		tv[i] = time.Since(t0)
		if i%2 == 0 {
			rsaOnce(i)
		}
	}
	b.StopTimer()
	mv, mr := median(tv), median(tr)
	b.ReportMetric(float64(mv.Nanoseconds()), "verify-ns/op")
	b.ReportMetric(float64(mr.Nanoseconds()), "rsa-ns/op")
	b.ReportMetric(float64(mv)/float64(mr), "verify/rsa")
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}
