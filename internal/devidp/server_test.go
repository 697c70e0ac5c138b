package devidp

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

func TestMetadataGolden(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Scopes = append(o.Scopes, "offline_access") })
	golden := filepath.Join("testdata", "metadata.golden.json")
	var first []byte
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		w := f.do(httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %v", path, w.Code, w.Header())
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, w.Body.Bytes(), "", "  "); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = pretty.Bytes()
		} else if !bytes.Equal(first, pretty.Bytes()) {
			t.Errorf("%s differs from the RFC 8414 document", path)
		}
	}
	testkit.Golden(t, golden, append(bytes.TrimRight(first, "\n"), '\n'))
	if bytes.Contains(first, []byte("offline_access")) {
		t.Error("offline_access advertised")
	}
}

func TestIssuerWithPath(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Issuer = "http://127.0.0.1:8081/idp/" })
	for _, path := range []string{"/.well-known/oauth-authorization-server/idp", "/.well-known/openid-configuration/idp", "/idp/.well-known/openid-configuration"} {
		w := f.do(httptest.NewRequest(http.MethodGet, path, nil))
		m := decode(t, w)
		if w.Code != 200 || m["issuer"] != "http://127.0.0.1:8081/idp" || m["token_endpoint"] != "http://127.0.0.1:8081/idp/token" {
			t.Fatalf("%s: %d %v", path, w.Code, m)
		}
	}
	if w := f.do(httptest.NewRequest(http.MethodGet, "/idp/jwks", nil)); w.Code != 200 {
		t.Fatalf("jwks under prefix: %d", w.Code)
	}
}

func TestJWKSEndpoint(t *testing.T) {
	f := newFixture(t)
	w := f.do(httptest.NewRequest(http.MethodGet, "/jwks", nil))
	if w.Code != 200 {
		t.Fatalf("jwks: %d", w.Code)
	}
	set, err := jwk.Parse(w.Body.Bytes())
	if err != nil || set.Len() != 1 {
		t.Fatalf("jwks: %v %s", err, w.Body)
	}
	k, _ := set.Key(0)
	if k.KeyID() == "" || k.Algorithm().String() != "RS256" || k.KeyUsage() != "sig" {
		t.Errorf("key metadata: %s", w.Body)
	}
	if strings.Contains(w.Body.String(), `"d"`) || strings.Contains(w.Body.String(), `"p"`) {
		t.Fatal("private key material published")
	}
}

// TestCORSPreflight: CORS routes answer a preflight from a loopback origin
// by echoing it; /authorize has no CORS.
func TestCORSPreflight(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path      string
		wantCORS  bool
		wantAllow string
	}{
		{"/.well-known/oauth-authorization-server", true, "GET"},
		{"/.well-known/openid-configuration", true, "GET"},
		{"/jwks", true, "GET"},
		{"/register", true, "POST"},
		{"/token", true, "POST"},
		{"/revoke", true, "POST"},
		{"/authorize", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodOptions, tt.path, nil)
			r.Header.Set("Origin", "http://localhost:6274")
			r.Header.Set("Access-Control-Request-Method", "POST")
			r.Header.Set("Access-Control-Request-Headers", "content-type, mcp-protocol-version")
			w := f.do(r)
			h := w.Header()
			if !tt.wantCORS {
				if w.Code != http.StatusMethodNotAllowed || h.Get("Access-Control-Allow-Origin") != "" {
					t.Fatalf("preflight on %s: %d %v", tt.path, w.Code, h)
				}
				return
			}
			if w.Code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "http://localhost:6274" ||
				!strings.Contains(h.Get("Access-Control-Allow-Methods"), tt.wantAllow) ||
				!strings.Contains(h.Get("Access-Control-Allow-Headers"), "mcp-protocol-version") ||
				!slices.Contains(h.Values("Vary"), "Origin") {
				t.Fatalf("preflight: %d %v", w.Code, h)
			}
		})
	}
}

