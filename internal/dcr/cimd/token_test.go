package cimd

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

func newTestLogger(l *testkit.SafeBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fakeCognito is a stand-in for Cognito's /oauth2/token on loopback; it
// records what it received.
type fakeCognito struct {
	srv    *httptest.Server
	mu     sync.Mutex
	forms  []url.Values
	auths  []string
	status int
	body   string
}

func newFakeCognito(t *testing.T) *fakeCognito {
	t.Helper()
	c := &fakeCognito{status: 200, body: `{"access_token":"at","token_type":"Bearer","expires_in":3600}`}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		c.mu.Lock()
		c.forms = append(c.forms, form)
		c.auths = append(c.auths, r.Header.Get("Authorization"))
		status, body := c.status, c.body
		c.mu.Unlock()
		if r.URL.Path != "/oauth2/token" || r.Method != http.MethodPost ||
			r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad forward", http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Header().Set("Set-Cookie", "XSRF-TOKEN=secret") // must not be copied
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *fakeCognito) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.forms)
}

func tokenRequest(form url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// TestTokenCIMD proves a CIMD token request reaches Cognito with the
// mapped client_id and the rest of the form intact, that Cognito's status,
// Content-Type and body come back unchanged and not cacheable, and that no
// form value is logged.
func TestTokenCIMD(t *testing.T) {
	h := newDocHost(t)
	cg := newFakeCognito(t)
	logs := &testkit.SafeBuffer{}
	b := newTestBridge(t, h, &fakeRegistrar{}, cg.srv.URL, nil, logs)
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"client_id":     {h.url("/client.json")},
		"code":          {"SECRET-CODE-abc"},
		"code_verifier": {"SECRET-VERIFIER-0123456789012345678901234567890123"},
		"redirect_uri":  {"https://client.example/callback"},
		"resource":      {"https://gw.example/mcp"},
	}
	w := httptest.NewRecorder()
	b.Token(w, tokenRequest(form), nil)
	if w.Code != 200 || w.Body.String() != cg.body || w.Header().Get("Content-Type") != "application/json;charset=UTF-8" ||
		w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("response %d %v %q", w.Code, w.Header(), w.Body)
	}
	got := cg.forms[0]
	for k, v := range form {
		want := v[0]
		if k == "client_id" {
			want = "mappedclient123"
		}
		if got.Get(k) != want {
			t.Errorf("forwarded %s = %q, want %q", k, got.Get(k), want)
		}
	}
	if len(got) != len(form) || cg.auths[0] != "" {
		t.Errorf("forwarded form %v, Authorization %q", got, cg.auths[0])
	}
	for _, secret := range []string{"SECRET-CODE", "SECRET-VERIFIER", "access_token"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}

	// Cognito's refusal is copied back as is.
	cg.mu.Lock()
	cg.status, cg.body = 400, `{"error":"invalid_grant"}`
	cg.mu.Unlock()
	w = httptest.NewRecorder()
	b.Token(w, tokenRequest(form), nil)
	if w.Code != 400 || w.Body.String() != `{"error":"invalid_grant"}` {
		t.Fatalf("refusal not copied: %d %s", w.Code, w.Body)
	}
}

// TestTokenPassthrough proves an ordinary client's request (Basic
// authentication, Cognito client id) is forwarded with its credentials and
// client id unchanged.
func TestTokenPassthrough(t *testing.T) {
	h := newDocHost(t)
	cg := newFakeCognito(t)
	reg := &fakeRegistrar{}
	b := newTestBridge(t, h, reg, cg.srv.URL, nil, nil)
	r := tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt"}})
	r.SetBasicAuth("4l5d3q8j2h7k1m9n0p6r", "secret")
	w := httptest.NewRecorder()
	b.Token(w, r, nil)
	if w.Code != 200 || cg.auths[0] != r.Header.Get("Authorization") || cg.forms[0].Get("refresh_token") != "rt" ||
		cg.forms[0].Has("client_id") || reg.count() != 0 {
		t.Fatalf("%d auth %q form %v registrar %d", w.Code, cg.auths[0], cg.forms[0], reg.count())
	}
}

// TestTokenRefusals proves the bridge's own refusals, none of which reach
// Cognito except where Cognito itself is the problem.
func TestTokenRefusals(t *testing.T) {
	h := newDocHost(t)
	cg := newFakeCognito(t)
	b := newTestBridge(t, h, &fakeRegistrar{}, cg.srv.URL, nil, nil)
	doc := h.url("/client.json")
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	tests := []struct {
		name, method, ct, body, basicUser string
		status                            int
		code                              string
	}{
		{"unfetchable CIMD client", "POST", "", form("grant_type", "authorization_code", "client_id", h.url("/missing.json"), "code", "c"), "", 401, "invalid_client"},
		{"unknown CIMD host", "POST", "", form("client_id", "https://169.254.169.254/c"), "", 401, "invalid_client"},
		{"http CIMD client", "POST", "", form("client_id", "http://client.example/c"), "", 401, "invalid_client"},
		{"CIMD with Basic", "POST", "", form("code", "c"), doc, 401, "invalid_client"},
		{"no client id", "POST", "", form("grant_type", "authorization_code"), "", 401, "invalid_client"},
		{"ids differ", "POST", "", form("client_id", doc), "other", 400, "invalid_request"},
		{"repeated client_id", "POST", "", form("client_id", doc, "client_id", "x"), "", 400, "invalid_request"},
		{"json body", "POST", "application/json", `{"client_id":"x"}`, "", 400, "invalid_request"},
		{"too large", "POST", "", form("client_id", "x", "pad", strings.Repeat("a", MaxRequestBytes)), "", 413, "invalid_request"},
		{"GET", "GET", "", "", "", 405, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/token", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.ct != "" {
				r.Header.Set("Content-Type", tt.ct)
			}
			if tt.basicUser != "" {
				r.SetBasicAuth(url.QueryEscape(tt.basicUser), "")
			}
			w := httptest.NewRecorder()
			b.Token(w, r, nil)
			if w.Code != tt.status || decodeError(t, w) != tt.code {
				t.Fatalf("%d %s, want %d %s", w.Code, w.Body, tt.status, tt.code)
			}
		})
	}
	if n := cg.calls(); n != 0 {
		t.Fatalf("Cognito called %d times", n)
	}
}

// TestTokenUpstreamFailures proves an oversized or unreachable Cognito
// answer becomes 502 server_error without leaking its content.
func TestTokenUpstreamFailures(t *testing.T) {
	h := newDocHost(t)
	cg := newFakeCognito(t)
	cg.body = `{"access_token":"` + strings.Repeat("x", MaxTokenResponseBytes) + `"}`
	b := newTestBridge(t, h, &fakeRegistrar{}, cg.srv.URL, nil, nil)
	w := httptest.NewRecorder()
	b.Token(w, tokenRequest(url.Values{"client_id": {"abc"}, "grant_type": {"refresh_token"}}), nil)
	if w.Code != http.StatusBadGateway || decodeError(t, w) != "server_error" || strings.Contains(w.Body.String(), "xxxx") {
		t.Fatalf("oversized: %d %.200s", w.Code, w.Body)
	}

	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	b = newTestBridge(t, h, &fakeRegistrar{}, downURL, nil, nil)
	w = httptest.NewRecorder()
	b.Token(w, tokenRequest(url.Values{"client_id": {"abc"}}), nil)
	if w.Code != http.StatusBadGateway || decodeError(t, w) != "server_error" {
		t.Fatalf("unreachable: %d %s", w.Code, w.Body)
	}
}
