package doctor

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/httpfetch"
)

func TestCheckConfig(t *testing.T) {
	tests := []struct {
		name   string
		o      Options
		want   Status
		detail string
	}{
		{"cognito without client ids", Options{Provider: "cognito"}, Fail, "allowed_client_ids"},
		{"cognito with audiences", Options{Provider: "cognito", Audiences: []string{"https://gw/mcp"}}, OK, ""},
		{"entra audience with slash", Options{Provider: "entra", Audiences: []string{"api://x/"}}, Warn, "api://x/"},
		{"entra public url with slash", Options{Provider: "entra", PublicURL: "https://gw/"}, Warn, "trailing slash"},
		{"entra route with slash", Options{Provider: "entra", RoutePaths: []string{"/mcp/"}}, Warn, "https://gw/mcp/"},
		{"entra clean", Options{Provider: "entra"}, OK, ""},
		{"auth0", Options{Provider: "auth0"}, Warn, "audience"},
		{"keycloak without audiences", Options{Provider: "keycloak"}, Warn, "https://gw/mcp"},
		{"generic", Options{}, OK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.o.PublicURL == "" {
				tt.o.PublicURL = "https://gw"
			}
			r := &Report{}
			checkConfig(r, tt.o)
			if len(r.Checks) != 1 {
				t.Fatalf("got %+v, want one check", r.Checks)
			}
			c := r.Checks[0]
			if c.Status != tt.want || !strings.Contains(c.Detail, tt.detail) {
				t.Errorf("got %s %q, want %s containing %q", c.Status, c.Detail, tt.want, tt.detail)
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
	r := Run(context.Background(), Options{
		Issuer: pool, AuthorizationServers: []string{dcr}, Provider: "cognito",
		AllowedClientIDs: []string{"a"}, PublicURL: "https://gw",
	})
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
	r := Run(context.Background(), Options{Issuer: issuer + "x", DiscoveryURL: issuer + "/.well-known/openid-configuration", PublicURL: "https://gw"})
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
