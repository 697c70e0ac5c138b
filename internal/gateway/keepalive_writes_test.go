package gateway_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/authz"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/httpproxy"
)

// TestProxiedAnswerInOneWrite: through the whole chain of an HTTP route
// (observe record, body deadline, Origin, rate limits, bearer token,
// stream cap, the one body read, keep-alives on, per-tool authorization
// with a rule that inspects answers, the HTTP proxy) a tools/call that a
// go-sdk upstream answers with one event reaches the client in one write.
func TestProxiedAnswerInOneWrite(t *testing.T) {
	upURL := testenv.StartEchoUpstream(t)
	p, err := httpproxy.New(httpproxy.Options{URL: upURL, RouteID: "/mcp", SessionKey: []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	mw, err := authz.New(authz.Policy{Tools: map[string][]string{"echo": {"mcp:write"}, "admin.*": {"admin"}}}, authz.Options{})
	if err != nil {
		t.Fatal(err)
	}

	iss := authntest.NewIssuer(t)
	gw := httptest.NewUnstartedServer(nil)
	wc := &testkit.CountingListener{Listener: gw.Listener}
	gw.Listener = wc
	public := "http://" + wc.Addr().String()
	keys, err := authn.NewKeySet(authn.KeySetOptions{Issuer: iss.URL, MinRefreshInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	profile, _ := idp.Lookup("generic")
	v, err := authn.NewVerifier(keys, authn.Policy{Issuer: iss.URL, Audiences: []string{public + "/mcp"}, Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(gateway.Options{
		PublicURL: public, AuthorizationServers: []string{iss.URL}, ResourceName: "Test Gateway",
		StreamKeepalive: 25 * time.Second, Ready: keys,
		Routes: []gateway.Route{{Path: "/mcp", Verifier: v, RequiredScopes: []string{"mcp:read"}, Handler: mw.Wrap(p)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	gw.Config.Handler = g.Handler()
	gw.Start()
	t.Cleanup(gw.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := keys.Start(ctx); err != nil {
		t.Fatal(err)
	}
	token := iss.Mint(iss.Claims(public + "/mcp"))

	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	for i := range 3 { // a fresh connection, then a reused one
		req, _ := http.NewRequest(http.MethodPost, public+"/mcp",
			strings.NewReader(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2025-06-18")
		before := wc.Writes()
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"text":"hi"`) {
			t.Fatalf("call %d: %d %q %v", i, resp.StatusCode, b, err)
		}
		if n := wc.Writes() - before; n != 1 {
			t.Fatalf("call %d: the answer took %d writes, want 1", i, n)
		}
	}
}