// TestCORSOriginLocalOnly: only loopback origins are echoed; any other
// origin gets 403 and no CORS headers, on preflights and real requests, so
// a web page elsewhere can neither read answers nor post blindly.
func TestCORSOriginLocalOnly(t *testing.T) {
	tests := []struct {
		origin  string // "" sends none
		allowed bool
	}{
		{"", true},
		{"http://localhost:6274", true},
		{"http://127.0.0.1:3000", true},
		{"http://[::1]:8000", true},
		{"http://localhost", true},
		{"https://localhost:8443", true},
		{"https://evil.example", false},
		{"http://evil.example:6274", false},
		{"https://claude.ai", false},
		{"http://localhost.evil.example", false},
		{"http://127.0.0.1.nip.io", false},
		{"null", false},
		{"http://localhost:6274/path", false},
		{"file://", false},
		{"vscode-webview://abc", false},
	}
	requests := []struct {
		method, path, body, ctype string
	}{
		{http.MethodGet, "/.well-known/oauth-authorization-server", "", ""},
		{http.MethodOptions, "/register", "", ""},
		{http.MethodPost, "/register", `{"redirect_uris":["http://127.0.0.1/cb"]}`, "application/json"},
		{http.MethodPost, "/token", "grant_type=client_credentials", "application/x-www-form-urlencoded"},
		{http.MethodPost, "/authorize", "client_id=x", "application/x-www-form-urlencoded"},
	}
	for _, tt := range tests {
		for _, rq := range requests {
			t.Run(tt.origin+" "+rq.method+" "+rq.path, func(t *testing.T) {
				f := newFixture(t)
				r := httptest.NewRequest(rq.method, rq.path, strings.NewReader(rq.body))
				if rq.ctype != "" {
					r.Header.Set("Content-Type", rq.ctype)
				}
				if tt.origin != "" {
					r.Header.Set("Origin", tt.origin)
				}
				if rq.method == http.MethodOptions {
					r.Header.Set("Access-Control-Request-Method", "POST")
				}
				w := f.do(r)
				h := w.Header()
				if !slices.Contains(h.Values("Vary"), "Origin") {
					t.Errorf("no Vary: Origin: %v", h)
				}
				acao := h.Get("Access-Control-Allow-Origin")
				if !tt.allowed {
					if w.Code != http.StatusForbidden || acao != "" || h.Get("Access-Control-Allow-Methods") != "" ||
						!strings.Contains(decode(t, w)["error_description"].(string), "local-only") {
						t.Fatalf("foreign origin: %d %v %s", w.Code, h, w.Body)
					}
					if rq.path == "/register" && len(f.s.clients) != 1 {
						t.Fatal("a client was registered from a foreign origin")
					}
					return
				}
				if w.Code == http.StatusForbidden {
					t.Fatalf("loopback origin refused: %s", w.Body)
				}
				if rq.path != "/authorize" && acao != tt.origin {
					t.Errorf("Access-Control-Allow-Origin = %q, want %q", acao, tt.origin)
				}
			})
		}
	}
}

func TestCORSRepeatedOriginRefused(t *testing.T) {
	f := newFixture(t)
	r := httptest.NewRequest(http.MethodGet, "/jwks", nil)
	r.Header.Add("Origin", "http://localhost:1")
	r.Header.Add("Origin", "https://evil.example")
	if w := f.do(r); w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("repeated Origin: %d %v", w.Code, w.Header())
	}
}

func TestRouting(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/jwks", 405},
		{http.MethodGet, "/register", 405},
		{http.MethodDelete, "/authorize", 405},
		{http.MethodGet, "/nope", 404},
		{http.MethodHead, "/jwks", 200},
	}
	for _, tt := range tests {
		w := f.do(httptest.NewRequest(tt.method, tt.path, nil))
		if w.Code != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, w.Code, tt.want)
		}
		if tt.want >= 400 && decode(t, w)["error"] == nil {
			t.Errorf("%s %s: no JSON error", tt.method, tt.path)
		}
	}
}

func TestMintAccessToken(t *testing.T) {
	f := newFixture(t)
	raw, err := f.s.MintAccessToken("bob", "cli", testResource, []string{"mcp:tools"}, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tok := f.verify(raw, testResource)
	if tok.Subject() != "bob" || tok.Expiration().Sub(tok.IssuedAt()) != 5*time.Minute {
		t.Errorf("claims: sub=%s exp-iat=%s", tok.Subject(), tok.Expiration().Sub(tok.IssuedAt()))
	}
	if scope, _ := tok.Get("scope"); scope != "mcp:tools" {
		t.Errorf("scope %v", scope)
	}
	if h := jwtHeader(t, raw); h["typ"] != "at+jwt" {
		t.Errorf("typ %v", h["typ"])
	}
	f.clock.Advance(6 * time.Minute)
	if _, err := f.s.MintAccessToken("", "cli", "", nil, 0); err != nil {
		t.Fatal(err)
	}
	other := newFixture(t)
	other.s.pubSet = mustOtherKeySet(t)
	if _, err := parseWith(other.s.JWKS(), raw); err == nil {
		t.Error("token verifies against a foreign key set")
	}
}

func TestNewValidation(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"minimal", Options{Issuer: "http://127.0.0.1:8081"}, true},
		{"trailing slash tolerated", Options{Issuer: "http://127.0.0.1:8081/"}, true},
		{"empty issuer", Options{}, false},
		{"relative issuer", Options{Issuer: "/idp"}, false},
		{"issuer with query", Options{Issuer: "http://127.0.0.1:8081?x=1"}, false},
		{"issuer with fragment", Options{Issuer: "http://127.0.0.1:8081#x"}, false},
		{"ftp issuer", Options{Issuer: "ftp://127.0.0.1"}, false},
		{"bad resource", Options{Issuer: "http://127.0.0.1:8081", Resources: []string{"mcp"}}, false},
		{"bad scope", Options{Issuer: "http://127.0.0.1:8081", Scopes: []string{"a b"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.opts)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if s != nil && (s.subject != "dev-user" || s.accessTTL != time.Hour || s.refTTL != 24*time.Hour) {
				t.Errorf("defaults not applied")
			}
		})
	}
}

func TestDevClientSecretRandomAndNotLogged(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	g := newFixture(t)
	id, secret := f.s.DevClient()
	_, secret2 := g.s.DevClient()
	if id == "" || len(secret) < 32 || secret == secret2 {
		t.Fatalf("dev client secret not random: %q %q", secret, secret2)
	}
	_, m := f.token(url.Values{"grant_type": {"client_credentials"}}, id, secret)
	f.token(url.Values{"grant_type": {"client_credentials"}}, id, "wrong-secret")
	if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), m["access_token"].(string)) || strings.Contains(logs.String(), "wrong-secret") {
		t.Error("secret or token logged")
	}
}
