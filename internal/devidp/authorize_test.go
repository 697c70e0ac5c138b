package devidp

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestAuthorizeNoRedirect covers errors shown as 400 JSON because the
// redirect URI is not (yet) trusted (RFC 6749 §4.1.2.1).
func TestAuthorizeNoRedirect(t *testing.T) {
	tests := []struct {
		name string
		mod  func(q url.Values)
	}{
		{"missing client_id", func(q url.Values) { q.Del("client_id") }},
		{"unknown client_id", func(q url.Values) { q.Set("client_id", "nope") }},
		{"redirect mismatch path", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:33418/other") }},
		{"registered port must match", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:50123/callback") }},
		{"redirect mismatch host", func(q url.Values) { q.Set("redirect_uri", "http://localhost:33418/callback") }},
		{"redirect mismatch query", func(q url.Values) { q.Set("redirect_uri", testRedirect+"?x=1") }},
		{"redirect https instead of http", func(q url.Values) { q.Set("redirect_uri", "https://127.0.0.1:33418/callback") }},
		{"redirect attacker", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/callback") }},
		{"repeated redirect_uri", func(q url.Values) { q.Add("redirect_uri", testRedirect) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			q := authParams(f.publicClient())
			tt.mod(q)
			w := f.authorize(q)
			if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" {
				t.Fatalf("want 400 without redirect, got %d %q", w.Code, w.Header().Get("Location"))
			}
			if m := decode(t, w); m["error"] != errInvalidRequest {
				t.Errorf("error = %v", m)
			}
		})
	}
}

// TestAuthorizeRedirectErrors covers errors sent back to the client.
func TestAuthorizeRedirectErrors(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(q url.Values)
		wantErr string
	}{
		{"plain method refused", func(q url.Values) {
			q.Set("code_challenge_method", "plain")
			q.Set("code_challenge", testVerifier)
		}, errInvalidRequest},
		{"absent method means plain", func(q url.Values) { q.Del("code_challenge_method") }, errInvalidRequest},
		{"missing challenge", func(q url.Values) { q.Del("code_challenge") }, errInvalidRequest},
		{"malformed challenge", func(q url.Values) { q.Set("code_challenge", "short") }, errInvalidRequest},
		{"response_type token", func(q url.Values) { q.Set("response_type", "token") }, errUnsupportedResponseType},
		{"missing response_type", func(q url.Values) { q.Del("response_type") }, errInvalidRequest},
		{"unknown resource", func(q url.Values) { q.Set("resource", "http://127.0.0.1:9999/mcp") }, errInvalidTarget},
		{"resource with fragment", func(q url.Values) { q.Set("resource", testResource+"#x") }, errInvalidTarget},
		{"relative resource", func(q url.Values) { q.Set("resource", "/mcp") }, errInvalidTarget},
		{"unknown scope", func(q url.Values) { q.Set("scope", "mcp:tools mcp:root") }, errInvalidScope},
		{"repeated scope", func(q url.Values) { q["scope"] = []string{"mcp:tools", "mcp:admin"} }, errInvalidRequest},
		{"login_hint too long", func(q url.Values) { q.Set("login_hint", strings.Repeat("u", maxLoginHint+1)) }, errInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			q := authParams(f.publicClient())
			tt.mod(q)
			loc := location(t, f.authorize(q))
			got := loc.Query()
			if got.Get("error") != tt.wantErr || got.Get("code") != "" {
				t.Fatalf("redirect %s, want error=%s", loc, tt.wantErr)
			}
			if got.Get("state") != "xyz" || got.Get("iss") != testIssuer {
				t.Errorf("state/iss not echoed: %s", loc)
			}
			if loc.Scheme+"://"+loc.Host+loc.Path != testRedirect {
				t.Errorf("redirected to %s", loc)
			}
		})
	}
}

