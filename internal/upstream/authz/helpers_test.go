package authz_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/authz"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

const metaURL = "https://gw.example/.well-known/oauth-protected-resource/mcp"

// testPolicy restricts admin.* and *.delete tools, file:///secret/*
// resources and secret_* prompts.
var testPolicy = authz.Policy{
	Tools: map[string][]string{
		"admin.*":  {"tools:admin"},
		"*.delete": {"tools:delete", "tools:admin"},
	},
	Resources: map[string][]string{"file:///secret/*": {"res:secret"}},
	Prompts:   map[string][]string{"secret_*": {"prompts:secret"}},
}

// deny is what the gateway passes as Options.Deny.
func deny(w http.ResponseWriter, _ *http.Request, scopes []string) {
	bearer.WriteError(w, bearer.ErrInsufficientScope(scopes), metaURL, nil)
}

// verify accepts "Bearer <scope>+<scope>…" with "-" for ":" (and "none"
// for no scopes).
func verify(_ context.Context, raw string) (bearer.Token, error) {
	p := &authn.Principal{Subject: "alice", Issuer: "https://idp", Expiry: time.Now().Add(time.Hour)}
	if raw != "none" {
		p.Scopes = strings.Split(strings.ReplaceAll(raw, "-", ":"), "+")
	}
	return p, nil
}

// serve runs next behind the bearer middleware (requiring "mcp"),
// call.Read and the authz middleware, as the gateway mounts them.
func serve(t *testing.T, next http.Handler, o authz.Options) *httptest.Server {
	t.Helper()
	if o.Deny == nil {
		o.Deny = deny
	}
	o.RequiredScopes = []string{"mcp"}
	m, err := authz.New(testPolicy, o)
	if err != nil {
		t.Fatal(err)
	}
	h := bearer.Middleware(bearer.Options{Verify: verify, ResourceMetadata: metaURL, Scopes: []string{"mcp"}})(call.Read(0, m.Wrap(next)))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// do sends one request; headers are "Name: value" strings.
func do(t *testing.T, srv *httptest.Server, method, token, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+strings.ReplaceAll(token, ":", "-"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// noLeak fails the test if goroutines started during it outlive it.
func noLeak(t *testing.T) { testkit.CheckGoroutines(t) }

// mustVerify is the principal verify makes of a token.
func mustVerify(t *testing.T, token string) bearer.Token {
	t.Helper()
	p, err := verify(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
