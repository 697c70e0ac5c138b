package devidp

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestCodeFlow runs discovery-free registration -> authorize -> token ->
// refresh as the TypeScript SDK does, and checks the RFC 9068 token.
func TestCodeFlow(t *testing.T) {
	f := newFixture(t)
	id := f.publicClient()
	q := authParams(id)
	q.Set("login_hint", "alice")
	w, m := f.exchange(id, f.code(q))
	if w.Code != http.StatusOK {
		t.Fatalf("token: %d %s", w.Code, w.Body)
	}
	if m["token_type"] != "Bearer" || m["expires_in"] != float64(3600) || m["scope"] != "mcp:tools mcp:admin" || m["refresh_token"] == nil || m["id_token"] != nil {
		t.Errorf("token response %v", m)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Error("token response is cacheable")
	}
	at := m["access_token"].(string)
	if h := jwtHeader(t, at); h["typ"] != "at+jwt" || h["alg"] != "RS256" || h["kid"] == nil {
		t.Errorf("header %v", h)
	}
	tok := f.verify(at, testResource)
	claims, _ := tok.AsMap(t.Context())
	for k, want := range map[string]any{"sub": "alice", "username": "alice", "client_id": id, "scope": "mcp:tools mcp:admin", "iss": testIssuer} {
		if claims[k] != want {
			t.Errorf("claim %s = %v, want %v", k, claims[k], want)
		}
	}
	if tok.JwtID() == "" || tok.IssuedAt().IsZero() || tok.Expiration().Sub(tok.IssuedAt()) != time.Hour {
		t.Errorf("jti/iat/exp wrong: %v", claims)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(at, ".")[1])
	if err != nil || !strings.Contains(string(payload), `"aud":"`+testResource+`"`) {
		t.Errorf("aud is not the single resource string: %s", payload)
	}
}

func TestCodeExchangeErrors(t *testing.T) {
	tests := []struct {
		name       string
		authMod    func(q url.Values)
		tokenMod   func(form url.Values)
		before     func(f *fixture, form url.Values) // e.g. use the code once
		opts       func(o *Options)
		wantStatus int
		wantErr    string
	}{
		{name: "wrong verifier", tokenMod: func(v url.Values) { v.Set("code_verifier", strings.Repeat("a", 43)) }, wantErr: errInvalidGrant},
		{name: "malformed verifier", tokenMod: func(v url.Values) { v.Set("code_verifier", "short") }, wantErr: errInvalidGrant},
		{name: "missing verifier", tokenMod: func(v url.Values) { v.Del("code_verifier") }, wantErr: errInvalidRequest},
		{name: "code reuse", before: func(f *fixture, v url.Values) {
			if w, _ := f.token(v); w.Code != 200 {
				f.t.Fatalf("first use failed: %s", w.Body)
			}
		}, wantErr: errInvalidGrant},
		{name: "code burnt by a failed attempt", before: func(f *fixture, v url.Values) {
			bad := url.Values{}
			for k, vs := range v {
				bad[k] = vs
			}
			bad.Set("code_verifier", strings.Repeat("b", 43))
			f.token(bad)
		}, wantErr: errInvalidGrant},
		{name: "code expired", before: func(f *fixture, _ url.Values) { f.clock.Advance(codeTTL + time.Second) }, wantErr: errInvalidGrant},
		{name: "unknown code", tokenMod: func(v url.Values) { v.Set("code", "nope") }, wantErr: errInvalidGrant},
		{name: "redirect_uri mismatch", tokenMod: func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:33418/other") }, wantErr: errInvalidGrant},
		{name: "redirect_uri missing", tokenMod: func(v url.Values) { v.Del("redirect_uri") }, wantErr: errInvalidGrant},
		{name: "other client", before: func(f *fixture, v url.Values) { v.Set("client_id", f.publicClient()) }, wantErr: errInvalidGrant},
		{name: "unknown resource", tokenMod: func(v url.Values) { v.Set("resource", "http://127.0.0.1:9999/mcp") }, wantErr: errInvalidTarget},
		{name: "resource differs from authorize", opts: twoResources, tokenMod: func(v url.Values) { v.Set("resource", "http://127.0.0.1:8080/other") }, wantErr: errInvalidTarget},
		{name: "no resource anywhere with two configured", opts: twoResources, authMod: func(q url.Values) { q.Del("resource") }, tokenMod: func(v url.Values) { v.Del("resource") }, wantErr: errInvalidTarget},
		{name: "repeated code", tokenMod: func(v url.Values) { v.Add("code", "x") }, wantErr: errInvalidRequest},
		{name: "unknown client", tokenMod: func(v url.Values) { v.Set("client_id", "nope") }, wantStatus: 401, wantErr: errInvalidClient},
		{name: "no client", tokenMod: func(v url.Values) { v.Del("client_id") }, wantStatus: 401, wantErr: errInvalidClient},
		{name: "unsupported grant", tokenMod: func(v url.Values) { v.Set("grant_type", "password") }, wantErr: errUnsupportedGrantType},
		{name: "missing grant", tokenMod: func(v url.Values) { v.Del("grant_type") }, wantErr: errInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*Options)
			if tt.opts != nil {
				mods = append(mods, tt.opts)
			}
			f := newFixture(t, mods...)
			id := f.publicClient()
			q := authParams(id)
			if tt.authMod != nil {
				tt.authMod(q)
			}
			form := url.Values{
				"grant_type": {"authorization_code"}, "code": {f.code(q)}, "redirect_uri": {testRedirect},
				"code_verifier": {testVerifier}, "client_id": {id}, "resource": {testResource},
			}
			if tt.before != nil {
				tt.before(f, form)
			}
			if tt.tokenMod != nil {
				tt.tokenMod(form)
			}
			w, m := f.token(form)
			want := tt.wantStatus
			if want == 0 {
				want = 400
			}
			if w.Code != want || m["error"] != tt.wantErr {
				t.Fatalf("got %d %v, want %d %s", w.Code, m, want, tt.wantErr)
			}
			if w.Header().Get("WWW-Authenticate") != "" {
				t.Errorf("unexpected Basic challenge without Basic auth")
			}
		})
	}
}

