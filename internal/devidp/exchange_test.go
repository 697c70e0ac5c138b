package devidp

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

const (
	testUpstream    = "http://127.0.0.1:9100/mcp"
	testUpstreamAPI = "api://tickets"
)

// exchangeOpts configures the exchange targets and an upstream-only scope.
func exchangeOpts(o *Options) {
	o.ExchangeTargets = []string{testUpstream, testUpstreamAPI}
	o.ExchangeScopes = []string{"tickets:read"}
}

// exchangeForm is a valid exchange of subject for testUpstream.
func exchangeForm(subject string) url.Values {
	return url.Values{
		"grant_type":         {grantTokenExchange},
		"subject_token":      {subject},
		"subject_token_type": {tokenTypeAccessToken},
		"audience":           {testUpstream},
	}
}

// userToken is alice's gateway token, as a client would present it.
func (f *fixture) userToken(ttl time.Duration) string {
	f.t.Helper()
	tok, err := f.s.MintAccessToken("alice", "some-mcp-client", testResource, []string{"mcp:tools"}, ttl)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// exchangeAs posts an exchange authenticated as the dev client (Basic).
func (f *fixture) exchangeAs(form url.Values) (*httptest.ResponseRecorder, map[string]any) {
	id, secret := f.s.DevClient()
	return f.token(form, id, secret)
}

func TestTokenExchange(t *testing.T) {
	tests := []struct {
		name      string
		ttl       time.Duration // of the subject token; 0 = the server's 1h
		mod       func(f *fixture, v url.Values)
		post      bool // client_secret_post instead of Basic
		wantAud   []string
		wantScope string
		wantTTL   time.Duration
	}{
		{name: "audience", wantAud: []string{testUpstream}, wantScope: "mcp:tools", wantTTL: time.Hour},
		{name: "client_secret_post", post: true, wantAud: []string{testUpstream}, wantScope: "mcp:tools", wantTTL: time.Hour},
		{name: "resource in another spelling", mod: func(_ *fixture, v url.Values) {
			v.Del("audience")
			v.Set("resource", "HTTP://127.0.0.1:9100/mcp/")
		}, wantAud: []string{testUpstream}, wantScope: "mcp:tools", wantTTL: time.Hour},
		{name: "audience and resource naming one target", mod: func(_ *fixture, v url.Values) { v.Set("resource", testUpstream) },
			wantAud: []string{testUpstream}, wantScope: "mcp:tools", wantTTL: time.Hour},
		{name: "audience and resource naming two targets", mod: func(_ *fixture, v url.Values) {
			v.Set("audience", testUpstreamAPI)
			v.Set("resource", testUpstream)
		}, wantAud: []string{testUpstreamAPI, testUpstream}, wantScope: "mcp:tools", wantTTL: time.Hour},
		{name: "exchange-only scope", mod: func(_ *fixture, v url.Values) { v.Set("scope", "tickets:read tickets:read mcp:tools") },
			wantAud: []string{testUpstream}, wantScope: "tickets:read mcp:tools", wantTTL: time.Hour},
		{name: "jwt token types", mod: func(_ *fixture, v url.Values) {
			v.Set("subject_token_type", tokenTypeJWT)
			v.Set("requested_token_type", tokenTypeJWT)
		}, wantAud: []string{testUpstream}, wantScope: "mcp:tools", wantTTL: time.Hour},
		{name: "expiry capped by the subject token", ttl: 10 * time.Minute,
			wantAud: []string{testUpstream}, wantScope: "mcp:tools", wantTTL: 10 * time.Minute},
		{name: "capped after time passed", ttl: 10 * time.Minute, mod: func(f *fixture, _ url.Values) { f.clock.Advance(4 * time.Minute) },
			wantAud: []string{testUpstream}, wantScope: "mcp:tools", wantTTL: 6 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, exchangeOpts)
			form := exchangeForm(f.userToken(tt.ttl))
			if tt.mod != nil {
				tt.mod(f, form)
			}
			devID, devSecret := f.s.DevClient()
			var w *httptest.ResponseRecorder
			var m map[string]any
			if tt.post {
				form.Set("client_id", devID)
				form.Set("client_secret", devSecret)
				w, m = f.token(form)
			} else {
				w, m = f.exchangeAs(form)
			}
			if w.Code != http.StatusOK {
				t.Fatalf("exchange: %d %s", w.Code, w.Body)
			}
			if m["issued_token_type"] != tokenTypeAccessToken || m["token_type"] != "Bearer" || m["scope"] != tt.wantScope ||
				m["expires_in"] != float64(tt.wantTTL/time.Second) || m["refresh_token"] != nil || m["id_token"] != nil {
				t.Errorf("response %v", m)
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Error("response is cacheable")
			}
			at := m["access_token"].(string)
			if h := jwtHeader(t, at); h["typ"] != "at+jwt" || h["kid"] == nil {
				t.Errorf("header %v", h)
			}
			tok := f.verify(at, tt.wantAud[0])
			if !slices.Equal(tok.Audience(), tt.wantAud) {
				t.Errorf("aud %v, want %v", tok.Audience(), tt.wantAud)
			}
			claims, _ := tok.AsMap(t.Context())
			for k, want := range map[string]any{"sub": "alice", "username": "alice", "client_id": devID, "scope": tt.wantScope, "iss": testIssuer} {
				if claims[k] != want {
					t.Errorf("claim %s = %v, want %v", k, claims[k], want)
				}
			}
			if act, _ := claims["act"].(map[string]any); len(act) != 1 || act["sub"] != devID {
				t.Errorf("act = %v, want {sub: %s}", claims["act"], devID)
			}
			if tok.JwtID() == "" || !tok.IssuedAt().Equal(f.clock.Now()) || !tok.Expiration().Equal(f.clock.Now().Add(tt.wantTTL)) {
				t.Errorf("jti/iat/exp wrong: %v", claims)
			}
		})
	}
}

