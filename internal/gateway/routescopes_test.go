package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// rejectAll is a verifier for tests that never present a valid token.
type rejectAll struct{}

func (rejectAll) Verify(context.Context, string) (*authn.Principal, error) {
	return nil, errors.New("no tokens here")
}

// TestPerRouteScopes: each route's PRM lists its own ScopesSupported
// (offline_access removed) and its 401 challenge its own RequiredScopes;
// the root document, which names no single route, lists the union of
// every route's scopes in route order, each once.
func TestPerRouteScopes(t *testing.T) {
	const public = "https://gw.example"
	g, err := gateway.New(gateway.Options{
		PublicURL: public, AuthorizationServers: []string{"https://idp.example"}, ResourceName: "Two routes",
		Routes: []gateway.Route{
			{Path: "/mcp/tickets", Verifier: rejectAll{}, RequiredScopes: []string{"mcp:read"},
				ScopesSupported: []string{"mcp:read", "tickets:write", "offline_access"}, Handler: http.NotFoundHandler()},
			{Path: "/mcp/admin", Verifier: rejectAll{}, RequiredScopes: []string{"mcp:read", "mcp:admin"},
				ScopesSupported: []string{"mcp:read", "mcp:admin"}, Handler: http.NotFoundHandler()},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, p := range []string{"/mcp/tickets", "/mcp/admin", ""} {
		w := httptest.NewRecorder()
		g.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/.well-known/oauth-protected-resource"+p, nil))
		if w.Code != http.StatusOK {
			t.Fatalf("PRM %q: %d", p, w.Code)
		}
		fmt.Fprintf(&out, "## PRM %s\n%s", p, w.Body.String())
		if p == "" {
			continue
		}
		w = httptest.NewRecorder()
		g.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodPost, p, strings.NewReader(ping)))
		fmt.Fprintf(&out, "## POST %s without a token\nstatus: %d\nwww-authenticate: %s\n", p, w.Code, w.Header().Get("WWW-Authenticate"))
	}
	testkit.Golden(t, "testdata/route_scopes.golden", []byte(out.String()))
}
