package testenv_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

const (
	gwID      = "6f0b9a52-3f4e-4d3c-9a51-0c1d2e3f4a01" // the middle tier (the gateway)
	gwSecret  = "gw+secret/with=odd&chars"
	ticketsID = "b3e1c2d4-5a6b-4c7d-8e9f-0a1b2c3d4e02"
	crmID     = "c4f2d3e5-6b7c-4d8e-9f0a-1b2c3d4e5f03"
	bareID    = "d5a3e4f6-7c8d-4e9f-8a1b-2c3d4e5f6a04" // exposes no delegated permission
	userOID   = "1a2b3c4d-0000-4000-8000-00000000a001"
)

type entraFixture struct {
	f     *testenv.FakeEntra
	cred  testenv.EntraCredential // registered on the gateway app
	other testenv.EntraCredential // registered nowhere
}

func startEntra(t *testing.T, now func() time.Time) entraFixture {
	t.Helper()
	fx := entraFixture{cred: testenv.NewEntraCredential(t), other: testenv.NewEntraCredential(t)}
	fx.f = testenv.StartFakeEntra(t, testenv.FakeEntraOptions{Now: now, TokenTTL: 30 * time.Minute, Apps: []testenv.EntraApp{
		{ClientID: gwID, Name: "mcp-gateway", IdentifierURIs: []string{"api://mcp-gateway"}, Scopes: []string{"access_as_user"},
			ClientSecret: gwSecret, Certificates: []*x509.Certificate{fx.cred.Certificate}},
		{ClientID: ticketsID, Name: "tickets", IdentifierURIs: []string{"api://tickets"}, Scopes: []string{"Read", "Write"}},
		{ClientID: crmID, Name: "crm", IdentifierURIs: []string{"api://crm"}, Scopes: []string{"Read"}},
		{ClientID: bareID, Name: "bare", IdentifierURIs: []string{"api://bare"}},
	}})
	return fx
}

func (fx entraFixture) userToken(t *testing.T, oid string) string {
	return fx.f.MintUserToken(t, testenv.EntraUserTokenOptions{OID: oid, Audience: gwID, PreferredUsername: "alice@example.com", Name: "Alice"})
}