// TestTokenExchangeNestsAct exchanges an exchanged token again: the first
// actor is kept under the second (RFC 8693 §4.1).
func TestTokenExchangeNestsAct(t *testing.T) {
	f := newFixture(t, exchangeOpts)
	devID, _ := f.s.DevClient()
	_, m := f.exchangeAs(exchangeForm(f.userToken(0)))
	form := exchangeForm(m["access_token"].(string))
	form.Set("audience", testUpstreamAPI)
	w, m := f.exchangeAs(form)
	if w.Code != http.StatusOK {
		t.Fatalf("second exchange: %d %s", w.Code, w.Body)
	}
	claims, _ := f.verify(m["access_token"].(string), testUpstreamAPI).AsMap(t.Context())
	act, _ := claims["act"].(map[string]any)
	inner, _ := act["act"].(map[string]any)
	if act["sub"] != devID || inner["sub"] != devID || claims["sub"] != "alice" {
		t.Errorf("claims %v", claims)
	}
}

func TestTokenExchangeErrors(t *testing.T) {
	tests := []struct {
		name       string
		mod        func(f *fixture, v url.Values)
		auth       string // "" dev client Basic; "public", "registered", "bad-secret", "none"
		wantStatus int    // 400 when zero
		wantErr    string
	}{
		{name: "public client", auth: "public", wantErr: errUnauthorizedClient},
		{name: "registered confidential client", auth: "registered", wantErr: errUnauthorizedClient},
		{name: "wrong secret", auth: "bad-secret", wantStatus: 401, wantErr: errInvalidClient},
		{name: "no client authentication", auth: "none", wantStatus: 401, wantErr: errInvalidClient},
		{name: "missing subject_token", mod: del("subject_token"), wantErr: errInvalidRequest},
		{name: "repeated subject_token", mod: func(_ *fixture, v url.Values) { v.Add("subject_token", "x") }, wantErr: errInvalidRequest},
		{name: "missing subject_token_type", mod: del("subject_token_type"), wantErr: errInvalidRequest},
		{name: "id_token subject_token_type", mod: set("subject_token_type", "urn:ietf:params:oauth:token-type:id_token"), wantErr: errInvalidRequest},
		{name: "refresh_token requested", mod: set("requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token"), wantErr: errInvalidRequest},
		{name: "actor_token", mod: func(f *fixture, v url.Values) {
			v.Set("actor_token", f.userToken(0))
			v.Set("actor_token_type", tokenTypeAccessToken)
		}, wantErr: errInvalidRequest},
		{name: "actor_token_type alone", mod: set("actor_token_type", tokenTypeAccessToken), wantErr: errInvalidRequest},
		{name: "no audience nor resource", mod: del("audience"), wantErr: errInvalidRequest},
		{name: "unknown audience", mod: set("audience", "http://127.0.0.1:9999/mcp"), wantErr: errInvalidTarget},
		{name: "the gateway's own resource", mod: set("audience", testResource), wantErr: errInvalidTarget},
		{name: "unknown resource", mod: set("resource", "http://127.0.0.1:9999/mcp"), wantErr: errInvalidTarget},
		{name: "relative resource", mod: func(_ *fixture, v url.Values) { v.Del("audience"); v.Set("resource", "mcp") }, wantErr: errInvalidTarget},
		{name: "resource with fragment", mod: func(_ *fixture, v url.Values) { v.Del("audience"); v.Set("resource", testUpstream+"#x") }, wantErr: errInvalidTarget},
		{name: "two audiences", mod: func(_ *fixture, v url.Values) { v.Add("audience", testUpstreamAPI) }, wantErr: errInvalidTarget},
		{name: "unknown scope", mod: set("scope", "tickets:write"), wantErr: errInvalidScope},
		{name: "openid scope", mod: set("scope", "openid"), wantErr: errInvalidScope},
		{name: "garbage subject token", mod: set("subject_token", "not-a-jwt"), wantErr: errInvalidGrant},
		{name: "refresh token as subject", mod: func(f *fixture, v url.Values) {
			v.Set("subject_token", f.refreshToken())
		}, wantErr: errInvalidGrant},
		{name: "ID token as subject", mod: func(f *fixture, v url.Values) {
			idt, err := f.s.signIDToken("alice", "c", "", f.clock.Now())
			if err != nil {
				f.t.Fatal(err)
			}
			v.Set("subject_token", idt)
		}, wantErr: errInvalidGrant},
		{name: "signed by another key with our kid", mod: func(f *fixture, v url.Values) {
			v.Set("subject_token", f.forged())
		}, wantErr: errInvalidGrant},
		{name: "another issuer", mod: func(f *fixture, v url.Values) {
			other := newFixture(f.t, func(o *Options) { o.Issuer = "http://127.0.0.1:9999"; o.Now = f.clock.Now })
			tok, _ := other.s.MintAccessToken("alice", "c", testResource, nil, 0)
			v.Set("subject_token", tok)
		}, wantErr: errInvalidGrant},
		{name: "expired subject token", mod: func(f *fixture, _ url.Values) { f.clock.Advance(time.Hour + time.Second) }, wantErr: errInvalidGrant},
		{name: "subject token expiring within a second", mod: func(f *fixture, _ url.Values) { f.clock.Advance(time.Hour - time.Second/2) }, wantErr: errInvalidGrant},
		{name: "subject token without sub", mod: func(f *fixture, v url.Values) {
			v.Set("subject_token", f.signed(jwt.NewBuilder().Issuer(testIssuer).Expiration(f.clock.Now().Add(time.Hour)), "at+jwt"))
		}, wantErr: errInvalidGrant},
		{name: "subject token without exp", mod: func(f *fixture, v url.Values) {
			v.Set("subject_token", f.signed(jwt.NewBuilder().Issuer(testIssuer).Subject("alice"), "at+jwt"))
		}, wantErr: errInvalidGrant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, exchangeOpts)
			form := exchangeForm(f.userToken(0))
			if tt.mod != nil {
				tt.mod(f, form)
			}
			var w *httptest.ResponseRecorder
			var m map[string]any
			switch tt.auth {
			case "":
				w, m = f.exchangeAs(form)
			case "public":
				form.Set("client_id", f.publicClient())
				w, m = f.token(form)
			case "registered":
				_, reg := f.register(`{"redirect_uris":["` + testRedirect + `"],"token_endpoint_auth_method":"client_secret_basic"}`)
				w, m = f.token(form, reg["client_id"].(string), reg["client_secret"].(string))
			case "bad-secret":
				id, _ := f.s.DevClient()
				w, m = f.token(form, id, "wrong")
			case "none":
				w, m = f.token(form)
			}
			want := tt.wantStatus
			if want == 0 {
				want = http.StatusBadRequest
			}
			if w.Code != want || m["error"] != tt.wantErr || m["access_token"] != nil {
				t.Fatalf("got %d %v, want %d %s", w.Code, m, want, tt.wantErr)
			}
			if m["error_description"] == "" || m["error_description"] == nil {
				t.Error("no error_description")
			}
		})
	}
}