func twoResources(o *Options) {
	o.Resources = []string{testResource, "http://127.0.0.1:8080/other"}
}

// TestCodeExchangeResource covers how `aud` is chosen (RFC 8707 §2.2).
func TestCodeExchangeResource(t *testing.T) {
	tests := []struct {
		name          string
		opts          func(o *Options)
		authResource  string
		tokenResource string
		wantAud       string
	}{
		{name: "authorize only", authResource: testResource, wantAud: testResource},
		{name: "path case matters", authResource: testResource, tokenResource: "http://127.0.0.1:8080/MCP/", wantAud: ""},
		{name: "both", authResource: testResource, tokenResource: testResource + "/", wantAud: testResource},
		{name: "token only", tokenResource: testResource, wantAud: testResource},
		{name: "neither, single configured", wantAud: testResource},
		{name: "token only, two configured", opts: twoResources, tokenResource: "http://127.0.0.1:8080/other", wantAud: "http://127.0.0.1:8080/other"},
		{name: "neither, none configured", opts: func(o *Options) { o.Resources = nil }, wantAud: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*Options)
			if tt.opts != nil {
				mods = append(mods, tt.opts)
			}
			f := newFixture(t, mods...)
			id := f.publicClient()
			q := authParams(id)
			q.Del("resource")
			if tt.authResource != "" {
				q.Set("resource", tt.authResource)
			}
			form := url.Values{"grant_type": {"authorization_code"}, "code": {f.code(q)}, "redirect_uri": {testRedirect}, "code_verifier": {testVerifier}, "client_id": {id}}
			if tt.tokenResource != "" {
				form.Set("resource", tt.tokenResource)
			}
			w, m := f.token(form)
			if tt.wantAud == "" {
				if m["error"] != errInvalidTarget {
					t.Fatalf("want invalid_target, got %d %v", w.Code, m)
				}
				return
			}
			if w.Code != 200 {
				t.Fatalf("token: %d %v", w.Code, m)
			}
			aud := f.verify(m["access_token"].(string), "").Audience()
			want := []string{tt.wantAud}
			if tt.wantAud == "-" {
				want = nil
			}
			if strings.Join(aud, ",") != strings.Join(want, ",") {
				t.Errorf("aud %v, want %v", aud, want)
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	f := newFixture(t)
	id := f.publicClient()
	_, m := f.exchange(id, f.code(authParams(id)))
	rt1 := m["refresh_token"].(string)
	refresh := func(rt string, extra ...string) (*httptest.ResponseRecorder, map[string]any) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {id}}
		for i := 0; i+1 < len(extra); i += 2 {
			form.Set(extra[i], extra[i+1])
		}
		return f.token(form)
	}

	// Failed requests leave the token usable.
	for _, c := range []struct{ name, k, v, want string }{
		{"widen scope", "scope", "mcp:tools mcp:root", errInvalidScope},
		{"other resource", "resource", "http://127.0.0.1:9999/mcp", errInvalidTarget},
	} {
		if w, m := refresh(rt1, c.k, c.v); w.Code != 400 || m["error"] != c.want {
			t.Fatalf("%s: %d %v", c.name, w.Code, m)
		}
	}
	if w, m := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}, "client_id": {f.publicClient()}}); m["error"] != errInvalidGrant {
		t.Fatalf("other client: %d %v", w.Code, m)
	}

	w, m := refresh(rt1, "scope", "mcp:tools", "resource", testResource)
	if w.Code != 200 {
		t.Fatalf("refresh: %d %v", w.Code, m)
	}
	rt2 := m["refresh_token"].(string)
	if rt2 == "" || rt2 == rt1 || m["scope"] != "mcp:tools" {
		t.Fatalf("no rotation or scope not narrowed: %v", m)
	}
	if aud := f.verify(m["access_token"].(string), testResource).Audience(); len(aud) != 1 {
		t.Errorf("aud %v", aud)
	}
	if w, m := refresh(rt1); w.Code != 400 || m["error"] != errInvalidGrant {
		t.Fatalf("old refresh token accepted after rotation: %d %v", w.Code, m)
	}
	// The rotated token keeps the original grant: full scopes again.
	w, m = refresh(rt2)
	if w.Code != 200 || m["scope"] != "mcp:tools mcp:admin" {
		t.Fatalf("refresh after narrowing: %d %v", w.Code, m)
	}
	rt3 := m["refresh_token"].(string)
	f.clock.Advance(25 * time.Hour)
	if _, m := refresh(rt3); m["error"] != errInvalidGrant {
		t.Fatalf("expired refresh token accepted: %v", m)
	}
}

