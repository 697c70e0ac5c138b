package cimd

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

const (
	cognito = "https://auth.example.amazoncognito.com"
	// challenge is RFC 7636 Appendix B's S256 code challenge.
	challenge = "E9Melhoe2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// newTestBridge builds a bridge over the loopback metadata host with a
// fake registrar; Cognito is cognitoURL (no network for /authorize).
func newTestBridge(t *testing.T, h *docHost, reg *fakeRegistrar, cognitoURL string, client *http.Client, logs *testkit.SafeBuffer) *Bridge {
	t.Helper()
	o := BridgeOptions{Fetcher: testFetcher(h, nil), Registrar: reg, CognitoDomain: cognitoURL, HTTPClient: client}
	if logs != nil {
		o.Logger = newTestLogger(logs)
	}
	b, err := NewBridge(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeError reads an OAuth error body and checks it is not cacheable.
func decodeError(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct{ Error string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" {
		t.Fatalf("error body %q: %v", w.Body.String(), err)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Error("error response cacheable")
	}
	return body.Error
}

// TestAuthorizeCIMD proves a CIMD authorization request is redirected to
// Cognito with the mapped client id and every other parameter unchanged,
// by GET and by POST.
func TestAuthorizeCIMD(t *testing.T) {
	h := newDocHost(t)
	reg := &fakeRegistrar{}
	b := newTestBridge(t, h, reg, cognito, nil, nil)
	params := url.Values{
		"client_id":             {h.url("/client.json")},
		"redirect_uri":          {"http://127.0.0.1:33418/callback"},
		"response_type":         {"code"},
		"state":                 {"st&ate=1"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
		"scope":                 {"openid mcp/read"},
		"resource":              {"https://gw.example/mcp"},
		"login_hint":            {"user@corp.example"},
		"nonce":                 {"n-0S6"},
		"identity_provider":     {"CorpSAML"},
	}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			var r *http.Request
			if method == http.MethodGet {
				r = httptest.NewRequest(method, "/authorize?"+params.Encode(), nil)
			} else {
				r = httptest.NewRequest(method, "/authorize", strings.NewReader(params.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			w := httptest.NewRecorder()
			b.Authorize(w, r, nil)
			if w.Code != http.StatusFound {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			loc, err := url.Parse(w.Header().Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			if loc.Scheme+"://"+loc.Host != cognito || loc.Path != "/oauth2/authorize" {
				t.Fatalf("Location %s", loc)
			}
			got := loc.Query()
			for k, v := range params {
				want := v[0]
				if k == "client_id" {
					want = "mappedclient123"
				}
				if got.Get(k) != want || len(got[k]) != 1 {
					t.Errorf("%s = %q, want %q", k, got[k], want)
				}
			}
			if len(got) != len(params) {
				t.Errorf("Location has %d parameters, want %d", len(got), len(params))
			}
		})
	}
	if reg.count() != 2 || reg.calls[0] != h.url("/client.json") || reg.mds[0].ClientName != "Example MCP Client" {
		t.Fatalf("registrar calls %v %+v", reg.calls, reg.mds)
	}
	if uses := reg.uses(); len(uses) != 2 || uses[0] != "mappedclient123 http://127.0.0.1:33418/callback" {
		t.Fatalf("UseRedirectURI calls %v", uses)
	}
}

// TestAuthorizeRefusals proves every refusal answers with a JSON error and
// never redirects to an unverified redirect URI.
func TestAuthorizeRefusals(t *testing.T) {
	h := newDocHost(t)
	doc := h.url("/client.json")
	policy := h.url("/plus.json")
	broken := h.url("/text.json")
	reg := &fakeRegistrar{errs: map[string]error{
		policy: &bearer.Error{Status: http.StatusBadRequest, Code: "invalid_redirect_uri", Description: "scheme not allowed"},
		broken: errors.New("dynamodb: throttled"),
	}}
	b := newTestBridge(t, h, reg, cognito, nil, nil)
	cb := "&redirect_uri=" + url.QueryEscape("https://client.example/callback")
	tests := []struct {
		name, method, query string
		status              int
		code                string
	}{
		{"unlisted redirect_uri", "GET", "client_id=" + url.QueryEscape(doc) + "&redirect_uri=" + url.QueryEscape("https://evil.example/cb"), 400, "invalid_request"},
		{"redirect_uri prefix only", "GET", "client_id=" + url.QueryEscape(doc) + "&redirect_uri=" + url.QueryEscape("https://client.example/callback/x"), 400, "invalid_request"},
		{"missing redirect_uri", "GET", "client_id=" + url.QueryEscape(doc), 400, "invalid_request"},
		{"repeated redirect_uri", "GET", "client_id=" + url.QueryEscape(doc) + cb + "&redirect_uri=" + url.QueryEscape("https://evil.example/cb"), 400, "invalid_request"},
		{"missing client_id", "GET", "response_type=code" + cb, 400, "invalid_request"},
		{"empty client_id", "GET", "client_id=" + cb, 400, "invalid_request"},
		{"unfetchable document", "GET", "client_id=" + url.QueryEscape(h.url("/missing.json")) + cb, 400, "invalid_client"},
		{"document mismatch", "GET", "client_id=" + url.QueryEscape(h.url("/mismatch.json")) + cb, 400, "invalid_client"},
		{"http client_id", "GET", "client_id=" + url.QueryEscape("http://client.example/c") + cb, 400, "invalid_client"},
		{"private client_id host", "GET", "client_id=" + url.QueryEscape("https://10.0.0.1/c") + cb, 400, "invalid_client"},
		{"registrar policy", "GET", "client_id=" + url.QueryEscape(policy) + cb, 400, "invalid_redirect_uri"},
		{"malformed query", "GET", "client_id=%zz", 400, "invalid_request"},
		{"wrong method", "PUT", "client_id=abc", 405, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			b.Authorize(w, httptest.NewRequest(tt.method, "/authorize?"+tt.query, nil), nil)
			if w.Code != tt.status || w.Header().Get("Location") != "" {
				t.Fatalf("status %d Location %q, want %d and none", w.Code, w.Header().Get("Location"), tt.status)
			}
			if code := decodeError(t, w); code != tt.code {
				t.Fatalf("error %q, want %q", code, tt.code)
			}
		})
	}
	// A registrar failure that is not a policy refusal is a 503 (the text
	// document is refused by the fetcher first, so use a good document).
	reg.errs[doc] = errors.New("cognito: LimitExceededException")
	w := httptest.NewRecorder()
	b.Authorize(w, httptest.NewRequest("GET", "/authorize?client_id="+url.QueryEscape(doc)+cb, nil), nil)
	if w.Code != http.StatusServiceUnavailable || decodeError(t, w) != "temporarily_unavailable" || strings.Contains(w.Body.String(), "LimitExceeded") {
		t.Fatalf("registrar failure: %d %s", w.Code, w.Body)
	}
}

// TestAuthorizePassthrough proves an ordinary Cognito client id is sent to
// Cognito with the query unchanged, without fetching or registering.
func TestAuthorizePassthrough(t *testing.T) {
	h := newDocHost(t)
	reg := &fakeRegistrar{}
	b := newTestBridge(t, h, reg, cognito+"/", nil, nil)
	raw := "response_type=code&client_id=4l5d3q8j2h7k1m9n0p6r&redirect_uri=https%3A%2F%2Fclaude.ai%2Fapi%2Fmcp%2Fauth_callback&state=xyz&scope=openid+mcp%2Fread" +
		"&code_challenge=" + challenge + "&code_challenge_method=S256"
	w := httptest.NewRecorder()
	b.Authorize(w, httptest.NewRequest("GET", "/authorize?"+raw, nil), nil)
	if w.Code != http.StatusFound || w.Header().Get("Location") != cognito+"/oauth2/authorize?"+raw {
		t.Fatalf("%d Location %q", w.Code, w.Header().Get("Location"))
	}
	if reg.count() != 0 || len(reg.uses()) != 0 {
		t.Fatal("registrar called for an ordinary client the store does not know")
	}
}

// TestNewBridge proves the options are checked.
func TestNewBridge(t *testing.T) {
	f := NewFetcher(FetcherOptions{})
	reg := &fakeRegistrar{}
	tests := []struct {
		domain string
		ok     bool
	}{
		{"https://auth.example.amazoncognito.com", true},
		{"https://auth.example.com/", true},
		{"http://127.0.0.1:9000", true},
		{"http://localhost:9000", true},
		{"http://auth.example.com", false},
		{"https://auth.example.com/oauth2", false},
		{"https://auth.example.com?x=1", false},
		{"https://u:p@auth.example.com", false},
		{"auth.example.com", false},
		{"", false},
	}
	for _, tt := range tests {
		if _, err := NewBridge(BridgeOptions{Fetcher: f, Registrar: reg, CognitoDomain: tt.domain}); (err == nil) != tt.ok {
			t.Errorf("NewBridge(%q) err = %v, want ok=%v", tt.domain, err, tt.ok)
		}
	}
	if _, err := NewBridge(BridgeOptions{Registrar: reg, CognitoDomain: cognito}); err == nil {
		t.Error("missing Fetcher accepted")
	}
	if _, err := NewBridge(BridgeOptions{Fetcher: f, CognitoDomain: cognito}); err == nil {
		t.Error("missing Registrar accepted")
	}
}
