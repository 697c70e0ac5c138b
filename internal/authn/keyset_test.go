package authn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

func TestNewKeySetValidation(t *testing.T) {
	tests := []struct {
		name string
		opts authn.KeySetOptions
		ok   bool
	}{
		{"ok", authn.KeySetOptions{Issuer: "https://idp.example"}, true},
		{"empty_issuer", authn.KeySetOptions{}, false},
		{"relative_issuer", authn.KeySetOptions{Issuer: "idp.example"}, false},
		{"ftp_issuer", authn.KeySetOptions{Issuer: "ftp://idp.example"}, false},
		{"http_jwks_for_https_issuer", authn.KeySetOptions{Issuer: "https://idp.example", JWKSURI: "http://idp.example/jwks"}, false},
		{"relative_jwks", authn.KeySetOptions{Issuer: "https://idp.example", JWKSURI: "/jwks"}, false},
		{"negative_interval", authn.KeySetOptions{Issuer: "https://idp.example", MinRefreshInterval: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := authn.NewKeySet(tt.opts)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestNewKeySetDoesNotFetch(t *testing.T) {
	iss := authntest.NewIssuer(t)
	ks, err := authn.NewKeySet(authn.KeySetOptions{Issuer: iss.URL})
	if err != nil {
		t.Fatal(err)
	}
	if iss.JWKSHits() != 0 || ks.Ready() || ks.JWKSURI() != "" {
		t.Fatal("NewKeySet touched the network")
	}
}

// metadataServer serves only the document at docPath, claiming issuer.
func metadataServer(t *testing.T, docPath string, issuer func(base string) string, jwksURI string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != docPath {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer(srv.URL), "jwks_uri": jwksURI})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDiscovery(t *testing.T) {
	iss := authntest.NewIssuer(t)
	same := func(base string) string { return base + "/tenant1" }
	rfc8414 := metadataServer(t, "/.well-known/oauth-authorization-server/tenant1", same, iss.JWKSURI())
	oidcPath := metadataServer(t, "/tenant1/.well-known/openid-configuration", same, iss.JWKSURI())
	mismatch := metadataServer(t, "/tenant1/.well-known/openid-configuration", func(b string) string { return b + "/tenant1/" }, iss.JWKSURI())
	noJWKS := metadataServer(t, "/tenant1/.well-known/openid-configuration", same, "")
	custom := metadataServer(t, "/meta.json", func(string) string { return iss.URL }, iss.JWKSURI())
	tests := []struct {
		name   string
		opts   authn.KeySetOptions
		wantOK bool
	}{
		{"oidc_root", authn.KeySetOptions{Issuer: iss.URL}, true},
		{"oidc_path_issuer", authn.KeySetOptions{Issuer: oidcPath.URL + "/tenant1"}, true},
		{"rfc8414_path_inserted", authn.KeySetOptions{Issuer: rfc8414.URL + "/tenant1"}, true},
		{"issuer_mismatch", authn.KeySetOptions{Issuer: mismatch.URL + "/tenant1"}, false},
		{"no_jwks_uri", authn.KeySetOptions{Issuer: noJWKS.URL + "/tenant1"}, false},
		{"discovery_url", authn.KeySetOptions{Issuer: iss.URL, DiscoveryURL: custom.URL + "/meta.json"}, true},
		{"discovery_url_wrong_issuer", authn.KeySetOptions{Issuer: iss.URL + "/x", DiscoveryURL: custom.URL + "/meta.json"}, false},
		{"metadata_too_large", authn.KeySetOptions{Issuer: iss.URL, MaxResponseBytes: 50}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := authn.NewKeySet(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err = ks.Start(ctx)
			if (err == nil) != tt.wantOK {
				t.Fatalf("Start err = %v, wantOK %v", err, tt.wantOK)
			}
			if tt.wantOK && (ks.JWKSURI() != iss.JWKSURI() || !ks.Ready()) {
				t.Fatalf("JWKSURI %q ready %v", ks.JWKSURI(), ks.Ready())
			}
		})
	}
}

func TestJWKSURIOverridesDiscovery(t *testing.T) {
	iss := authntest.NewIssuer(t)
	iss.SetDown(true) // discovery would fail
	ks, err := authn.NewKeySet(authn.KeySetOptions{Issuer: "http://not-reachable.invalid", JWKSURI: iss.JWKSURI()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	iss.SetDown(false)
	if err := ks.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if ks.JWKSURI() != iss.JWKSURI() || ks.Fetches() != 1 {
		t.Fatalf("uri %q fetches %d", ks.JWKSURI(), ks.Fetches())
	}
}

func TestStartTwice(t *testing.T) {
	iss := authntest.NewIssuer(t)
	ks := startKeySet(t, iss, nil)
	if err := ks.Start(context.Background()); err == nil {
		t.Fatal("second Start succeeded")
	}
}

func TestJWKSFiltering(t *testing.T) {
	iss := authntest.NewIssuer(t)
	rsaKey, rsaKID := iss.RSA()
	good := authntest.JWK(t, &rsaKey.PublicKey, rsaKID, "RS256")
	oct, _ := jwk.FromRaw([]byte("0123456789abcdef0123456789abcdef"))
	_ = oct.Set(jwk.KeyIDKey, "oct")
	priv := authntest.JWK(t, iss.Foreign, "priv", "RS256")
	enc := authntest.JWK(t, &iss.Foreign.PublicKey, "enc", "")
	_ = enc.Set(jwk.KeyUsageKey, "enc")
	dupe := authntest.JWK(t, &iss.Foreign.PublicKey, rsaKID, "RS256")
	tests := []struct {
		name    string
		keys    []jwk.Key
		startOK bool
		usable  []string
		skipped []string
	}{
		{"mixed", []jwk.Key{good, oct, priv, enc, dupe}, true, []string{rsaKID}, []string{"oct", "priv", "enc"}},
		{"only_unusable", []jwk.Key{oct, priv, enc}, false, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss.SetJWKS(authntest.JWKS(t, tt.keys...))
			defer iss.SetJWKS(nil)
			ks, _ := authn.NewKeySet(authn.KeySetOptions{Issuer: iss.URL, JWKSURI: iss.JWKSURI()})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if err := ks.Start(ctx); (err == nil) != tt.startOK {
				t.Fatalf("Start err = %v", err)
			}
			for _, kid := range tt.usable {
				k, err := ks.LookupKey(ctx, kid)
				if err != nil {
					t.Fatalf("kid %s: %v", kid, err)
				}
				if kid == rsaKID && !sameRSA(t, k, good) {
					t.Fatal("duplicate kid replaced the first key")
				}
			}
			for _, kid := range tt.skipped {
				if _, err := ks.LookupKey(ctx, kid); !errors.Is(err, authn.ErrInvalidToken) {
					t.Fatalf("kid %s: want ErrInvalidToken, got %v", kid, err)
				}
			}
		})
	}
}

func sameRSA(t *testing.T, a, b jwk.Key) bool {
	ta, _ := a.Thumbprint(0x05) // crypto.SHA256
	tb, _ := b.Thumbprint(0x05)
	return string(ta) == string(tb)
}

func TestJWKSTooLarge(t *testing.T) {
	iss := authntest.NewIssuer(t)
	ks, _ := authn.NewKeySet(authn.KeySetOptions{Issuer: iss.URL, JWKSURI: iss.JWKSURI(), MaxResponseBytes: 100})
	if err := ks.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "size limit") {
		t.Fatalf("want size-limit error, got %v", err)
	}
}

// fakeClock returns a test clock and a KeySetOptions modifier that makes the
// key set pace its refreshes by it, so that no test depends on how fast the
// machine runs.
func fakeClock() (*testkit.Clock, func(*authn.KeySetOptions)) {
	clk := testkit.NewClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	return clk, func(o *authn.KeySetOptions) { o.Now, o.After = clk.Now, clk.After }
}

func TestKeyRotation(t *testing.T) {
	iss := authntest.NewIssuer(t)
	clk, withClock := fakeClock()
	ks := startKeySet(t, iss, func(o *authn.KeySetOptions) {
		withClock(o)
		o.MinRefreshInterval = 10 * time.Second
	})
	v := newVerifier(t, ks, iss, nil)
	uncached := newVerifier(t, ks, iss, func(p *authn.Policy) { p.CacheTTL = -1 })
	oldKey, oldKID := iss.RSA()
	oldTok := iss.Mint(iss.Claims(testAudience))
	for _, v := range []*authn.Verifier{v, uncached} {
		if _, err := v.Verify(ctxT(t), oldTok); err != nil {
			t.Fatal(err)
		}
	}
	if got := ks.Fetches(); got != 1 {
		t.Fatalf("fetches after Start and two known-kid verifications = %d, want 1", got)
	}
	iss.Rotate()
	clk.Advance(10 * time.Second) // MinRefreshInterval has passed: one on-demand refresh allowed
	newTok := iss.Mint(iss.Claims(testAudience))
	if _, err := v.Verify(ctxT(t), newTok); err != nil {
		t.Fatalf("new kid after rotation: %v", err)
	}
	if got := ks.Fetches(); got != 2 {
		t.Fatalf("fetches after the new kid = %d, want 2", got)
	}
	// A token signed by the removed key and never seen before is refused.
	// Its unknown kid finds the refresh rate-limited (the clock has not
	// moved), so it is refused from the refreshed set without a fetch.
	lateTok := iss.Mint(iss.Claims(testAudience), authntest.WithKey(oldKey), authntest.WithKID(oldKID))
	if _, err := v.Verify(ctxT(t), lateTok); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("removed key still accepted: %v", err)
	}
	if _, err := uncached.Verify(ctxT(t), oldTok); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("removed key still accepted without the cache: %v", err)
	}
	// Documented (Policy.CacheTTL): the already-verified token stays
	// accepted until its cache entry lapses.
	if _, err := v.Verify(ctxT(t), oldTok); err != nil {
		t.Fatalf("cached token refused within CacheTTL: %v", err)
	}
	if got := ks.Fetches(); got != 2 {
		t.Fatalf("fetches = %d, want 2 (unknown kids within MinRefreshInterval must not fetch)", got)
	}
}

func TestPeriodicRefresh(t *testing.T) {
	iss := authntest.NewIssuer(t)
	clk, withClock := fakeClock()
	ks := startKeySet(t, iss, func(o *authn.KeySetOptions) {
		withClock(o)
		o.RefreshInterval = 15 * time.Minute
		o.MinRefreshInterval = time.Hour // on-demand refresh impossible
	})
	kid := iss.Rotate()
	if _, err := ks.LookupKey(ctxT(t), kid); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("rotated key found before any refresh: %v", err)
	}
	clk.WaitForWaiters(t, 1) // the background loop waits for RefreshInterval
	clk.Advance(15 * time.Minute)
	clk.WaitForWaiters(t, 1) // the refresh is done and the next one scheduled
	if _, err := ks.LookupKey(ctxT(t), kid); err != nil {
		t.Fatalf("rotated key not picked up by the periodic refresh: %v", err)
	}
	if got := ks.Fetches(); got != 2 {
		t.Fatalf("fetches = %d, want 2 (Start and one periodic refresh)", got)
	}
}

func TestOutage(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(iss *authntest.Issuer)
	}{
		{"status_500", func(iss *authntest.Issuer) { iss.SetDown(true) }},
		{"server_closed", func(iss *authntest.Issuer) { iss.Server.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := authntest.NewIssuer(t)
			clk, withClock := fakeClock()
			ks := startKeySet(t, iss, func(o *authn.KeySetOptions) {
				withClock(o)
				o.MinRefreshInterval = 10 * time.Second
				o.RefreshInterval = 15 * time.Minute
			})
			v := newVerifier(t, ks, iss, nil)
			tok := iss.Mint(iss.Claims(testAudience))
			tt.break_(iss)
			// The periodic refresh fails, then the first retry (after
			// MinRefreshInterval) fails too; the next retry backs off to 2x.
			for _, step := range []time.Duration{15 * time.Minute, 10 * time.Second} {
				clk.WaitForWaiters(t, 1)
				clk.Advance(step)
			}
			clk.WaitForWaiters(t, 1)
			if got := ks.Fetches(); got != 3 {
				t.Fatalf("fetches = %d, want 3 (Start, periodic, one retry)", got)
			}
			if _, err := v.Verify(ctxT(t), tok); err != nil {
				t.Fatalf("cached key not served during outage: %v", err)
			}
			// MinRefreshInterval later (the backed-off retry not yet due), an
			// unknown kid triggers one on-demand fetch, which fails: that is
			// an invalid token, not unavailable keys.
			clk.Advance(10 * time.Second)
			_, err := v.Verify(ctxT(t), iss.Mint(iss.Claims(testAudience), authntest.WithKID("new")))
			if !errors.Is(err, authn.ErrInvalidToken) || errors.Is(err, authn.ErrKeysUnavailable) {
				t.Fatalf("unknown kid during outage: %v", err)
			}
			if got := ks.Fetches(); got != 4 {
				t.Fatalf("fetches = %d, want 4 (the on-demand attempt)", got)
			}
			if !ks.Ready() {
				t.Fatal("keys dropped during outage")
			}
		})
	}
}