func TestRefreshNotIssuedWithoutGrantType(t *testing.T) {
	f := newFixture(t)
	_, reg := f.register(`{"redirect_uris":["` + testRedirect + `"]}`)
	id := reg["client_id"].(string)
	_, m := f.exchange(id, f.code(authParams(id)))
	if m["access_token"] == nil || m["refresh_token"] != nil {
		t.Fatalf("want access token only: %v", m)
	}
}

func TestClientAuthentication(t *testing.T) {
	f := newFixture(t)
	devID, devSecret := f.s.DevClient()
	_, basicReg := f.register(`{"redirect_uris":["` + testRedirect + `"],"token_endpoint_auth_method":"client_secret_basic"}`)
	_, postReg := f.register(`{"redirect_uris":["` + testRedirect + `"],"token_endpoint_auth_method":"client_secret_post"}`)
	pubID := f.publicClient()
	cc := func(extra ...string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	tests := []struct {
		name       string
		form       url.Values
		basic      []string
		wantStatus int
		wantErr    string
		wantBasic  bool
	}{
		{name: "dev client basic", form: cc(), basic: []string{devID, devSecret}, wantStatus: 200},
		{name: "dev client post", form: cc("client_id", devID, "client_secret", devSecret), wantStatus: 200},
		{name: "dev client basic with matching body id", form: cc("client_id", devID), basic: []string{devID, devSecret}, wantStatus: 200},
		{name: "wrong secret basic", form: cc(), basic: []string{devID, "wrong"}, wantStatus: 401, wantErr: errInvalidClient, wantBasic: true},
		{name: "unknown client basic", form: cc(), basic: []string{"nope", "x"}, wantStatus: 401, wantErr: errInvalidClient, wantBasic: true},
		{name: "wrong secret post", form: cc("client_id", devID, "client_secret", "wrong"), wantStatus: 401, wantErr: errInvalidClient},
		{name: "dev client without secret", form: cc("client_id", devID), wantStatus: 401, wantErr: errInvalidClient},
		{name: "no client at all", form: cc(), wantStatus: 401, wantErr: errInvalidClient},
		{name: "two methods", form: cc("client_secret", devSecret), basic: []string{devID, devSecret}, wantStatus: 400, wantErr: errInvalidRequest},
		{name: "body id differs from basic", form: cc("client_id", pubID), basic: []string{devID, devSecret}, wantStatus: 400, wantErr: errInvalidRequest},
		{name: "public client may not use client_credentials", form: cc("client_id", pubID), wantStatus: 400, wantErr: errUnauthorizedClient},
		{name: "registered confidential may not use client_credentials", form: cc(), basic: []string{basicReg["client_id"].(string), basicReg["client_secret"].(string)}, wantStatus: 400, wantErr: errUnauthorizedClient},
		{name: "basic client must not use post", form: cc("client_id", basicReg["client_id"].(string), "client_secret", basicReg["client_secret"].(string)), wantStatus: 401, wantErr: errInvalidClient},
		{name: "post client must not use basic", form: cc(), basic: []string{postReg["client_id"].(string), postReg["client_secret"].(string)}, wantStatus: 401, wantErr: errInvalidClient, wantBasic: true},
		{name: "public client presenting a secret", form: cc("client_id", pubID, "client_secret", "x"), wantStatus: 401, wantErr: errInvalidClient},
		{name: "client_credentials unknown resource", form: cc("resource", "http://127.0.0.1:9999/mcp"), basic: []string{devID, devSecret}, wantStatus: 400, wantErr: errInvalidTarget},
		{name: "client_credentials unknown scope", form: cc("scope", "root"), basic: []string{devID, devSecret}, wantStatus: 400, wantErr: errInvalidScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, m := f.token(tt.form, tt.basic...)
			if w.Code != tt.wantStatus || (tt.wantErr != "" && m["error"] != tt.wantErr) {
				t.Fatalf("got %d %v, want %d %s", w.Code, m, tt.wantStatus, tt.wantErr)
			}
			if got := strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Basic"); got != tt.wantBasic {
				t.Errorf("Basic challenge = %v, want %v", got, tt.wantBasic)
			}
			if tt.wantStatus != 200 {
				return
			}
			if m["refresh_token"] != nil {
				t.Error("client_credentials must not return a refresh token")
			}
			tok := f.verify(m["access_token"].(string), testResource)
			if tok.Subject() != devID {
				t.Errorf("sub %q, want the client id", tok.Subject())
			}
		})
	}
}

