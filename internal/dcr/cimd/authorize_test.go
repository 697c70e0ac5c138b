package cimd

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// authzQuery is a valid authorization request for clientID and redirect
// URI ru, changed by mut (a value "" deletes the parameter).
func authzQuery(clientID, ru string, mut map[string]string) url.Values {
	q := url.Values{
		"client_id": {clientID}, "redirect_uri": {ru}, "response_type": {"code"}, "state": {"st-1"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "scope": {"mcp/tools"},
	}
	for k, v := range mut {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	return q
}

// authorizeGET runs one GET /authorize.
func authorizeGET(b *Bridge, q url.Values) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	b.Authorize(w, httptest.NewRequest(http.MethodGet, "/authorize?"+q.Encode(), nil), nil)
	return w
}

// location parses the answer's Location, failing unless it is a 302.
func location(t *testing.T, w *httptest.ResponseRecorder) *url.URL {
	t.Helper()
	if w.Code != http.StatusFound {
		t.Fatalf("status %d, want 302: %s", w.Code, w.Body)
	}
	u, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// registered is a DCR client the fake store knows.
var registered = &dcr.Registration{ClientID: "dcrclient1", Source: dcr.SourceDCR, Scopes: []string{"openid", "mcp/tools"},
	Metadata: dcr.ClientMetadata{RedirectURIs: []string{"https://claude.ai/api/mcp/auth_callback", "https://app.example/cb?tenant=a", "http://localhost/callback"}}}

// TestAuthorizeLoopbackPort proves that documents shaped like Claude
// Code's and VS Code's, which list portless loopback redirect URIs, admit
// the ports their clients send (RFC 8252 §7.3), that the exact URI is
// handed to the Registrar (to be added to the app client) and forwarded,
// and that anything but the port must still match.
func TestAuthorizeLoopbackPort(t *testing.T) {
	h := newDocHost(t)
	reg := &fakeRegistrar{}
	b := newTestBridge(t, h, reg, cognito, nil, nil)
	admitted := []struct{ doc, ru string }{
		{"/claude-code.json", "http://localhost:54321/callback"},
		{"/claude-code.json", "http://127.0.0.1:61000/callback"},
		{"/claude-code.json", "http://localhost/callback"},
		{"/vscode.json", "http://127.0.0.1:33418/"},
		{"/vscode.json", "https://vscode.dev/redirect"},
	}
	for _, tt := range admitted {
		loc := location(t, authorizeGET(b, authzQuery(h.url(tt.doc), tt.ru, nil)))
		if got := loc.Query(); got.Get("redirect_uri") != tt.ru || got.Get("client_id") != "mappedclient123" {
			t.Errorf("%s %s: forwarded %v", tt.doc, tt.ru, got)
		}
	}
	uses := reg.uses()
	if len(uses) != len(admitted) || uses[0] != "mappedclient123 http://localhost:54321/callback" {
		t.Fatalf("UseRedirectURI calls %v", uses)
	}
	refused := []struct{ doc, ru string }{
		{"/claude-code.json", "http://localhost:54321/other"},
		{"/claude-code.json", "https://localhost:54321/callback"},
		{"/claude-code.json", "http://evil.example:54321/callback"},
		{"/claude-code.json", "http://localhost:54321/callback?x=1"},
		{"/claude-code.json", "http://[::1]:54321/callback"},
		{"/vscode.json", "http://127.0.0.1:33418"},
		{"/vscode.json", "https://vscode.dev:8443/redirect"},
		{"/client.json", "http://127.0.0.1:33419/callback"}, // a registered port is exact
	}
	for _, tt := range refused {
		w := authorizeGET(b, authzQuery(h.url(tt.doc), tt.ru, nil))
		if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" || decodeError(t, w) != "invalid_request" {
			t.Errorf("%s %s: %d %q, want a JSON 400", tt.doc, tt.ru, w.Code, w.Header().Get("Location"))
		}
	}
	if len(reg.uses()) != len(admitted) {
		t.Fatal("a refused request reached UseRedirectURI")
	}
}

// TestAuthorizeStrict proves the request rules (response_type code, PKCE
// S256) for a CIMD client, for a client in the registration store, and for
// an unknown client id: errors are redirected (RFC 6749 §4.1.2.1, with
// state, without iss) to a verified redirect URI, JSON otherwise, and the
// request never reaches Cognito or the Registrar's callback update.
func TestAuthorizeStrict(t *testing.T) {
	h := newDocHost(t)
	reg := &fakeRegistrar{known: map[string]*dcr.Registration{registered.ClientID: registered}}
	b := newTestBridge(t, h, reg, cognito, nil, nil)
	rules := []struct {
		name string
		mut  map[string]string
		code string
		desc string
	}{
		{"no code_challenge", map[string]string{"code_challenge": "", "code_challenge_method": ""}, "invalid_request", "code_challenge is required"},
		{"no code_challenge with S256", map[string]string{"code_challenge": ""}, "invalid_request", "code_challenge is required"},
		{"method missing means plain", map[string]string{"code_challenge_method": ""}, "invalid_request", "method is plain"},
		{"plain", map[string]string{"code_challenge_method": "plain"}, "invalid_request", "must be S256"},
		{"lower-case s256", map[string]string{"code_challenge_method": "s256"}, "invalid_request", "must be S256"},
		{"short challenge", map[string]string{"code_challenge": "abc"}, "invalid_request", "43-character"},
		{"padded challenge", map[string]string{"code_challenge": challenge[:42] + "="}, "invalid_request", "43-character"},
		{"no response_type", map[string]string{"response_type": ""}, "invalid_request", "response_type is required"},
		{"token response_type", map[string]string{"response_type": "token"}, "unsupported_response_type", "code"},
		{"hybrid response_type", map[string]string{"response_type": "code id_token"}, "unsupported_response_type", "code"},
	}
	clients := []struct {
		name, clientID, ru string
		redirects          bool
	}{
		{"cimd", h.url("/claude-code.json"), "http://localhost:50000/callback", true},
		{"registered", registered.ClientID, "https://app.example/cb?tenant=a", true},
		{"registered loopback port", registered.ClientID, "http://localhost:50001/callback", true},
		{"unknown", "4l5d3q8j2h7k1m9n0p6r", "https://claude.ai/api/mcp/auth_callback", false},
	}
	for _, c := range clients {
		for _, r := range rules {
			t.Run(c.name+"/"+r.name, func(t *testing.T) {
				w := authorizeGET(b, authzQuery(c.clientID, c.ru, r.mut))
				if !c.redirects {
					if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" || decodeError(t, w) != r.code {
						t.Fatalf("%d %q %s, want a JSON 400 %s", w.Code, w.Header().Get("Location"), w.Body, r.code)
					}
					return
				}
				loc := location(t, w)
				if strings.HasPrefix(loc.String(), cognito) || !strings.HasPrefix(loc.String(), c.ru+map[bool]string{true: "&", false: "?"}[strings.Contains(c.ru, "?")]) {
					t.Fatalf("Location %s, want the client's %s", loc, c.ru)
				}
				got := loc.Query()
				if got.Get("error") != r.code || !strings.Contains(got.Get("error_description"), r.desc) || got.Get("state") != "st-1" || got.Has("iss") {
					t.Fatalf("error parameters %v", got)
				}
				if strings.Contains(c.ru, "tenant=a") && got.Get("tenant") != "a" {
					t.Fatalf("the redirect URI's own query was lost: %s", loc)
				}
			})
		}
	}
	if len(reg.uses()) != 0 {
		t.Fatalf("refused requests reached UseRedirectURI: %v", reg.uses())
	}
	// Without state, the error redirect has none.
	loc := location(t, authorizeGET(b, authzQuery(registered.ClientID, "https://app.example/cb?tenant=a", map[string]string{"state": "", "code_challenge_method": "plain"})))
	if loc.Query().Has("state") {
		t.Fatalf("state invented: %s", loc)
	}
}