// TestTokenExchangeNoTargets: without ExchangeTargets every exchange is
// refused, even for the gateway's own resource.
func TestTokenExchangeNoTargets(t *testing.T) {
	f := newFixture(t)
	form := exchangeForm(f.userToken(0))
	form.Set("audience", testResource)
	if w, m := f.exchangeAs(form); w.Code != 400 || m["error"] != errInvalidTarget {
		t.Fatalf("got %d %v", w.Code, m)
	}
}

// TestExchangeScopesOnlyInExchange: ExchangeScopes are neither advertised
// nor granted by the other grants.
func TestExchangeScopesOnlyInExchange(t *testing.T) {
	f := newFixture(t, exchangeOpts)
	id, secret := f.s.DevClient()
	w, m := f.token(url.Values{"grant_type": {"client_credentials"}, "scope": {"tickets:read"}}, id, secret)
	if w.Code != 400 || m["error"] != errInvalidScope {
		t.Errorf("client_credentials with an exchange scope: %d %v", w.Code, m)
	}
	if md := f.s.metadata(); slices.Contains(md.ScopesSupported, "tickets:read") || !slices.Contains(md.GrantTypesSupported, grantTokenExchange) {
		t.Errorf("metadata scopes %v grants %v", md.ScopesSupported, md.GrantTypesSupported)
	}
}