// assertionJWT signs a client assertion with key, header thumbprints from
// cred; mutate edits the claims (a nil value deletes one).
func (fx entraFixture) assertionJWT(t *testing.T, alg jwa.SignatureAlgorithm, key any, hdr map[string]string, mutate map[string]any) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{"aud": fx.f.TokenEndpoint(), "iss": gwID, "sub": gwID, "jti": fmt.Sprint(now.UnixNano()),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	for k, v := range mutate {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	h := jws.NewHeaders()
	_ = h.Set(jws.TypeKey, "JWT")
	for k, v := range hdr {
		if err := h.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	b, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// certAssertion is a valid PS256 assertion naming the registered certificate by x5t#S256.
func (fx entraFixture) certAssertion(t *testing.T) string {
	return fx.assertionJWT(t, jwa.PS256, fx.cred.Key, map[string]string{jws.X509CertThumbprintS256Key: fx.cred.X5TS256}, nil)
}

// oboRequest is one OBO call made through golang.org/x/oauth2.
type oboRequest struct {
	clientID, secret string
	style            oauth2.AuthStyle
	params           map[string]string // set last; "" values make the parameter empty
}

func (fx entraFixture) secretRequest(t *testing.T, oid string) oboRequest {
	return oboRequest{clientID: gwID, secret: gwSecret, style: oauth2.AuthStyleInParams, params: map[string]string{
		"grant_type": testenv.EntraGrantTypeJWTBearer, "requested_token_use": testenv.EntraRequestedTokenUseOBO,
		"assertion": fx.userToken(t, oid), "scope": "api://tickets/.default"}}
}

func (fx entraFixture) certRequest(t *testing.T, oid string) oboRequest {
	r := fx.secretRequest(t, oid)
	r.secret = ""
	r.params["client_assertion_type"] = testenv.EntraClientAssertionType
	r.params["client_assertion"] = fx.certAssertion(t)
	return r
}

func (fx entraFixture) exchange(ctx context.Context, r oboRequest) (*oauth2.Token, error) {
	cfg := &oauth2.Config{ClientID: r.clientID, ClientSecret: r.secret,
		Endpoint: oauth2.Endpoint{TokenURL: fx.f.TokenEndpoint(), AuthStyle: r.style}}
	var opts []oauth2.AuthCodeOption
	for k, v := range r.params {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	return cfg.Exchange(ctx, "", opts...)
}

func TestFakeEntraDiscoveryAndGatewayVerifier(t *testing.T) {
	fx := startEntra(t, nil)
	f := fx.f
	var md map[string]any
	getJSON(t, f.DiscoveryURL(), http.StatusOK, &md)
	for k, want := range map[string]string{"issuer": f.Issuer(), "token_endpoint": f.TokenEndpoint(), "jwks_uri": f.JWKSURI()} {
		if md[k] != want {
			t.Errorf("discovery %s = %v, want %s", k, md[k], want)
		}
	}
	if want := f.URL() + "/" + f.TenantID() + "/v2.0"; f.Issuer() != want {
		t.Errorf("issuer %s, want %s", f.Issuer(), want)
	}
	var set struct{ Keys []map[string]any }
	getJSON(t, f.JWKSURI(), http.StatusOK, &set)
	if len(set.Keys) != 1 || set.Keys[0]["kty"] != "RSA" || set.Keys[0]["alg"] != nil || set.Keys[0]["issuer"] != f.Issuer() {
		t.Errorf("jwks = %v, want one RSA key without alg, with Entra's issuer member", set.Keys)
	}
	var e map[string]any
	getJSON(t, f.URL()+"/common/v2.0/.well-known/openid-configuration", http.StatusBadRequest, &e)
	if e["error"] != "invalid_tenant" || !strings.HasPrefix(e["error_description"].(string), "AADSTS90002: ") {
		t.Errorf("unknown tenant: %v", e)
	}

	// The gateway's own verifier, provider "entra", discovering keys from the issuer.
	v := entraVerifier(t, f, gwID)
	tok := f.MintUserToken(t, testenv.EntraUserTokenOptions{OID: userOID, Audience: gwID, Scopes: []string{"access_as_user", "Mail.Read"}, PreferredUsername: "alice@example.com"})
	p, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("gateway verifier refused MintUserToken: %v", err)
	}
	if p.Subject != f.PairwiseSub(userOID, gwID) || p.ClientID != testenv.EntraTestClientAppID ||
		strings.Join(p.Scopes, " ") != "access_as_user Mail.Read" || p.Username != "alice@example.com" {
		t.Errorf("principal = %+v", p)
	}
	claims, err := f.VerifyToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"aud": gwID, "tid": f.TenantID(), "oid": userOID, "azp": testenv.EntraTestClientAppID, "ver": "2.0", "scp": "access_as_user Mail.Read"} {
		if claims[k] != want {
			t.Errorf("user token %s = %v, want %v", k, claims[k], want)
		}
	}
	if _, err := f.VerifyToken(fx.f.MintUserToken(t, testenv.EntraUserTokenOptions{OID: userOID, Audience: gwID, TTL: -time.Minute})); err == nil {
		t.Error("VerifyToken accepted an expired token")
	}
}

func entraVerifier(t *testing.T, f *testenv.FakeEntra, aud string) *authn.Verifier {
	t.Helper()
	ks, err := authn.NewKeySet(authn.KeySetOptions{Issuer: f.Issuer()})
	if err != nil {
		t.Fatal(err)
	}
	prof, _ := idp.Lookup("entra")
	v, err := authn.NewVerifier(ks, authn.Policy{Issuer: f.Issuer(), Audiences: []string{aud}, Profile: prof})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func getJSON(t *testing.T, url string, status int, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("GET %s: %d, want %d", url, resp.StatusCode, status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestFakeEntraOBOSuccess(t *testing.T) {
	fx := startEntra(t, nil)
	f := fx.f
	downstream := entraVerifier(t, f, ticketsID)
	tests := []struct {
		name      string
		req       func() oboRequest
		auth      string // recorded ClientAuth
		azpacr    string
		scope     string // response scope
		scp       string
		refresh   bool
		secretLog string // recorded client_secret
	}{
		{"secret in body, .default", func() oboRequest { return fx.secretRequest(t, userOID) },
			"client_secret_post", "1", "api://tickets/Read api://tickets/Write", "Read Write", false, "REDACTED"},
		{"secret in Basic header", func() oboRequest {
			r := fx.secretRequest(t, userOID)
			r.style = oauth2.AuthStyleInHeader
			return r
		}, "client_secret_basic", "1", "api://tickets/Read api://tickets/Write", "Read Write", false, ""},
		{"one permission, offline_access and openid", func() oboRequest {
			r := fx.secretRequest(t, userOID)
			r.params["scope"] = "openid api://tickets/read offline_access"
			return r
		}, "client_secret_post", "1", "api://tickets/Read", "Read", true, "REDACTED"},
		{"resource named by client id", func() oboRequest {
			r := fx.secretRequest(t, userOID)
			r.params["scope"] = ticketsID + "/.default"
			return r
		}, "client_secret_post", "1", ticketsID + "/Read " + ticketsID + "/Write", "Read Write", false, "REDACTED"},
		{"assertion aud is the gateway's identifier URI", func() oboRequest {
			r := fx.secretRequest(t, userOID)
			r.params["assertion"] = f.MintUserToken(t, testenv.EntraUserTokenOptions{OID: userOID, Audience: "api://mcp-gateway"})
			return r
		}, "client_secret_post", "1", "api://tickets/Read api://tickets/Write", "Read Write", false, "REDACTED"},
		{"certificate, PS256, x5t#S256", func() oboRequest { return fx.certRequest(t, userOID) },
			"private_key_jwt", "2", "api://tickets/Read api://tickets/Write", "Read Write", false, ""},
		{"certificate, RS256, x5t only", func() oboRequest {
			r := fx.certRequest(t, userOID)
			r.params["client_assertion"] = fx.assertionJWT(t, jwa.RS256, fx.cred.Key, map[string]string{jws.X509CertThumbprintKey: fx.cred.X5T}, nil)
			return r
		}, "private_key_jwt", "2", "api://tickets/Read api://tickets/Write", "Read Write", false, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req()
			tok, err := fx.exchange(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || tok.Extra("scope") != tc.scope || tok.Extra("expires_in") != float64(1800) ||
				tok.Extra("ext_expires_in") != float64(1800) || (tok.RefreshToken != "") != tc.refresh {
				t.Errorf("response: type %q scope %v expires_in %v ext %v refresh %q", tok.TokenType, tok.Extra("scope"),
					tok.Extra("expires_in"), tok.Extra("ext_expires_in"), tok.RefreshToken)
			}
			c, err := f.VerifyToken(tok.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"aud": ticketsID, "iss": f.Issuer(), "tid": f.TenantID(), "oid": userOID, "azp": gwID,
				"azpacr": tc.azpacr, "scp": tc.scp, "ver": "2.0", "sub": f.PairwiseSub(userOID, ticketsID)}
			for k, w := range want {
				if c[k] != w {
					t.Errorf("issued %s = %v, want %v", k, c[k], w)
				}
			}
			if c["exp"].(float64)-c["iat"].(float64) != 1800 {
				t.Errorf("lifetime %v, want TokenTTL", c["exp"].(float64)-c["iat"].(float64))
			}
			p, err := downstream.Verify(context.Background(), tok.AccessToken)
			if err != nil {
				t.Fatalf("downstream verifier refused the OBO token: %v", err)
			}
			if p.Subject == f.PairwiseSub(userOID, gwID) || p.ClientID != gwID {
				t.Errorf("downstream principal %+v: sub must be pairwise for the downstream, client the gateway", p)
			}
			recs := f.TokenRequests()
			if len(recs) != i+1 {
				t.Fatalf("%d requests recorded, want %d", len(recs), i+1)
			}
			rec := recs[i]
			if rec.ClientAuth != tc.auth || rec.Status != 200 || rec.Form.Get("assertion") != req.params["assertion"] ||
				rec.Form.Get("client_secret") != tc.secretLog || rec.Form.Get("scope") != req.params["scope"] ||
				(rec.Form.Has("client_assertion") && rec.Form.Get("client_assertion") != "REDACTED") {
				t.Errorf("record = %+v", rec)
			}
		})
	}
	if n := len(f.Requests()); n != len(tests) {
		t.Errorf("Requests() has %d entries, want %d", n, len(tests))
	}
}

// TestFakeEntraClientCredentialsConfig makes the OBO call the way
// internal/tokenexchange does: x/oauth2's clientcredentials request with
// grant_type overridden in EndpointParams and scope from Scopes, with the
// default AuthStyleAutoDetect (Basic first) and with a client assertion.
func TestFakeEntraClientCredentialsConfig(t *testing.T) {
	fx := startEntra(t, nil)
	params := func(extra ...string) map[string][]string {
		v := map[string][]string{"grant_type": {testenv.EntraGrantTypeJWTBearer},
			"requested_token_use": {testenv.EntraRequestedTokenUseOBO}, "assertion": {fx.userToken(t, userOID)}}
		for i := 0; i < len(extra); i += 2 {
			v[extra[i]] = []string{extra[i+1]}
		}
		return v
	}
	for _, cfg := range []*clientcredentials.Config{
		{ClientID: gwID, ClientSecret: gwSecret, TokenURL: fx.f.TokenEndpoint(), Scopes: []string{"api://crm/Read"}, EndpointParams: params()},
		{ClientID: gwID, TokenURL: fx.f.TokenEndpoint(), Scopes: []string{"api://crm/Read"}, AuthStyle: oauth2.AuthStyleInParams,
			EndpointParams: params("client_assertion_type", testenv.EntraClientAssertionType, "client_assertion", fx.certAssertion(t))},
	} {
		tok, err := cfg.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c, err := fx.f.VerifyToken(tok.AccessToken)
		if err != nil || c["aud"] != crmID || c["scp"] != "Read" || c["sub"] != fx.f.PairwiseSub(userOID, crmID) {
			t.Errorf("claims %v, err %v", c, err)
		}
	}
	recs := fx.f.TokenRequests()
	if len(recs) != 2 || recs[0].ClientAuth != "client_secret_basic" || recs[1].ClientAuth != "private_key_jwt" {
		t.Errorf("records %+v, want one Basic exchange (auto-detect needs no retry) and one private_key_jwt", recs)
	}
}

// TestFakeEntraRefuseUserIsPerUser shows a refusal for one user leaves
// another's exchange alone, and that ClearRefusals lifts it.
func TestFakeEntraRefuseUserIsPerUser(t *testing.T) {
	fx := startEntra(t, nil)
	const bob = "1a2b3c4d-0000-4000-8000-00000000b0b0"
	fx.f.RefuseUser(bob, testenv.EntraConsentRequired())
	if _, err := fx.exchange(context.Background(), fx.secretRequest(t, userOID)); err != nil {
		t.Errorf("other user: %v", err)
	}
	if _, err := fx.exchange(context.Background(), fx.secretRequest(t, bob)); err == nil {
		t.Error("refused user got a token")
	}
	fx.f.ClearRefusals()
	if _, err := fx.exchange(context.Background(), fx.secretRequest(t, bob)); err != nil {
		t.Errorf("after ClearRefusals: %v", err)
	}
}

// TestFakeEntraClockAndTTL drives every time check from FakeEntraOptions.Now.
func TestFakeEntraClockAndTTL(t *testing.T) {
	clock := testkit.NewClock(time.Now())
	fx := startEntra(t, clock.Now)
	ctx := context.Background()
	req := fx.secretRequest(t, userOID) // user token valid for TokenTTL (30m) from clock.Now
	fx.f.SetTokenTTL(90 * time.Second)
	tok, err := fx.exchange(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Extra("expires_in") != float64(90) {
		t.Errorf("expires_in %v after SetTokenTTL(90s)", tok.Extra("expires_in"))
	}
	clock.Advance(91 * time.Second)
	if _, err := fx.f.VerifyToken(tok.AccessToken); err == nil {
		t.Error("issued token still valid past its TTL on the fake clock")
	}
	clock.Advance(30 * time.Minute)
	var re *oauth2.RetrieveError
	if _, err := fx.exchange(ctx, req); !errors.As(err, &re) || !strings.HasPrefix(re.ErrorDescription, "AADSTS500133: ") {
		t.Errorf("expired user token on the fake clock: %v", err)
	}
}

// TestFakeEntraRecordsConcurrentRequests checks the request log under
// concurrent exchanges (run with -race) and the client-request-id echo.
func TestFakeEntraRecordsConcurrentRequests(t *testing.T) {
	fx := startEntra(t, nil)
	const n = 8
	var wg sync.WaitGroup
	for range n {
		req := fx.secretRequest(t, userOID)
		wg.Go(func() {
			if _, err := fx.exchange(context.Background(), req); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(fx.f.Requests()); got != n {
		t.Errorf("%d requests recorded, want %d", got, n)
	}

	hc := &http.Client{Transport: headerRT{"client-request-id": "corr-123"}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	r := fx.secretRequest(t, userOID)
	r.secret = "wrong"
	var re *oauth2.RetrieveError
	if _, err := fx.exchange(ctx, r); !errors.As(err, &re) || !strings.Contains(string(re.Body), `"correlation_id":"corr-123"`) {
		t.Errorf("correlation id not echoed: %v", err)
	}

	resp, err := http.Get(fx.f.TokenEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("GET token endpoint: %d", resp.StatusCode)
	}
	resp, err = http.PostForm(strings.Replace(fx.f.TokenEndpoint(), fx.f.TenantID(), "organizations", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("other tenant's token endpoint: %d", resp.StatusCode)
	}
}

type headerRT map[string]string

func (h headerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestFakeEntraTLS(t *testing.T) {
	f := testenv.StartFakeEntra(t, testenv.FakeEntraOptions{TLS: true, TenantID: "72F988BF-86F1-41AF-91AB-2D7CD011DB47"})
	if f.TenantID() != "72f988bf-86f1-41af-91ab-2d7cd011db47" || !strings.HasPrefix(f.Issuer(), "https://") {
		t.Fatalf("tenant %s issuer %s", f.TenantID(), f.Issuer())
	}
	resp, err := f.Server.Client().Get(f.DiscoveryURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("discovery over TLS: %d", resp.StatusCode)
	}
}