func TestNeverLoaded(t *testing.T) {
	iss := authntest.NewIssuer(t)
	iss.SetDown(true)
	ks, _ := authn.NewKeySet(authn.KeySetOptions{Issuer: iss.URL, MinRefreshInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := ks.Start(ctx); err == nil {
		t.Fatal("Start succeeded against a down issuer")
	}
	v := newVerifier(t, ks, iss, nil)
	_, err := v.Verify(ctx, iss.Mint(iss.Claims(testAudience)))
	if !errors.Is(err, authn.ErrKeysUnavailable) || errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("want ErrKeysUnavailable only, got %v", err)
	}
	if ks.Ready() {
		t.Fatal("Ready with no keys")
	}
}

func TestLazyLoadWithoutStart(t *testing.T) {
	iss := authntest.NewIssuer(t)
	ks, _ := authn.NewKeySet(authn.KeySetOptions{Issuer: iss.URL})
	v := newVerifier(t, ks, iss, nil)
	if _, err := v.Verify(ctxT(t), iss.Mint(iss.Claims(testAudience))); err != nil {
		t.Fatal(err)
	}
}

// TestUnknownKidFlood: 500 concurrent verifications with random kids cause
// at most one JWKS fetch per MinRefreshInterval.
func TestUnknownKidFlood(t *testing.T) {
	tests := []struct {
		name string
		// advance moves the key set's clock after Start, before the flood,
		// one step at a time, each once the background loop waits on it.
		advance     []time.Duration
		down        bool
		wantFetches int64 // including Start's and the background loop's
		wantErr     error
	}{
		{"within_interval", nil, false, 1, authn.ErrInvalidToken},
		{"interval_elapsed", []time.Duration{1100 * time.Millisecond}, false, 2, authn.ErrInvalidToken},
		// Start fails, so the loop retries after MinRefreshInterval (the
		// first step); one more second makes room for one on-demand fetch
		// before the loop's next, backed-off (2s) retry is due.
		{"never_loaded_idp_down", []time.Duration{1100 * time.Millisecond, time.Second}, true, 3, authn.ErrKeysUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := authntest.NewIssuer(t)
			iss.SetDown(tt.down)
			toks := make([]string, 500) // minted first: signing is slow
			for i := range toks {
				toks[i] = iss.Mint(iss.Claims(testAudience), authntest.WithKID(fmt.Sprintf("random-%d", i)))
			}
			clk := testkit.NewClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
			ks, _ := authn.NewKeySet(authn.KeySetOptions{Issuer: iss.URL, JWKSURI: iss.JWKSURI(),
				MinRefreshInterval: time.Second, Now: clk.Now, After: clk.After})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_ = ks.Start(ctx)
			for _, d := range tt.advance {
				clk.WaitForWaiters(t, 1)
				clk.Advance(d)
			}
			clk.WaitForWaiters(t, 1) // any refresh the steps set off is over
			v := newVerifier(t, ks, iss, nil)
			var wg sync.WaitGroup
			errs := make(chan error, len(toks))
			for _, tok := range toks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := v.Verify(ctx, tok)
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("want %v, got %v", tt.wantErr, err)
				}
			}
			if got := ks.Fetches(); got != tt.wantFetches {
				t.Fatalf("JWKS fetches = %d, want %d", got, tt.wantFetches)
			}
		})
	}
}

// TestJWKSURIScheme: an https issuer's keys must come over https, except
// from a loopback host (an emulator such as moto serving a Cognito pool).
func TestJWKSURIScheme(t *testing.T) {
	for _, c := range []struct {
		uri string
		ok  bool
	}{
		{"https://keys.example/jwks", true},
		{"http://127.0.0.1:5000/pool/.well-known/jwks.json", true},
		{"http://localhost:5000/jwks", true},
		{"http://keys.example/jwks", false},
		{"http://127.0.0.1.nip.io/jwks", false},
		{"ftp://keys.example/jwks", false},
	} {
		_, err := authn.NewKeySet(authn.KeySetOptions{Issuer: "https://cognito-idp.us-east-1.amazonaws.com/p", JWKSURI: c.uri})
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok=%v", c.uri, err, c.ok)
		}
	}
}
