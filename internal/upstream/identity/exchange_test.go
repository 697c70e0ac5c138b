package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/tokenexchange"
	"github.com/mcp-gateway/mcp-gateway/pkg/mcpidentity"
)

// gwAudience is the gateway's resource, the aud of the clients' tokens.
const gwAudience = "https://gw.example/mcp"

// fakeExchanger records the subject tokens it is asked to exchange and
// issues "exchanged-N" tokens valid for an hour on its clock, or fails.
type fakeExchanger struct {
	now func() time.Time
	err error

	mu       sync.Mutex
	subjects []string
}

func (f *fakeExchanger) Exchange(_ context.Context, subject string) (*tokenexchange.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subjects = append(f.subjects, subject)
	if f.err != nil {
		return nil, f.err
	}
	return &tokenexchange.Token{AccessToken: fmt.Sprintf("exchanged-%d", len(f.subjects)), Expiry: f.now().Add(time.Hour)}, nil
}

func (f *fakeExchanger) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.subjects...)
}

// testIdP mints client tokens and verifies them, as the gateway does, into
// principals that carry their access token.
type testIdP struct {
	iss *authntest.Issuer
	v   *authn.Verifier
}

func newTestIdP(t testing.TB) *testIdP {
	t.Helper()
	iss := authntest.NewIssuer(t)
	keys, err := authn.NewKeySet(authn.KeySetOptions{Issuer: iss.URL})
	if err != nil {
		t.Fatal(err)
	}
	profile, _ := idp.Lookup("generic")
	v, err := authn.NewVerifier(keys, authn.Policy{Issuer: iss.URL, Audiences: []string{gwAudience}, Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	return &testIdP{iss: iss, v: v}
}

// verified mints a token with the default claims changed by set, verifies
// it and returns the principal and the raw token.
func (d *testIdP) verified(t testing.TB, set map[string]any) (*authn.Principal, string) {
	t.Helper()
	claims := d.iss.Claims(gwAudience)
	for k, v := range set {
		claims[k] = v
	}
	raw := d.iss.Mint(claims)
	p, err := d.v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.AccessToken() != raw {
		t.Fatal("verified principal does not carry its access token")
	}
	return p, raw
}

func newTestExchange(now func() time.Time) (*Exchange, *fakeExchanger) {
	if now == nil {
		now = time.Now
	}
	f := &fakeExchanger{now: now}
	return NewExchange(f, tokenexchange.NewCache(0, now)), f
}

func TestExchangeApply(t *testing.T) {
	p, raw := newTestIdP(t).verified(t, nil)
	x, f := newTestExchange(nil)
	h := http.Header{
		"Authorization":         {"Bearer client-token"},
		"Mcp-Gateway-Subject":   {"admin"},
		"mcp-gateway-scopes":    {"admin"},
		"MCP-GATEWAY-SIGNATURE": {"v1=forged"},
		"Mcp-Gateway-Identity":  {"a.b.c"},
		"Mcp-Session-Id":        {"s1"},
		"Accept":                {"application/json"},
	}
	if err := x.Apply(context.Background(), h, p); err != nil {
		t.Fatal(err)
	}
	if got := h.Values("Authorization"); len(got) != 1 || got[0] != "Bearer exchanged-1" {
		t.Errorf("Authorization = %q, want the exchanged token only", got)
	}
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "mcp-gateway-") {
			t.Errorf("%s not stripped", k)
		}
	}
	if h.Get("Mcp-Session-Id") != "s1" || h.Get("Accept") != "application/json" {
		t.Errorf("other headers changed: %v", h)
	}
	if got := f.calls(); len(got) != 1 || got[0] != raw {
		t.Errorf("exchanged %d tokens, want the client's one", len(got))
	}
}

func TestExchangeRefusesWithoutToken(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    *authn.Principal
		want error
	}{
		{"no principal", nil, ErrNoPrincipal},
		{"principal not made by the verifier", principal(time.Now().Add(time.Hour)), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x, f := newTestExchange(nil)
			h := http.Header{"Mcp-Gateway-Subject": {"admin"}}
			err := x.Apply(context.Background(), h, tt.p)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Apply = %v, want %v", err, tt.want)
			}
			if len(h) != 0 {
				t.Errorf("headers left: %v", h)
			}
			if n := len(f.calls()); n != 0 {
				t.Errorf("%d exchanges", n)
			}
		})
	}
}

func TestExchangeFailure(t *testing.T) {
	p, raw := newTestIdP(t).verified(t, nil)
	x, f := newTestExchange(nil)
	refusal := &tokenexchange.Error{Status: 400, Code: "invalid_grant", Suberror: "consent_required"}
	f.err = fmt.Errorf("token exchange at https://idp.example/token: %w", refusal)
	for i := range 2 {
		h := http.Header{"Authorization": {"Bearer " + raw}}
		err := x.Apply(context.Background(), h, p)
		if !errors.Is(err, ErrExchange) {
			t.Fatalf("Apply = %v, want ErrExchange", err)
		}
		var e *tokenexchange.Error
		if !errors.As(err, &e) || e != refusal {
			t.Fatalf("Apply = %v, want the *tokenexchange.Error within", err)
		}
		if strings.Contains(err.Error(), raw) {
			t.Error("error text shows the client's token")
		}
		if got := f.calls(); len(got) != i+1 {
			t.Fatalf("%d exchanges after %d failures: a failure was cached", len(got), i+1)
		}
	}
}

