package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/httpapi"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

const (
	publicURL     = "https://mcp.example.com"
	cognitoDomain = "https://auth.example.com"
	jwksURI       = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test1/.well-known/jwks.json"
	iat           = "iat-0123456789abcdef0123456789abcdef"
)

// env is the real dcr.Service over dcrtest fakes behind the real Handler,
// served by an httptest server.
type env struct {
	url   string
	apps  *dcrtest.FakeApps
	store *dcrtest.MemStore
	clock *testkit.Clock // shared by the service and the rate limiter
}

// newEnv builds an env; policy and opts tweak the defaults (a generous
// rate limit, so that only the rate-limit tests meet it).
func newEnv(t *testing.T, policy func(*dcr.Policy), opts func(*httpapi.Options)) *env {
	t.Helper()
	e := &env{apps: dcrtest.NewFakeApps(), store: dcrtest.NewMemStore(),
		clock: testkit.NewClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))}
	e.store.SetNow(e.clock.Now)
	p := dcr.DefaultPolicy()
	p.AllowedScopes = []string{"openid", "mcp/tools"}
	if policy != nil {
		policy(&p)
	}
	svc, err := dcr.NewService(e.apps, e.store, p, dcr.ServiceOptions{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	o := httpapi.Options{
		Service:       svc,
		PublicURL:     publicURL,
		CognitoDomain: cognitoDomain,
		JWKSURI:       jwksURI,
		Scopes:        func(context.Context) ([]string, error) { return []string{"openid", "mcp/tools"}, nil },
		RateLimit:     10000,
		RateBurst:     1000,
		Now:           e.clock.Now,
	}
	if opts != nil {
		opts(&o)
	}
	h, err := httpapi.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// noRedirects is the tests' HTTP client: redirects (the bridge's) are
// answers to inspect, never followed.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// do sends a request; header pairs are name, value.
func (e *env) do(t *testing.T, method, path, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, raw, err)
		}
	}
	return out
}

// wantError checks an OAuth error answer written by bearer.WriteJSON.
func wantError(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Fatalf("got %d %s, want %d %s", r.status, r.raw, status, code)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("error headers: %v", r.header)
	}
}

const claudeCode = `{"redirect_uris":["http://localhost:3334/callback"],"client_name":"Claude Code (fs)",` +
	`"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],` +
	`"response_types":["code"],"scope":"mcp/tools"}`

const confidential = `{"redirect_uris":["https://claude.ai/api/mcp/auth_callback"],"client_name":"claude.ai",` +
	`"token_endpoint_auth_method":"client_secret_basic","grant_types":["authorization_code","refresh_token"]}`

// register registers md and returns client_id and registration access token.
func (e *env) register(t *testing.T, md string) (string, string) {
	t.Helper()
	r := e.do(t, "POST", "/register", md)
	if r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.raw)
	}
	return r.str("client_id"), r.str("registration_access_token")
}