func TestExchangeOptionsValidated(t *testing.T) {
	for _, o := range []Options{
		{Issuer: testIssuer, ExchangeTargets: []string{""}},
		{Issuer: testIssuer, ExchangeTargets: []string{"http://a b"}},
		{Issuer: testIssuer, ExchangeScopes: []string{"bad\"scope"}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func del(name string) func(*fixture, url.Values) {
	return func(_ *fixture, v url.Values) { v.Del(name) }
}

func set(name, value string) func(*fixture, url.Values) {
	return func(_ *fixture, v url.Values) { v.Set(name, value) }
}

// refreshToken runs a code flow for a public client and returns its
// refresh token.
func (f *fixture) refreshToken() string {
	f.t.Helper()
	id := f.publicClient()
	_, m := f.exchange(id, f.code(authParams(id)))
	rt, _ := m["refresh_token"].(string)
	if rt == "" {
		f.t.Fatalf("no refresh token: %v", m)
	}
	return rt
}

// signed signs b with the server's key and the given typ.
func (f *fixture) signed(b *jwt.Builder, typ string) string {
	f.t.Helper()
	raw, err := f.s.sign(b, typ)
	if err != nil {
		f.t.Fatal(err)
	}
	return raw
}

// forged is alice's token signed by a fresh key under the server's kid.
func (f *fixture) forged() string {
	f.t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.t.Fatal(err)
	}
	key, err := jwk.FromRaw(priv)
	if err != nil {
		f.t.Fatal(err)
	}
	_ = key.Set(jwk.KeyIDKey, f.s.signKey.KeyID())
	tok, err := jwt.NewBuilder().Issuer(testIssuer).Subject("alice").Expiration(f.clock.Now().Add(time.Hour)).Build()
	if err != nil {
		f.t.Fatal(err)
	}
	hdrs := jws.NewHeaders()
	_ = hdrs.Set(jws.TypeKey, "at+jwt")
	raw, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256, key, jws.WithProtectedHeaders(hdrs)))
	if err != nil {
		f.t.Fatal(err)
	}
	return string(raw)
}