// TestExchangeCacheKey: a cached token serves only the issuer, subject,
// client and scopes it was issued for.
func TestExchangeCacheKey(t *testing.T) {
	a, b := newTestIdP(t), newTestIdP(t)
	base := map[string]any{"scope": "mcp:read mcp:write"}
	for _, tt := range []struct {
		name   string
		other  *testIdP
		set    map[string]any
		shared bool
	}{
		{"other subject", a, map[string]any{"sub": "user-2"}, false},
		{"other client", a, map[string]any{"client_id": "other-client"}, false},
		{"other issuer", b, nil, false},
		{"fewer scopes", a, map[string]any{"scope": "mcp:read"}, false},
		{"more scopes", a, map[string]any{"scope": "mcp:read mcp:write admin"}, false},
		{"subject and client swapped", a, map[string]any{"sub": authntest.ClientID, "client_id": authntest.Subject}, false},
		{"same user, a new token", a, nil, true},
		{"same user, scopes in another order", a, map[string]any{"scope": "mcp:write mcp:read"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x, f := newTestExchange(nil)
			p1, raw1 := a.verified(t, base)
			set := map[string]any{}
			for k, v := range base {
				set[k] = v
			}
			for k, v := range tt.set {
				set[k] = v
			}
			p2, raw2 := tt.other.verified(t, set)
			apply := func(p *authn.Principal) string {
				h := http.Header{}
				if err := x.Apply(context.Background(), h, p); err != nil {
					t.Fatal(err)
				}
				return h.Get("Authorization")
			}
			first, second := apply(p1), apply(p2)
			if again := apply(p1); again != first {
				t.Errorf("first principal again: %s, want its cached %s", again, first)
			}
			if again := apply(p2); again != second {
				t.Errorf("second principal again: %s, want its cached %s", again, second)
			}
			calls := f.calls()
			if tt.shared {
				if first != second || len(calls) != 1 {
					t.Errorf("%d exchanges (%s, %s), want one shared", len(calls), first, second)
				}
				return
			}
			if first == second {
				t.Errorf("both principals got %s", first)
			}
			if len(calls) != 2 || calls[0] != raw1 || calls[1] != raw2 {
				t.Errorf("%d exchanges, want one per principal with its own token", len(calls))
			}
		})
	}
}

// TestExchangeKeyUnambiguous: no two different tuples make one key.
func TestExchangeKeyUnambiguous(t *testing.T) {
	ps := []*authn.Principal{
		{Issuer: "i", Subject: "ab", ClientID: "c"},
		{Issuer: "i", Subject: "a", ClientID: "bc"},
		{Issuer: "i", Subject: "a", ClientID: "b", Scopes: []string{"c"}},
		{Issuer: "i", Subject: "a", ClientID: "b", Scopes: []string{"c d"}},
		{Issuer: "i", Subject: "a", ClientID: "b", Scopes: []string{"c", "d"}},
		{Issuer: "i", Subject: "a:b", ClientID: "c"},
		{Issuer: "i", Subject: "a", ClientID: "b:c"},
		{Issuer: "i", Subject: "1:a", ClientID: ""},
		{Issuer: "i", Subject: "", ClientID: "1:a"},
		{Issuer: "i1:", Subject: "a"},
		{Issuer: "", Subject: "i", ClientID: "a"},
	}
	seen := map[string]*authn.Principal{}
	for _, p := range ps {
		k := exchangeKey(p)
		if q, dup := seen[k]; dup {
			t.Errorf("%v and %v share key %q", q, p, k)
		}
		seen[k] = p
	}
}

// TestExchangeClientTokenExpiry: an exchanged token outliving the client's
// token is not used past the client token's expiry.
func TestExchangeClientTokenExpiry(t *testing.T) {
	p, _ := newTestIdP(t).verified(t, map[string]any{"exp": time.Now().Add(5 * time.Minute).Unix()})
	clock := testkit.NewClock(time.Now())
	x, f := newTestExchange(clock.Now)
	apply := func() string {
		h := http.Header{}
		if err := x.Apply(context.Background(), h, p); err != nil {
			t.Fatal(err)
		}
		return h.Get("Authorization")
	}
	first := apply()
	clock.Set(p.Expiry.Add(-time.Second))
	if got := apply(); got != first {
		t.Errorf("before the client token expires: %s, want the cached %s", got, first)
	}
	clock.Set(p.Expiry)
	if got := apply(); got == first {
		t.Errorf("after the client token expired: still %s", got)
	}
	if n := len(f.calls()); n != 2 {
		t.Errorf("%d exchanges, want 2", n)
	}
}

// BenchmarkExchangeCached is Apply on a cache hit: the cost every request
// of a route with identity exchange pays once its token is cached, side by
// side with signing identity headers (identity hmac), the other way an
// upstream learns who calls. Compare the two sub-benchmarks of one run.
func BenchmarkExchangeCached(b *testing.B) {
	p, _ := newTestIdP(b).verified(b, nil)
	ctx := context.Background()
	b.Run("exchange_cached", func(b *testing.B) {
		x, f := newTestExchange(nil)
		h := http.Header{}
		if err := x.Apply(ctx, h, p); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := x.Apply(ctx, h, p); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if n := len(f.calls()); n != 1 {
			b.Fatalf("%d exchanges", n)
		}
	})
	b.Run("hmac_headers", func(b *testing.B) {
		signer, err := mcpidentity.NewHMACSigner([]byte(strings.Repeat("k", 32)), "https://upstream.example/mcp")
		if err != nil {
			b.Fatal(err)
		}
		inj := NewSigned(signer)
		h := http.Header{}
		b.ReportAllocs()
		for b.Loop() {
			if err := inj.Apply(ctx, h, p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
