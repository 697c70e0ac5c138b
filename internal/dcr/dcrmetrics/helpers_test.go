package dcrmetrics_test

import (
	"context"
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

// start is the tests' fixed clock reading.
var start = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

const (
	claudeCode = `{"redirect_uris":["http://localhost:3334/callback"],"client_name":"Claude Code",` +
		`"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"]}`
	badRedirect = `{"redirect_uris":["https://evil.example/cb"],"client_name":"Evil","token_endpoint_auth_method":"none"}`
)

// registerThree runs the real registration handler (dcr.Service over the
// dcrtest fakes, a bucket of two requests per source) with m and sends
// three registrations from one source: one created (201), one refused for
// its redirect URI (400), one rate limited (429).
func registerThree(t *testing.T, m dcr.Metrics) {
	t.Helper()
	clock := testkit.NewClock(start)
	store := dcrtest.NewMemStore()
	store.SetNow(clock.Now)
	p := dcr.DefaultPolicy()
	p.AllowedScopes = []string{"openid", "mcp/tools"}
	svc, err := dcr.NewService(dcrtest.NewFakeApps(), store, p, dcr.ServiceOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Options{Service: svc, PublicURL: "https://dcr.example.com",
		CognitoDomain: "https://auth.example.com", JWKSURI: "https://auth.example.com/jwks.json",
		Scopes:    func(context.Context) ([]string, error) { return p.AllowedScopes, nil },
		RateLimit: 1, RateBurst: 2, Now: clock.Now, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	for i, c := range []struct {
		body   string
		status int
	}{{claudeCode, 201}, {badRedirect, 400}, {claudeCode, 429}} {
		resp, err := http.Post(srv.URL+"/register", "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Fatalf("registration %d: status %d, want %d", i, resp.StatusCode, c.status)
		}
	}
}
