package authn_test

import (
	"context"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
)

const testAudience = "https://mcp.example.com/mcp"

// startKeySet starts a KeySet against iss and stops it at cleanup.
func startKeySet(t testing.TB, iss *authntest.Issuer, mod func(*authn.KeySetOptions)) *authn.KeySet {
	t.Helper()
	opts := authn.KeySetOptions{Issuer: iss.URL}
	if mod != nil {
		mod(&opts)
	}
	ks, err := authn.NewKeySet(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := ks.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return ks
}

func profile(t testing.TB, name string) idp.Profile {
	t.Helper()
	p, ok := idp.Lookup(name)
	if !ok {
		t.Fatalf("no profile %q", name)
	}
	return p
}

// newVerifier builds a generic-profile verifier for iss and testAudience.
func newVerifier(t testing.TB, keys authn.KeyLookup, iss *authntest.Issuer, mod func(*authn.Policy)) *authn.Verifier {
	t.Helper()
	p := authn.Policy{Issuer: iss.URL, Audiences: []string{testAudience}, Profile: profile(t, "generic")}
	if mod != nil {
		mod(&p)
	}
	v, err := authn.NewVerifier(keys, p)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// staticKeys is a KeyLookup over fixed keys, for tests that need no HTTP.
type staticKeys map[string]jwk.Key

func (s staticKeys) LookupKey(_ context.Context, kid string) (jwk.Key, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, authn.ErrInvalidToken
}

var _ authn.KeyLookup = staticKeys(nil)

// issuerKeys returns iss's published keys as a staticKeys.
func issuerKeys(t testing.TB, iss *authntest.Issuer) staticKeys {
	t.Helper()
	rsaKey, rsaKID := iss.RSA()
	return staticKeys{
		rsaKID:    authntest.JWK(t, &rsaKey.PublicKey, rsaKID, "RS256"),
		iss.ECKID: authntest.JWK(t, &iss.EC.PublicKey, iss.ECKID, ""),
		iss.EdKID: authntest.JWK(t, iss.Ed.Public(), iss.EdKID, ""),
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
