package authz_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/authz"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// implies is a scope_implies configuration over testPolicy's scopes: a
// chain (super -> tools:admin -> tools:delete), a scope implying the
// route's required "mcp" (root), and a cycle (x <-> y).
var implies = map[string][]string{
	"super":       {"tools:admin"},
	"tools:admin": {"tools:delete"},
	"root":        {"mcp", "super", "res:secret", "prompts:secret"},
	"x":           {"y"},
	"y":           {"x", "tools:admin"},
}

// serveImplying is serve with principals carrying the hierarchy of m, as
// the gateway's verifier makes them.
func serveImplying(t *testing.T, next http.Handler, m map[string][]string) *httptest.Server {
	t.Helper()
	h := authn.NewScopeImplications(m)
	verify := func(_ context.Context, raw string) (bearer.Token, error) {
		return &authn.Principal{Subject: "alice", Issuer: "https://idp", Expiry: time.Now().Add(time.Hour),
			Scopes: strings.Split(strings.ReplaceAll(raw, "-", ":"), "+"), ScopeImplications: h}, nil
	}
	mw, err := authz.New(testPolicy, authz.Options{Deny: deny, RequiredScopes: []string{"mcp"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(bearer.Middleware(bearer.Options{Verify: verify, ResourceMetadata: metaURL, Scopes: []string{"mcp"}})(
		call.Read(0, mw.Wrap(next))))
	t.Cleanup(srv.Close)
	return srv
}

// TestScopeImplies: with scope_implies a broader granted scope passes the
// checks of the narrower ones it implies (directly, transitively, through a
// cycle), for the route's required scope, calls and list filtering; the
// same tokens fail without it. A 403 names the operation's narrow scopes.
func TestScopeImplies(t *testing.T) {
	type want struct {
		status int
		scope  string   // 403: the challenge's scope
		has    []string // 200: substrings of the body
		hasNot []string
	}
	callAdmin := rpc(1, "tools/call", `{"name":"admin.reset"}`)
	listTools := rpc(7, "tools/list", "")
	tests := []struct {
		name          string
		token, body   string
		with, without want
	}{
		{"broad scope passes a call", "mcp+super", callAdmin,
			want{status: 200}, want{status: 403, scope: "mcp tools:admin"}},
		{"transitively", "mcp+super", rpc(1, "tools/call", `{"name":"repo.delete"}`),
			want{status: 200}, want{status: 403, scope: "mcp tools:delete tools:admin"}},
		{"list shows what the broad scope implies", "mcp+super", listTools,
			want{status: 200, has: []string{"echo", "admin.reset", "repo.delete"}},
			want{status: 200, has: []string{"echo"}, hasNot: []string{"admin.reset", "repo.delete"}}},
		{"the route's required scope is implied", "root", rpc(1, "resources/read", `{"uri":"file:///secret/b"}`),
			want{status: 200}, want{status: 403, scope: "mcp"}},
		{"prompts list under an implied scope", "root", rpc(7, "prompts/list", ""),
			want{status: 200, has: []string{"greet", "secret_plan"}}, want{status: 403, scope: "mcp"}},
		{"cycle", "mcp+x", callAdmin,
			want{status: 200}, want{status: 403, scope: "mcp tools:admin"}},
		// The narrow scope does not satisfy the broad one.
		{"narrow does not imply broad", "mcp+tools:delete", callAdmin,
			want{status: 403, scope: "mcp tools:admin"}, want{status: 403, scope: "mcp tools:admin"}},
		// Holding neither the narrow nor the broad scope: the challenge
		// names the scopes the operation needs, not the broader ones.
		{"neither: the narrow scopes are named", "mcp+other", rpc(1, "tools/call", `{"name":"repo.delete"}`),
			want{status: 403, scope: "mcp tools:delete tools:admin"}, want{status: 403, scope: "mcp tools:delete tools:admin"}},
	}
	for _, hier := range []struct {
		name string
		m    map[string][]string
	}{{"with scope_implies", implies}, {"without", nil}} {
		up := &fakeUpstream{}
		srv := serveImplying(t, up, hier.m)
		for _, tt := range tests {
			t.Run(hier.name+"/"+tt.name, func(t *testing.T) {
				w := tt.with
				if hier.m == nil {
					w = tt.without
				}
				resp, body := do(t, srv, http.MethodPost, tt.token, tt.body)
				if resp.StatusCode != w.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, w.status, body)
				}
				ch := resp.Header.Get("WWW-Authenticate")
				if w.status == 403 && !strings.Contains(ch, `error="insufficient_scope"`) {
					t.Errorf("challenge %q lacks insufficient_scope", ch)
				}
				if w.scope != "" && !strings.Contains(ch, `scope="`+w.scope+`"`) {
					t.Errorf("challenge %q, want scope=%q", ch, w.scope)
				}
				if strings.Contains(ch, "super") || strings.Contains(ch, "root") {
					t.Errorf("challenge %q names a broader scope", ch)
				}
				for _, s := range w.has {
					if !strings.Contains(body, s) {
						t.Errorf("body lacks %q: %s", s, body)
					}
				}
				for _, s := range w.hasNot {
					if strings.Contains(body, s) {
						t.Errorf("body has %q: %s", s, body)
					}
				}
			})
		}
	}
}