// TestAuthorizeClientChecks proves the client and redirect URI checks of
// a non-CIMD client id come first and answer JSON, never a redirect.
func TestAuthorizeClientChecks(t *testing.T) {
	h := newDocHost(t)
	reg := &fakeRegistrar{known: map[string]*dcr.Registration{registered.ClientID: registered},
		errs: map[string]error{"brokenstore": errors.New("dynamodb: unavailable")}}
	b := newTestBridge(t, h, reg, cognito, nil, nil)
	tests := []struct {
		name     string
		q        url.Values
		status   int
		code     string
		location bool
	}{
		{"registered, redirect_uri not registered", authzQuery(registered.ClientID, "https://evil.example/cb", nil), 400, "invalid_request", false},
		{"registered, redirect_uri missing", authzQuery(registered.ClientID, "https://claude.ai/api/mcp/auth_callback", map[string]string{"redirect_uri": ""}), 400, "invalid_request", false},
		{"registered, other query", authzQuery(registered.ClientID, "https://app.example/cb?tenant=b", nil), 400, "invalid_request", false},
		{"unknown, redirect_uri missing", authzQuery("4l5d3q8j2h7k1m9n0p6r", "x", map[string]string{"redirect_uri": ""}), 400, "invalid_request", false},
		{"store failure", authzQuery("brokenstore", "https://claude.ai/api/mcp/auth_callback", nil), 503, "temporarily_unavailable", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := authorizeGET(b, tt.q)
			if w.Code != tt.status || w.Header().Get("Location") != "" || decodeError(t, w) != tt.code {
				t.Fatalf("%d %q %s", w.Code, w.Header().Get("Location"), w.Body)
			}
		})
	}
	// A registered client's valid request goes to Cognito, through
	// UseRedirectURI, as is.
	q := authzQuery(registered.ClientID, "http://localhost:50002/callback", nil)
	loc := location(t, authorizeGET(b, q))
	if loc.Scheme+"://"+loc.Host != cognito || loc.Query().Get("client_id") != registered.ClientID || loc.Query().Get("redirect_uri") != "http://localhost:50002/callback" {
		t.Fatalf("Location %s", loc)
	}
	if u := reg.uses(); len(u) != 1 || u[0] != "dcrclient1 http://localhost:50002/callback" {
		t.Fatalf("UseRedirectURI calls %v", u)
	}
}

