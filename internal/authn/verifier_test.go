package authn_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
)

func TestNewVerifierValidation(t *testing.T) {
	keys := staticKeys{}
	gen := profile(t, "generic")
	cog := profile(t, "cognito")
	tests := []struct {
		name string
		keys authn.KeyLookup
		p    authn.Policy
		ok   bool
	}{
		{"ok", keys, authn.Policy{Issuer: "https://i", Audiences: []string{"a"}, Profile: gen}, true},
		{"nil_keys", nil, authn.Policy{Issuer: "https://i", Audiences: []string{"a"}, Profile: gen}, false},
		{"no_issuer", keys, authn.Policy{Audiences: []string{"a"}, Profile: gen}, false},
		{"no_profile", keys, authn.Policy{Issuer: "https://i", Audiences: []string{"a"}}, false},
		{"no_audience_generic", keys, authn.Policy{Issuer: "https://i", Profile: gen, ClientIDs: authn.StaticClientIDs{"c"}}, false},
		{"no_audience_cognito_without_allowlist", keys, authn.Policy{Issuer: "https://i", Profile: cog}, false},
		// Audiences are required even where tokens without aud may pass.
		{"no_audience_cognito_with_allowlist", keys, authn.Policy{Issuer: "https://i", Profile: cog, ClientIDs: authn.StaticClientIDs{"c"}}, false},
		{"no_audience_cognito_insecure", keys, authn.Policy{Issuer: "https://i", Profile: cog, ClientIDs: authn.StaticClientIDs{"c"}, InsecureAllowMissingAudience: true}, false},
		{"missing_aud_switch_cognito", keys, authn.Policy{Issuer: "https://i", Audiences: []string{"a"}, Profile: cog, ClientIDs: authn.StaticClientIDs{"c"}, InsecureAllowMissingAudience: true}, true},
		{"missing_aud_switch_without_allowlist", keys, authn.Policy{Issuer: "https://i", Audiences: []string{"a"}, Profile: cog, InsecureAllowMissingAudience: true}, false},
		{"missing_aud_switch_generic", keys, authn.Policy{Issuer: "https://i", Audiences: []string{"a"}, Profile: gen, ClientIDs: authn.StaticClientIDs{"c"}, InsecureAllowMissingAudience: true}, false},
		{"empty_audience", keys, authn.Policy{Issuer: "https://i", Audiences: []string{""}, Profile: gen}, false},
		{"leeway_too_big", keys, authn.Policy{Issuer: "https://i", Audiences: []string{"a"}, Profile: gen, Leeway: 6 * time.Minute}, false},
		{"leeway_negative", keys, authn.Policy{Issuer: "https://i", Audiences: []string{"a"}, Profile: gen, Leeway: -time.Second}, false},
		{"max_token_negative", keys, authn.Policy{Issuer: "https://i", Audiences: []string{"a"}, Profile: gen, MaxTokenBytes: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := authn.NewVerifier(tt.keys, tt.p)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestVerifyAccepts: valid tokens in every supported form are accepted.
func TestVerifyAccepts(t *testing.T) {
	iss := authntest.NewIssuer(t)
	keys := issuerKeys(t, iss)
	now := time.Now()
	set := func(k string, v any) func(map[string]any) { return func(c map[string]any) { c[k] = v } }
	tests := []struct {
		name string
		mod  func(map[string]any)
		opts []authntest.MintOption
	}{
		{"rs256", nil, nil},
		{"es256", nil, []authntest.MintOption{authntest.WithAlg("ES256")}},
		{"eddsa", nil, []authntest.MintOption{authntest.WithAlg("EdDSA")}},
		{"typ_absent", nil, []authntest.MintOption{authntest.WithoutHeader("typ")}},
		{"typ_JWT", nil, []authntest.MintOption{authntest.WithHeader("typ", "JWT")}},
		{"typ_application_at_jwt", nil, []authntest.MintOption{authntest.WithHeader("typ", "application/AT+JWT")}},
		{"jku_x5u_ignored", nil, []authntest.MintOption{authntest.WithHeader("jku", iss.AttackerURL()), authntest.WithHeader("x5u", iss.AttackerURL())}},
		{"aud_array", set("aud", []string{"https://other", testAudience}), nil},
		{"aud_upper_scheme_host", set("aud", "HTTPS://MCP.Example.COM/mcp"), nil},
		{"aud_default_port", set("aud", "https://mcp.example.com:443/mcp"), nil},
		{"aud_trailing_slash", set("aud", testAudience+"/"), nil},
		{"exp_within_leeway", set("exp", now.Add(-30*time.Second).Unix()), nil},
		{"exp_fractional", set("exp", float64(now.Add(time.Hour).Unix())+0.5), nil},
		{"nbf_within_leeway", set("nbf", now.Add(30*time.Second).Unix()), nil},
		{"iat_within_leeway", set("iat", now.Add(30*time.Second).Unix()), nil},
		{"no_nbf_no_iat", func(c map[string]any) { delete(c, "nbf"); delete(c, "iat") }, nil},
		{"azp_instead_of_client_id", func(c map[string]any) { delete(c, "client_id"); c["azp"] = "x" }, nil},
	}
	// The verifier's clock stays at now, so the 30 s margins of the
	// leeway cases hold however long the run takes.
	v := newVerifier(t, keys, iss, func(p *authn.Policy) { p.Now = func() time.Time { return now } })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := iss.Claims(testAudience)
			c["iat"], c["nbf"], c["exp"] = now.Unix(), now.Unix(), now.Add(time.Hour).Unix()
			if tt.mod != nil {
				tt.mod(c)
			}
			if _, err := v.Verify(context.Background(), iss.Mint(c, tt.opts...)); err != nil {
				t.Fatalf("rejected: %v", err)
			}
		})
	}
	if iss.AttackerHits() != 0 {
		t.Fatal("attacker contacted")
	}
}

func TestPrincipalFields(t *testing.T) {
	iss := authntest.NewIssuer(t)
	v := newVerifier(t, issuerKeys(t, iss), iss, nil)
	c := iss.Claims(testAudience)
	c["scope"] = "mcp:read  mcp:write mcp:read"
	c["preferred_username"] = "alice"
	c["iat"] = 1700000000
	c["exp"] = 4102444800
	delete(c, "nbf")
	p, err := v.Verify(context.Background(), iss.Mint(c))
	if err != nil {
		t.Fatal(err)
	}
	want := authn.Principal{
		Subject: authntest.Subject, ClientID: authntest.ClientID, Username: "alice",
		Scopes: []string{"mcp:read", "mcp:write"}, Issuer: iss.URL, Audience: []string{testAudience},
		Expiry: time.Unix(4102444800, 0).UTC(), IssuedAt: time.Unix(1700000000, 0).UTC(),
	}
	got := authn.Principal{
		Subject: p.Subject, ClientID: p.ClientID, Username: p.Username, Scopes: p.Scopes,
		ScopeImplications: p.ScopeImplications, Issuer: p.Issuer, Audience: p.Audience,
		Expiry: p.Expiry, IssuedAt: p.IssuedAt,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	claims := p.Claims()
	if claims["jti"] != c["jti"] || len(claims) != len(c) {
		t.Fatalf("claims %v", claims)
	}
	claims["jti"] = "changed" // a new map each call
	if p.Claims()["jti"] != c["jti"] {
		t.Fatal("Claims returned a shared map")
	}
	if (&authn.Principal{Subject: "s"}).Claims() != nil {
		t.Fatal("Claims of a Principal not made by Verify is not nil")
	}
}

// TestLeewayAndClock checks that Policy.Now and Leeway are honored.
func TestLeewayAndClock(t *testing.T) {
	iss := authntest.NewIssuer(t)
	exp := time.Unix(2000000000, 0)
	c := iss.Claims(testAudience)
	c["exp"], c["iat"], c["nbf"] = exp.Unix(), exp.Add(-time.Hour).Unix(), exp.Add(-time.Hour).Unix()
	tok := iss.Mint(c)
	tests := []struct {
		name   string
		now    time.Time
		leeway time.Duration
		ok     bool
	}{
		{"before_exp", exp.Add(-time.Second), 0, true},
		{"at_exp_default_leeway", exp, 0, true},
		{"after_default_leeway", exp.Add(61 * time.Second), 0, false},
		{"inside_5m_leeway", exp.Add(4 * time.Minute), 5 * time.Minute, true},
		{"at_exp_plus_leeway", exp.Add(time.Second), time.Second, false},
		{"before_nbf_beyond_leeway", exp.Add(-time.Hour - 2*time.Minute), 0, false},
		{"before_nbf_inside_leeway", exp.Add(-time.Hour - 30*time.Second), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, issuerKeys(t, iss), iss, func(p *authn.Policy) {
				p.Now = func() time.Time { return tt.now }
				p.Leeway = tt.leeway
			})
			_, err := v.Verify(context.Background(), tok)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestMaxTokenBytes(t *testing.T) {
	iss := authntest.NewIssuer(t)
	tok := iss.Mint(iss.Claims(testAudience))
	for _, tt := range []struct {
		max int
		ok  bool
	}{{len(tok), true}, {len(tok) - 1, false}} {
		v := newVerifier(t, issuerKeys(t, iss), iss, func(p *authn.Policy) { p.MaxTokenBytes = tt.max })
		if _, err := v.Verify(context.Background(), tok); (err == nil) != tt.ok {
			t.Fatalf("max %d: err = %v", tt.max, err)
		}
	}
}

// TestKeyChoice covers kid-less tokens and keys a faked lookup returns.
func TestKeyChoice(t *testing.T) {
	iss := authntest.NewIssuer(t)
	rsaKey, rsaKID := iss.RSA()
	unpinned := authntest.JWK(t, &rsaKey.PublicKey, rsaKID, "")
	priv := authntest.JWK(t, rsaKey, rsaKID, "")
	oct, _ := jwk.FromRaw([]byte("secret"))
	tests := []struct {
		name   string
		keys   staticKeys
		tok    string
		reason string // FailureReason; "" means accepted
	}{
		{"no_kid_single_key", staticKeys{"": unpinned}, iss.Mint(iss.Claims(testAudience), authntest.WithoutKID()), ""},
		{"ps256_unpinned_key", staticKeys{rsaKID: unpinned}, iss.Mint(iss.Claims(testAudience), authntest.WithAlg("PS256")), ""},
		{"private_key_from_lookup", staticKeys{rsaKID: priv}, iss.Mint(iss.Claims(testAudience)), authn.ReasonKey},
		{"oct_key_from_lookup", staticKeys{rsaKID: oct}, iss.Mint(iss.Claims(testAudience), authntest.WithAlg("HS256"), authntest.WithKey([]byte("secret"))), authn.ReasonAlgorithm},
		{"lookup_error_without_reason", staticKeys{}, iss.Mint(iss.Claims(testAudience)), authn.ReasonKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, tt.keys, iss, nil)
			_, err := v.Verify(context.Background(), tt.tok)
			if (err == nil) != (tt.reason == "") {
				t.Fatalf("err = %v, want reason %q", err, tt.reason)
			}
			if err != nil && !errors.Is(err, authn.ErrInvalidToken) {
				t.Fatalf("not ErrInvalidToken: %v", err)
			}
			if got := authn.FailureReason(err); got != tt.reason {
				t.Fatalf("FailureReason = %q, want %q (%v)", got, tt.reason, err)
			}
		})
	}
}

func TestMissingScopes(t *testing.T) {
	p := &authn.Principal{Scopes: []string{"a", "b"}}
	tests := []struct {
		req, want []string
	}{
		{nil, nil},
		{[]string{"a"}, nil},
		{[]string{"c", "a", "d"}, []string{"c", "d"}},
		{[]string{"A"}, []string{"A"}},
	}
	for _, tt := range tests {
		if got := p.MissingScopes(tt.req); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("MissingScopes(%v) = %v, want %v", tt.req, got, tt.want)
		}
	}
}

func TestStaticClientIDs(t *testing.T) {
	s := authn.StaticClientIDs{"a", "B"}
	for id, want := range map[string]bool{"a": true, "B": true, "b": false, "": false, "a ": false} {
		if got, err := s.AllowClientID(context.Background(), id); got != want || err != nil {
			t.Errorf("%q: %v %v", id, got, err)
		}
	}
	if strings.Contains(authn.ErrInvalidToken.Error(), "authn") {
		t.Error("ErrInvalidToken text should be client-facing")
	}
}
