package doctor

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/httpfetch"
)

func TestCheckConfig(t *testing.T) {
	tests := []struct {
		name   string
		c      config.Config
		want   Status
		detail string
	}{
		// Resource binding: tokens name the route, no allowlist needed.
		{"cognito without client ids", config.Config{Provider: "cognito"}, OK,
			"tokens need aud https://gw/mcp: clients send resource=https://gw/mcp to /oauth2/authorize (managed login, Essentials or Plus); tokens without aud are refused; clients: any app client of the pool"},
		{"cognito two routes", config.Config{Provider: "cognito", Routes: []config.Route{{Path: "/a"}, {Path: "/b"}}}, OK,
			"aud https://gw/a, https://gw/b: clients send resource=<the route's URL> (https://gw/a, https://gw/b)"},
		{"cognito with audiences", config.Config{Provider: "cognito", Audiences: []string{"https://gw/x"}}, OK, "aud https://gw/x: "},
		{"cognito with allowed_client_ids", config.Config{Provider: "cognito", AllowedClientIDs: []string{"a", "b"}}, OK,
			"clients: 2 allowed client id(s), 0 audience(s) configured"},
		// The false FAIL: mcp-dcr registrations and no static list.
		{"cognito with client_ids_table only", config.Config{Provider: "cognito", ClientIDsTable: "mcp-dcr", AWSRegion: "us-east-1"}, OK,
			"clients: 0 allowed client id(s), client_ids_table mcp-dcr, 0 audience(s) configured"},
		{"cognito missing-aud switch", config.Config{Provider: "cognito", ClientIDsTable: "mcp-dcr", InsecureAllowMissingAudience: true}, Warn,
			"insecure_allow_missing_audience: tokens without aud from listed clients (0 allowed client id(s), client_ids_table mcp-dcr, 0 audience(s) configured) are accepted, unbound to this gateway; turn it off once clients send resource=https://gw/mcp"},
		{"cognito missing-aud switch without allowlist", config.Config{Provider: "cognito", InsecureAllowMissingAudience: true}, Fail,
			"needs allowed_client_ids or client_ids_table"},
		{"entra audience with slash", config.Config{Provider: "entra", Audiences: []string{"api://x/"}}, Warn, "api://x/"},
		{"entra public url with slash", config.Config{Provider: "entra", PublicURL: "https://gw/"}, Warn, "trailing slash"},
		{"entra route with slash", config.Config{Provider: "entra", Routes: []config.Route{{Path: "/mcp/"}}}, Warn, "https://gw/mcp/"},
		{"entra clean", config.Config{Provider: "entra"}, OK, ""},
		{"auth0", config.Config{Provider: "auth0"}, Warn, "audience"},
		{"keycloak without audiences", config.Config{Provider: "keycloak"}, Warn, "https://gw/mcp"},
		{"generic", config.Config{}, OK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			if c.PublicURL == "" {
				c.PublicURL = "https://gw"
			}
			c.ApplyDefaults()
			r := &Report{}
			checkConfig(r, &c)
			if len(r.Checks) != 1 {
				t.Fatalf("got %+v, want one check", r.Checks)
			}
			got := r.Checks[0]
			if got.Status != tt.want || !strings.Contains(got.Detail, tt.detail) {
				t.Errorf("got %s %q, want %s containing %q", got.Status, got.Detail, tt.want, tt.detail)
			}
		})
	}
}

func TestFetchLimits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			_, _ = w.Write(make([]byte, maxResponseBytes+1))
		case "/ftp":
			http.Redirect(w, r, "ftp://example.com/x", http.StatusFound)
		default:
			_, _ = w.Write([]byte("{}"))
		}
	}))
	defer srv.Close()
	f := newFetcher(nil)
	ctx := context.Background()
	if _, err := f.get(ctx, srv.URL+"/big"); !errors.Is(err, httpfetch.ErrTooLarge) {
		t.Errorf("big body: err = %v, want ErrTooLarge", err)
	}
	if _, err := f.get(ctx, "file:///etc/passwd"); !errors.Is(err, httpfetch.ErrScheme) {
		t.Errorf("file URL: err = %v, want errScheme", err)
	}
	if _, err := f.get(ctx, srv.URL+"/ftp"); !errors.Is(err, httpfetch.ErrScheme) {
		t.Errorf("redirect to ftp: err = %v, want errScheme", err)
	}
	if b, err := f.get(ctx, srv.URL+"/ok"); err != nil || string(b) != "{}" {
		t.Errorf("ok: %q, %v", b, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.get(cancelled, srv.URL+"/ok"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
}

// TestIssuerBehindRegistrationService covers Cognito behind mcp-dcr: PRM
// advertises the registration service, which clients use, while the gateway
// still discovers the pool's own metadata for its keys.
func TestIssuerBehindRegistrationService(t *testing.T) {
	_, dcr := fakeIdP{rfc8414: true, meta: complete}.start(t)
	_, pool := fakeIdP{oidc: true, meta: cognitoLike}.start(t)
	r := Run(context.Background(), loaded(pool, func(c *config.Config) {
		c.AuthorizationServers, c.Provider, c.AllowedClientIDs = []string{dcr}, "cognito", []string{"a"}
	}), testOpts())
	got := map[string]Status{}
	for _, c := range r.Checks {
		got[c.Name] = c.Status
	}
	for _, name := range []string{"pkce", "registration", "token-issuer", "jwks"} {
		if s, ok := got[name]; !ok || s != OK {
			t.Errorf("check %s = %v (present %v); checks %+v", name, s, ok, r.Checks)
		}
	}
	for _, p := range r.Clients {
		if p.Outcome != OK {
			t.Errorf("client %s = %s: %s", p.Client, p.Outcome, p.Why)
		}
	}
	if r.Failed() {
		t.Errorf("Failed() = true: %+v", r.Checks)
	}
}

// TestDiscoveryURLOnly: the configured issuer publishes nothing under its
// well-known paths, and discovery_url serves a document naming another issuer.
func TestDiscoveryURLOnly(t *testing.T) {
	_, issuer := fakeIdP{oidc: true, meta: complete}.start(t)
	r := Run(context.Background(), loaded(issuer+"x", func(c *config.Config) {
		c.DiscoveryURL = issuer + "/.well-known/openid-configuration"
	}), testOpts())
	var disc, iss Check
	for _, c := range r.Checks {
		switch c.Name {
		case "discovery":
			disc = c
		case "issuer":
			iss = c
		}
	}
	if disc.Status != Warn || !strings.Contains(disc.Detail, "only at discovery_url") {
		t.Errorf("discovery = %+v", disc)
	}
	if iss.Status != Fail || !strings.Contains(iss.Detail, "discovery_url document says") {
		t.Errorf("issuer = %+v, want Fail (document names %s)", iss, issuer)
	}
	if r.Clients[1].Outcome != Fail {
		t.Errorf("Claude Code = %+v, want Fail: nothing discoverable", r.Clients[1])
	}
}