// TestAuthorizeDefaultScope proves a request without scope gets the
// configured default scopes: those the client registered when the store
// knows it (all its scopes when it registered none of them), all of them
// otherwise; and that a request with scope, or no configured default,
// leaves it alone.
func TestAuthorizeDefaultScope(t *testing.T) {
	h := newDocHost(t)
	narrow := &dcr.Registration{ClientID: "narrowclient", Scopes: []string{"openid"},
		Metadata: dcr.ClientMetadata{RedirectURIs: []string{"https://claude.ai/api/mcp/auth_callback"}}}
	reg := &fakeRegistrar{known: map[string]*dcr.Registration{registered.ClientID: registered, narrow.ClientID: narrow}}
	with := newTestBridgeWith(t, h, reg, []string{"mcp/tools", "mcp/admin"})
	without := newTestBridgeWith(t, h, reg, nil)
	cb := "https://claude.ai/api/mcp/auth_callback"
	tests := []struct {
		name     string
		b        *Bridge
		clientID string
		scope    string // "" removes it; "-" sends it empty
		want     string
		has      bool
	}{
		{"registered: defaults it registered", with, registered.ClientID, "", "mcp/tools", true},
		{"registered, empty scope", with, registered.ClientID, "-", "mcp/tools", true},
		{"registered none of them: its own", with, narrow.ClientID, "", "openid", true},
		{"unknown: all defaults", with, "4l5d3q8j2h7k1m9n0p6r", "", "mcp/tools mcp/admin", true},
		{"scope sent", with, registered.ClientID, "openid", "openid", true},
		{"no default configured", without, registered.ClientID, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mut := map[string]string{"scope": tt.scope}
			q := authzQuery(tt.clientID, cb, mut)
			if tt.scope == "-" {
				q.Set("scope", "")
			}
			got := location(t, authorizeGET(tt.b, q)).Query()
			if got.Get("scope") != tt.want || got.Has("scope") != tt.has {
				t.Fatalf("scope %q (present %v), want %q", got.Get("scope"), got.Has("scope"), tt.want)
			}
		})
	}
	// A CIMD client's defaults are those of its mapped registration.
	got := location(t, authorizeGET(with, authzQuery(h.url("/client.json"), "https://client.example/callback", map[string]string{"scope": ""}))).Query()
	if got.Get("scope") != "openid mcp/read" {
		t.Fatalf("CIMD default scope %q, want the document's own (none of the defaults registered)", got.Get("scope"))
	}
}

// TestAuthorizeCallbackFailure proves a failure to add the callback URL is
// reported to the verified redirect URI, not sent on to Cognito.
func TestAuthorizeCallbackFailure(t *testing.T) {
	h := newDocHost(t)
	reg := &fakeRegistrar{}
	b := newTestBridge(t, h, reg, cognito, nil, nil)
	for _, tt := range []struct {
		err  error
		code string
	}{
		{&bearer.Error{Status: http.StatusConflict, Code: "temporarily_unavailable", Description: "retry"}, "temporarily_unavailable"},
		{&bearer.Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: `redirect_uri "x" is odd`}, "invalid_request"},
		{errors.New("cognito: TooManyRequestsException"), "server_error"},
	} {
		reg.useErr = tt.err
		loc := location(t, authorizeGET(b, authzQuery(h.url("/claude-code.json"), "http://localhost:50003/callback", nil)))
		got := loc.Query()
		if !strings.HasPrefix(loc.String(), "http://localhost:50003/callback?") || got.Get("error") != tt.code ||
			strings.ContainsAny(got.Get("error_description"), `"\`) || strings.Contains(got.Get("error_description"), "TooMany") {
			t.Errorf("Location %s", loc)
		}
	}
}

func newTestBridgeWith(t *testing.T, h *docHost, reg *fakeRegistrar, defaults []string) *Bridge {
	t.Helper()
	b, err := NewBridge(BridgeOptions{Fetcher: testFetcher(h, nil), Registrar: reg, CognitoDomain: cognito, DefaultScopes: defaults})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
