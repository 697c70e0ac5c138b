package devidp

import (
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cimd"
)

// Documents shaped like the published ones. {{URL}} is replaced by the
// document's own URL.
var testDocuments = map[string]string{
	// Claude Code: portless loopback redirects, ephemeral port at run time.
	"/claude-code.json": `{"client_id":"{{URL}}","client_name":"Claude Code","redirect_uris":["http://localhost/callback","http://127.0.0.1/callback"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"}`,
	// VS Code: a portless loopback redirect and a hosted one.
	"/vscode.json": `{"client_id":"{{URL}}","client_name":"Visual Studio Code","redirect_uris":["http://127.0.0.1/","https://vscode.dev/redirect"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"}`,
	// Cursor-like: a private-use scheme; no grant_types (RFC 7591 default).
	"/cursor.json":       `{"client_id":"{{URL}}","client_name":"Cursor","redirect_uris":["cursor://anysphere.cursor-mcp/oauth/callback"]}`,
	"/hosted-only.json":  `{"client_id":"{{URL}}","redirect_uris":["https://claude.ai/api/mcp/auth_callback"]}`,
	"/web-scheme.json":   `{"client_id":"{{URL}}","redirect_uris":["web+evil://x/cb"]}`,
	"/refresh-only.json": `{"client_id":"{{URL}}","redirect_uris":["http://127.0.0.1/cb"],"grant_types":["refresh_token"]}`,
	"/token-type.json":   `{"client_id":"{{URL}}","redirect_uris":["http://127.0.0.1/cb"],"response_types":["token"]}`,
	"/other-id.json":     `{"client_id":"https://elsewhere.example/client.json","redirect_uris":["http://127.0.0.1/cb"]}`,
	"/secret.json":       `{"client_id":"{{URL}}","redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"client_secret_basic"}`,
}

// docHost is a loopback https server serving testDocuments.
type docHost struct {
	srv *httptest.Server
}

func newDocHost(t *testing.T) *docHost {
	t.Helper()
	h := &docHost{}
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, ok := testDocuments[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(strings.ReplaceAll(doc, "{{URL}}", "https://"+r.Host+r.URL.Path)))
	}))
	h.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	h.srv.StartTLS()
	t.Cleanup(h.srv.Close)
	return h
}

func (h *docHost) url(path string) string { return h.srv.URL + path }

// trusting is the test-mode fetcher configuration: loopback hosts allowed,
// the doc host's certificate trusted.
func (h *docHost) trusting(o *Options) {
	pool := x509.NewCertPool()
	pool.AddCert(h.srv.Certificate())
	o.CIMD = cimd.FetcherOptions{InsecureAllowLoopback: true, RootCAs: pool}
}

// cimdParams is an authorization request for a document client.
func cimdParams(clientID, redirect string) url.Values {
	q := authParams(clientID)
	q.Set("redirect_uri", redirect)
	return q
}

// TestCIMDEndToEnd: a client whose client_id is its metadata document URL
// authorizes with an ephemeral loopback port (RFC 8252 §7.3 against the
// document's portless URI), exchanges the code as a public client with
// PKCE, and refreshes, all with the URL client_id.
func TestCIMDEndToEnd(t *testing.T) {
	host := newDocHost(t)
	tests := []struct {
		name, path, redirect string
		wantRefresh          bool
	}{
		{"claude code localhost", "/claude-code.json", "http://localhost:54321/callback", true},
		{"claude code 127.0.0.1", "/claude-code.json", "http://127.0.0.1:61000/callback", true},
		{"vscode loopback", "/vscode.json", "http://127.0.0.1:33418/", true},
		{"cursor private-use scheme, default grants", "/cursor.json", "cursor://anysphere.cursor-mcp/oauth/callback", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, host.trusting)
			id := host.url(tt.path)
			loc := location(t, f.authorize(cimdParams(id, tt.redirect)))
			code := loc.Query().Get("code")
			if code == "" || !strings.HasPrefix(loc.String(), tt.redirect+"?") {
				t.Fatalf("redirect %s", loc)
			}
			w, m := f.token(url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {tt.redirect},
				"code_verifier": {testVerifier}, "client_id": {id},
			})
			if w.Code != 200 {
				t.Fatalf("token: %d %s", w.Code, w.Body)
			}
			tok := f.verify(m["access_token"].(string), testResource)
			if cid, _ := tok.Get("client_id"); cid != id {
				t.Errorf("client_id claim %v, want %s", cid, id)
			}
			rt, _ := m["refresh_token"].(string)
			if (rt != "") != tt.wantRefresh {
				t.Fatalf("refresh token issued = %v, want %v", rt != "", tt.wantRefresh)
			}
			if rt == "" {
				return
			}
			w, m = f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {id}})
			if w.Code != 200 || m["access_token"] == nil || m["refresh_token"] == rt {
				t.Fatalf("refresh: %d %s", w.Code, w.Body)
			}
		})
	}
}