func TestAuthorizeSuccess(t *testing.T) {
	tests := []struct {
		name         string
		registered   string
		redirect     string // "" omits redirect_uri
		mod          func(q url.Values)
		wantRedirect string
		wantSubject  string
		wantScopes   string
		wantResource string
	}{
		{name: "exact match", registered: testRedirect, redirect: testRedirect, wantRedirect: testRedirect},
		{name: "loopback without port registered", registered: "http://127.0.0.1/callback", redirect: "http://127.0.0.1:50123/callback", wantRedirect: "http://127.0.0.1:50123/callback"},
		{name: "localhost without port registered", registered: "http://localhost/callback", redirect: "http://localhost:54321/callback", wantRedirect: "http://localhost:54321/callback"},
		{name: "ipv6 loopback without port registered", registered: "http://[::1]/cb", redirect: "http://[::1]:2/cb", wantRedirect: "http://[::1]:2/cb"},
		{name: "private-use scheme", registered: "cursor://anysphere.cursor-mcp/oauth/callback", redirect: "cursor://anysphere.cursor-mcp/oauth/callback", wantRedirect: "cursor://anysphere.cursor-mcp/oauth/callback"},
		{name: "reverse-domain private-use scheme", registered: "com.example.app:/oauth2redirect", redirect: "com.example.app:/oauth2redirect", wantRedirect: "com.example.app:/oauth2redirect"},
		{name: "omitted with single registered uri", registered: testRedirect, wantRedirect: testRedirect},
		{name: "existing query kept", registered: "http://127.0.0.1:5000/cb?tenant=a", redirect: "http://127.0.0.1:5000/cb?tenant=a", wantRedirect: "http://127.0.0.1:5000/cb?tenant=a"},
		{name: "login_hint chooses subject", registered: testRedirect, redirect: testRedirect, wantRedirect: testRedirect,
			mod: func(q url.Values) { q.Set("login_hint", "alice@example.com") }, wantSubject: "alice@example.com"},
		{name: "scope subset kept", registered: testRedirect, redirect: testRedirect, wantRedirect: testRedirect,
			mod: func(q url.Values) { q.Set("scope", "mcp:tools offline_access") }, wantScopes: "mcp:tools"},
		{name: "resource canonicalized", registered: testRedirect, redirect: testRedirect, wantRedirect: testRedirect,
			mod: func(q url.Values) { q.Set("resource", "HTTP://127.0.0.1:8080/mcp/") }, wantResource: testResource},
		{name: "no resource", registered: testRedirect, redirect: testRedirect, wantRedirect: testRedirect,
			mod: func(q url.Values) { q.Del("resource") }, wantResource: "-"},
		{name: "POST form", registered: testRedirect, redirect: testRedirect, wantRedirect: testRedirect,
			mod: func(q url.Values) { q.Set("_post", "1") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, m := f.register(`{"redirect_uris":["` + tt.registered + `"]}`)
			q := authParams(m["client_id"].(string))
			q.Del("redirect_uri")
			if tt.redirect != "" {
				q.Set("redirect_uri", tt.redirect)
			}
			if tt.mod != nil {
				tt.mod(q)
			}
			var w *httptest.ResponseRecorder
			if q.Get("_post") != "" {
				q.Del("_post")
				r := httptest.NewRequest(http.MethodPost, "/authorize", strings.NewReader(q.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				w = f.do(r)
			} else {
				w = f.authorize(q)
			}
			loc := location(t, w)
			got := loc.Query()
			code := got.Get("code")
			if code == "" || got.Get("state") != "xyz" || got.Get("iss") != testIssuer {
				t.Fatalf("bad redirect %s", loc)
			}
			base := *loc
			bq := base.Query()
			for _, k := range []string{"code", "state", "iss"} {
				bq.Del(k)
			}
			base.RawQuery = bq.Encode()
			if base.String() != tt.wantRedirect {
				t.Errorf("redirected to %s, want %s", base.String(), tt.wantRedirect)
			}
			ac := f.s.codes[key(code)]
			if ac == nil {
				t.Fatal("code not stored")
			}
			if want := orDefault(tt.wantSubject, "dev-user"); ac.Subject != want {
				t.Errorf("subject %q, want %q", ac.Subject, want)
			}
			if want := orDefault(tt.wantScopes, "mcp:tools mcp:admin"); strings.Join(ac.Scopes, " ") != want {
				t.Errorf("scopes %q, want %q", ac.Scopes, want)
			}
			want := orDefault(tt.wantResource, testResource)
			if want == "-" {
				want = ""
			}
			if ac.Resource != want {
				t.Errorf("resource %q, want %q", ac.Resource, want)
			}
		})
	}
}

func TestAuthorizeRedirectRequiredWithSeveralRegistered(t *testing.T) {
	f := newFixture(t)
	_, m := f.register(`{"redirect_uris":["` + testRedirect + `","http://localhost:1234/cb"]}`)
	q := authParams(m["client_id"].(string))
	q.Del("redirect_uri")
	if w := f.authorize(q); w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" {
		t.Fatalf("want 400, got %d", w.Code)
	}
}

func TestAuthorizeDevClientLoopbackOnly(t *testing.T) {
	f := newFixture(t)
	id, _ := f.s.DevClient()
	q := authParams(id)
	if loc := location(t, f.authorize(q)); loc.Query().Get("code") == "" {
		t.Fatalf("dev client loopback redirect refused: %s", loc)
	}
	q.Set("redirect_uri", "https://evil.example/cb")
	if w := f.authorize(q); w.Code != http.StatusBadRequest {
		t.Fatalf("dev client non-loopback redirect: %d", w.Code)
	}
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
