package cimd

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// countThrottle is a Throttle that allows the first n writes and counts
// every call.
type countThrottle struct {
	mu    sync.Mutex
	n     int
	calls int
}

func (c *countThrottle) AllowWrite(*http.Request) (bool, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.n > 0 {
		c.n--
		return true, 0
	}
	return false, 1500 * time.Millisecond
}

func (c *countThrottle) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// TestAuthorizeThrottle proves the bridge gives the Registrar a gate that
// spends the Throttle, one token per write the Registrar asks for and
// none otherwise, and that the gate's refusal is redirected with
// temporarily_unavailable, a retry hint and state, for a new document
// (RegisterCIMD: no app client mapped) as for a new port
// (UseRedirectURI), while the Registrar's own errors keep their answers
// (a 503 with the same code from the ceiling stays JSON).
func TestAuthorizeThrottle(t *testing.T) {
	h := newDocHost(t)
	withPort := *registered
	withPort.LoopbackCallbacks = []dcr.LoopbackCallback{{URI: "http://localhost:50010/callback"}}
	ceiling := &bearer.Error{Status: http.StatusServiceUnavailable, Code: codeUnavailable, Description: "registration limit reached"}
	reg := &fakeRegistrar{known: map[string]*dcr.Registration{registered.ClientID: &withPort},
		errs: map[string]error{h.url("/plus.json"): ceiling}}
	b := newTestBridge(t, h, reg, cognito, nil, nil)
	th := &countThrottle{n: 2}
	run := func(clientID, ru string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		b.Authorize(w, httptest.NewRequest(http.MethodGet, "/authorize?"+authzQuery(clientID, ru, nil).Encode(), nil), th)
		return w
	}
	toCognito := func(clientID, ru string) {
		t.Helper()
		if loc := location(t, run(clientID, ru)); loc.Scheme+"://"+loc.Host != cognito {
			t.Fatalf("%s %s: Location %s, want Cognito", clientID, ru, loc)
		}
	}
	for _, tt := range []struct{ clientID, ru string }{
		{registered.ClientID, "http://localhost:50010/callback"},         // a listed port
		{registered.ClientID, "https://claude.ai/api/mcp/auth_callback"}, // a registered URI
		{registered.ClientID, "http://localhost/callback"},               // the portless one itself
		{"4l5d3q8j2h7k1m9n0p6r", "http://localhost:50011/callback"},      // a client the store does not know
	} {
		toCognito(tt.clientID, tt.ru)
	}
	if th.count() != 0 {
		t.Fatalf("%d throttle calls for requests that write nothing", th.count())
	}
	toCognito(h.url("/vscode.json"), "https://vscode.dev/redirect")   // a new document: one write
	toCognito(h.url("/vscode.json"), "https://vscode.dev/redirect")   // known now: none
	toCognito(registered.ClientID, "http://localhost:50012/callback") // a new port: one write
	if th.count() != 2 {
		t.Fatalf("throttle calls %d, want 2 (one per write)", th.count())
	}

	uses := len(reg.uses())
	for _, tt := range []struct{ clientID, ru string }{
		{registered.ClientID, "http://localhost:50014/callback"},
		{h.url("/claude-code.json"), "http://127.0.0.1:50013/callback"},
	} {
		loc := location(t, run(tt.clientID, tt.ru))
		got := loc.Query()
		if !strings.HasPrefix(loc.String(), tt.ru+"?") || got.Get("error") != "temporarily_unavailable" ||
			got.Get("state") != "st-1" || !strings.Contains(got.Get("error_description"), "retry after 2s") {
			t.Fatalf("%s over the limit: Location %s", tt.clientID, loc)
		}
	}
	if reg.isMapped(h.url("/claude-code.json")) || len(reg.uses()) != uses+1 || th.count() != 4 {
		t.Fatalf("over the limit: document mapped %v, UseRedirectURI calls %d (want %d), throttle calls %d (want 4)",
			reg.isMapped(h.url("/claude-code.json")), len(reg.uses()), uses+1, th.count())
	}
	toCognito(h.url("/vscode.json"), "https://vscode.dev/redirect") // a known document needs no token
	toCognito(registered.ClientID, "http://localhost:50010/callback")

	w := run(h.url("/plus.json"), "https://client.example/callback")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Location") != "" || decodeError(t, w) != codeUnavailable {
		t.Fatalf("the Registrar's own 503: %d %q %s, want it as JSON", w.Code, w.Header().Get("Location"), w.Body)
	}
	if th.count() != 4 {
		t.Fatalf("throttle calls %d after requests that write nothing, want 4", th.count())
	}
}

// TestTokenThrottle proves /token spends the Throttle through the gate as
// /authorize does: a document never mapped needs a token, and without
// one the answer is a JSON 503 temporarily_unavailable with a retry hint,
// not forwarded to Cognito; a known document needs none.
func TestTokenThrottle(t *testing.T) {
	h := newDocHost(t)
	cg := newFakeCognito(t)
	reg := &fakeRegistrar{}
	b := newTestBridge(t, h, reg, cg.srv.URL, nil, nil)
	th := &countThrottle{n: 1}
	token := func(doc string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		b.Token(w, tokenRequest(url.Values{"grant_type": {"authorization_code"}, "client_id": {h.url(doc)}, "code": {"c"}}), th)
		return w
	}
	if w := token("/client.json"); w.Code != http.StatusOK || cg.calls() != 1 {
		t.Fatalf("within the allowance: %d %s", w.Code, w.Body)
	}
	w := token("/vscode.json")
	if w.Code != http.StatusServiceUnavailable || decodeError(t, w) != codeUnavailable ||
		!strings.Contains(w.Body.String(), "retry after 2s") || cg.calls() != 1 || reg.isMapped(h.url("/vscode.json")) {
		t.Fatalf("over the limit: %d %s, Cognito calls %d", w.Code, w.Body, cg.calls())
	}
	if w := token("/client.json"); w.Code != http.StatusOK || cg.calls() != 2 || th.count() != 2 {
		t.Fatalf("a known document: %d %s, throttle calls %d (want 2)", w.Code, w.Body, th.count())
	}
}