// TestCIMDAuthorizeRefused: failures before the redirect URI is trusted are
// 400 JSON, never redirects; the dev AS stays local-only for documents too,
// and document hosts are fetched only as the fetcher allows.
func TestCIMDAuthorizeRefused(t *testing.T) {
	host := newDocHost(t)
	tests := []struct {
		name, path, redirect string
		opts                 func(*Options) // host.trusting when nil
		wantErr, wantDesc    string
	}{
		{"vscode.dev not admitted", "/vscode.json", "https://vscode.dev/redirect", nil, errInvalidRequest, "dev mode is local-only"},
		{"unlisted loopback path", "/claude-code.json", "http://localhost:54321/other", nil, errInvalidRequest, "client metadata document"},
		{"https instead of http", "/claude-code.json", "https://localhost:54321/callback", nil, errInvalidRequest, "client metadata document"},
		{"redirect_uri omitted", "/cursor.json", "", nil, errInvalidRequest, "redirect_uri is required"},
		{"hosted-only document", "/hosted-only.json", "https://claude.ai/api/mcp/auth_callback", nil, errInvalidRequest, "dev mode is local-only"},
		{"web+ scheme in document", "/web-scheme.json", "web+evil://x/cb", nil, errInvalidRequest, "web page"},
		{"grant_types without authorization_code", "/refresh-only.json", "http://127.0.0.1:1/cb", nil, errInvalidClient, "authorization_code"},
		{"response_types without code", "/token-type.json", "http://127.0.0.1:1/cb", nil, errInvalidClient, "response_types"},
		{"client_id differs from URL", "/other-id.json", "http://127.0.0.1:1/cb", nil, errInvalidClient, "does not equal its URL"},
		{"confidential document", "/secret.json", "http://127.0.0.1:1/cb", nil, errInvalidClient, `"none"`},
		{"missing document", "/missing.json", "http://127.0.0.1:1/cb", nil, errInvalidClient, "HTTP 404"},
		{"loopback host without the test switch", "/claude-code.json", "http://localhost:1/callback", func(o *Options) {
			pool := x509.NewCertPool()
			pool.AddCert(host.srv.Certificate())
			o.CIMD = cimd.FetcherOptions{RootCAs: pool}
		}, errInvalidClient, "not a public address"},
		{"untrusted certificate without the CA switch", "/claude-code.json", "http://localhost:1/callback", func(o *Options) {
			o.CIMD = cimd.FetcherOptions{InsecureAllowLoopback: true}
		}, errInvalidClient, "could not be fetched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts == nil {
				opts = host.trusting
			}
			f := newFixture(t, opts)
			id := host.url(tt.path)
			q := cimdParams(id, tt.redirect)
			if tt.redirect == "" {
				q.Del("redirect_uri")
			}
			w := f.authorize(q)
			m := decode(t, w)
			desc, _ := m["error_description"].(string)
			if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" || m["error"] != tt.wantErr || !strings.Contains(desc, tt.wantDesc) {
				t.Fatalf("got %d %q %s, want 400 %s with %q", w.Code, w.Header().Get("Location"), w.Body, tt.wantErr, tt.wantDesc)
			}
		})
	}
	t.Run("http client_id URL", func(t *testing.T) {
		f := newFixture(t, host.trusting)
		w := f.authorize(cimdParams(strings.Replace(host.url("/claude-code.json"), "https:", "http:", 1), "http://localhost:1/callback"))
		if m := decode(t, w); w.Code != 400 || m["error"] != errInvalidClient || !strings.Contains(m["error_description"].(string), "https") {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
	})
}

