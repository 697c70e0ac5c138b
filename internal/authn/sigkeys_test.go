package authn_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
)

// TestSignatureAlgorithms verifies every allowed alg with the standard
// library directly (RFC 7518 §3.3-§3.5, RFC 8037 §3.1): each hash size,
// each curve with its fixed r||s length, and the PSS salt rule (§3.5: the
// salt is as long as the hash; other lengths are refused).
func TestSignatureAlgorithms(t *testing.T) {
	iss := authntest.NewIssuer(t)
	rsaKey, rsaKID := iss.RSA()
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	keys := issuerKeys(t, iss)
	keys[rsaKID] = authntest.JWK(t, &rsaKey.PublicKey, rsaKID, "") // any RSA alg
	keys["p384"] = authntest.JWK(t, &p384.PublicKey, "p384", "")
	keys["p521"] = authntest.JWK(t, &p521.PublicKey, "p521", "")
	v := newVerifier(t, keys, iss, nil)
	mint := func(opts ...authntest.MintOption) string { return iss.Mint(iss.Claims(testAudience), opts...) }
	pss := func(salt int) string {
		tok := mint(authntest.WithAlg("PS256"))
		input := tok[:strings.LastIndexByte(tok, '.')]
		d := crypto.SHA256.New()
		d.Write([]byte(input))
		sig, err := rsa.SignPSS(rand.Reader, rsaKey, crypto.SHA256, d.Sum(nil), &rsa.PSSOptions{SaltLength: salt})
		if err != nil {
			t.Fatal(err)
		}
		return input + "." + authntest.B64(sig)
	}
	tests := []struct {
		name, tok, reason string
	}{
		{"RS256", mint(), ""},
		{"RS384", mint(authntest.WithAlg("RS384")), ""},
		{"RS512", mint(authntest.WithAlg("RS512")), ""},
		{"PS256", mint(authntest.WithAlg("PS256")), ""},
		{"PS384", mint(authntest.WithAlg("PS384")), ""},
		{"PS512", mint(authntest.WithAlg("PS512")), ""},
		{"PS256_salt_32", pss(32), ""},
		{"PS256_salt_0", pss(0), authn.ReasonSignature},
		{"PS256_salt_max", pss(rsa.PSSSaltLengthAuto), authn.ReasonSignature},
		{"ES256", mint(authntest.WithAlg("ES256")), ""},
		{"ES384", mint(authntest.WithAlg("ES384"), authntest.WithKey(p384), authntest.WithKID("p384")), ""},
		{"ES512", mint(authntest.WithAlg("ES512"), authntest.WithKey(p521), authntest.WithKID("p521")), ""},
		{"ES256_with_P384_key", mint(authntest.WithAlg("ES256"), authntest.WithKey(p384), authntest.WithKID("p384")), authn.ReasonAlgorithm},
		{"ES512_with_P256_kid", mint(authntest.WithAlg("ES512"), authntest.WithKey(p521), authntest.WithKID(iss.ECKID)), authn.ReasonAlgorithm},
		{"RS384_signed_as_RS256", relabel(t, mint(), "RS384"), authn.ReasonSignature},
		{"EdDSA", mint(authntest.WithAlg("EdDSA")), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tt.tok)
			if got := authn.FailureReason(err); got != tt.reason {
				t.Fatalf("FailureReason = %q, want %q (%v)", got, tt.reason, err)
			}
		})
	}
}

// relabel swaps the header of tok for one naming alg, keeping the
// signature.
func relabel(t *testing.T, tok, alg string) string {
	t.Helper()
	_, kid, err := authn.NewHeader(segment(tok, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	return authntest.B64([]byte(`{"alg":"`+alg+`","kid":"`+kid+`"}`)) + tok[strings.IndexByte(tok, '.'):]
}

// TestVerifyCacheHitDoesNotAllocate checks that a repeated token costs no
// allocation: hashed in place, looked up, client id re-checked.
func TestVerifyCacheHitDoesNotAllocate(t *testing.T) {
	iss := authntest.NewIssuer(t)
	v := newVerifier(t, issuerKeys(t, iss), iss, func(p *authn.Policy) {
		p.ClientIDs = authn.StaticClientIDs{authntest.ClientID}
	})
	tok := iss.Mint(iss.Claims(testAudience))
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("a cache hit allocates %v times", n)
	}
	if s := v.CacheStats(); s.Hits < 100 || s.Misses != 1 {
		t.Fatalf("stats %+v", s)
	}
}