func TestIDToken(t *testing.T) {
	f := newFixture(t)
	id := f.publicClient()
	q := authParams(id)
	q.Set("scope", "openid mcp:tools")
	q.Set("nonce", "n-0S6")
	_, m := f.exchange(id, f.code(q))
	raw, _ := m["id_token"].(string)
	if raw == "" {
		t.Fatalf("no id_token: %v", m)
	}
	tok := f.verify(raw, id)
	if nonce, _ := tok.Get("nonce"); nonce != "n-0S6" || tok.Subject() != "dev-user" {
		t.Errorf("id token claims wrong")
	}
	if m["scope"] != "openid mcp:tools" {
		t.Errorf("scope %v", m["scope"])
	}
}

func TestTokenRequestFormat(t *testing.T) {
	f := newFixture(t)
	devID, devSecret := f.s.DevClient()
	tests := []struct {
		name, method, ctype, body string
		wantStatus                int
	}{
		{"json body refused", http.MethodPost, "application/json", `{"grant_type":"client_credentials"}`, 400},
		{"GET refused", http.MethodGet, "", "", 405},
		{"oversized body", http.MethodPost, "application/x-www-form-urlencoded", "grant_type=client_credentials&x=" + strings.Repeat("a", maxBodyBytes), 413},
		{"bad escape", http.MethodPost, "application/x-www-form-urlencoded", "grant_type=%zz", 400},
		{"query parameters ignored", http.MethodPost, "application/x-www-form-urlencoded", "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/token?grant_type=client_credentials", strings.NewReader(tt.body))
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			r.SetBasicAuth(devID, devSecret)
			w := f.do(r)
			m := decode(t, w)
			if w.Code != tt.wantStatus || m["error"] == nil {
				t.Fatalf("got %d %v, want %d with an error body", w.Code, m, tt.wantStatus)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	f := newFixture(t)
	id := f.publicClient()
	_, m := f.exchange(id, f.code(authParams(id)))
	rt := m["refresh_token"].(string)
	post := func(form url.Values) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/revoke", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return f.do(r)
	}
	if w := post(url.Values{"token": {rt}, "client_id": {f.publicClient()}}); w.Code != 200 {
		t.Fatalf("revoke by other client: %d", w.Code)
	}
	if f.s.peekRefresh(rt, id) == nil {
		t.Fatal("another client revoked the token")
	}
	if w := post(url.Values{"token": {rt}, "client_id": {id}}); w.Code != 200 {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	if _, m := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {id}}); m["error"] != errInvalidGrant {
		t.Fatalf("revoked token still works: %v", m)
	}
	if w := post(url.Values{"client_id": {id}}); w.Code != 400 {
		t.Fatalf("missing token: %d", w.Code)
	}
}

// TestClientCredentialsNeedsConfidentialClient guards RFC 6749 §4.4 even for
// a (hypothetical) public client allowed the grant.
func TestClientCredentialsNeedsConfidentialClient(t *testing.T) {
	f := newFixture(t)
	f.s.addClient(&client{ID: "pub-cc", AuthMethod: authNone, GrantTypes: []string{grantClientCredentials}})
	w, m := f.token(url.Values{"grant_type": {"client_credentials"}, "client_id": {"pub-cc"}})
	if w.Code != 400 || m["error"] != errUnauthorizedClient {
		t.Fatalf("got %d %v", w.Code, m)
	}
}