// TestCIMDPKCERequired: a document client is held to PKCE S256 like every
// client; the error goes back to its (trusted) redirect URI.
func TestCIMDPKCERequired(t *testing.T) {
	host := newDocHost(t)
	f := newFixture(t, host.trusting)
	q := cimdParams(host.url("/claude-code.json"), "http://localhost:54321/callback")
	q.Del("code_challenge")
	q.Del("code_challenge_method")
	if loc := location(t, f.authorize(q)); loc.Query().Get("error") != errInvalidRequest || loc.Query().Get("code") != "" {
		t.Fatalf("redirect %s", loc)
	}
}

// TestCIMDTokenEndpoint: the URL client_id is a public client at /token
// (no secret accepted), a code is bound to the document it was issued to,
// and a client no longer in memory is fetched again.
func TestCIMDTokenEndpoint(t *testing.T) {
	host := newDocHost(t)
	claude, vscode := host.url("/claude-code.json"), host.url("/vscode.json")
	redirect := "http://localhost:54321/callback"
	exchange := func(f *fixture, clientID, code string, extra url.Values) (*httptest.ResponseRecorder, map[string]any) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
			"code_verifier": {testVerifier}, "client_id": {clientID}}
		for k, v := range extra {
			form[k] = v
		}
		return f.token(form)
	}

	t.Run("secret refused", func(t *testing.T) {
		f := newFixture(t, host.trusting)
		code := f.code(cimdParams(claude, redirect))
		if w, m := exchange(f, claude, code, url.Values{"client_secret": {"x"}}); w.Code != 401 || m["error"] != errInvalidClient {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
	})
	t.Run("code bound to its document", func(t *testing.T) {
		f := newFixture(t, host.trusting)
		code := f.code(cimdParams(claude, redirect))
		if w, m := exchange(f, vscode, code, nil); w.Code != 400 || m["error"] != errInvalidGrant {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
	})
	t.Run("redirect_uri must repeat the authorization request's", func(t *testing.T) {
		f := newFixture(t, host.trusting)
		code := f.code(cimdParams(claude, redirect))
		if w, m := exchange(f, claude, code, url.Values{"redirect_uri": {"http://localhost:54322/callback"}}); w.Code != 400 || m["error"] != errInvalidGrant {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
	})
	t.Run("evicted client fetched again", func(t *testing.T) {
		f := newFixture(t, host.trusting)
		code := f.code(cimdParams(claude, redirect))
		f.s.mu.Lock()
		delete(f.s.clients, claude)
		f.s.mu.Unlock()
		if w, _ := exchange(f, claude, code, nil); w.Code != 200 {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
		if f.s.lookupClient(claude) == nil {
			t.Error("client not stored again")
		}
	})
	t.Run("unreachable unknown document", func(t *testing.T) {
		f := newFixture(t, host.trusting)
		if w, m := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {host.url("/missing.json")}}); w.Code != 401 || m["error"] != errInvalidClient {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
	})
}

// TestCIMDDocumentStoredOnce: fetching a document again replaces the stored
// client instead of adding an eviction entry each time.
func TestCIMDDocumentStoredOnce(t *testing.T) {
	host := newDocHost(t)
	f := newFixture(t, host.trusting)
	for range 3 {
		f.code(cimdParams(host.url("/claude-code.json"), "http://localhost:54321/callback"))
	}
	if len(f.s.order) != 1 || len(f.s.clients) != 2 {
		t.Fatalf("order %v, %d clients", f.s.order, len(f.s.clients))
	}
}

// TestStepUpNeedsNoNewRegistration pins the step-up behaviour: scopes are
// not bound to a registration or document, so a client that first asked for
// mcp:tools gets mcp:admin too by authorizing again with the wider scope.
func TestStepUpNeedsNoNewRegistration(t *testing.T) {
	host := newDocHost(t)
	f := newFixture(t, host.trusting)
	dcrClient := f.publicClient()
	for _, c := range []struct{ id, redirect string }{
		{host.url("/claude-code.json"), "http://localhost:54321/callback"},
		{dcrClient, testRedirect},
	} {
		for _, scope := range []string{"mcp:tools", "mcp:tools mcp:admin"} {
			q := cimdParams(c.id, c.redirect)
			q.Set("scope", scope)
			code := f.code(q)
			if got := strings.Join(f.s.codes[key(code)].Scopes, " "); got != scope {
				t.Errorf("%s asked %q, granted %q", c.id, scope, got)
			}
		}
	}
}
