//go:build unix

package doctor

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/devidp"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// startDevAS runs the development authorization server in-process on
// loopback, serving resources.
func startDevAS(t *testing.T, resources ...string) (*devidp.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	as, err := devidp.New(devidp.Options{Issuer: issuer, Resources: resources, Scopes: []string{"mcp:tools"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: as.Handler()}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return as, issuer
}

// clientCredentialsToken gets a real token from the dev AS's token endpoint.
func clientCredentialsToken(t *testing.T, as *devidp.Server, issuer, resource string) string {
	t.Helper()
	id, secret := as.DevClient()
	req, _ := http.NewRequest(http.MethodPost, issuer+"/token", strings.NewReader(url.Values{
		"grant_type": {"client_credentials"}, "resource": {resource}, "scope": {"mcp:tools"},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token endpoint: HTTP %d, %v", resp.StatusCode, err)
	}
	return tr.AccessToken
}

// TestDevAuthorizationServer runs doctor against the development
// authorization server (`mcp-gateway dev`'s) on loopback: its real token
// passes, the resource probe with the dev client is accepted, and claude.ai
// and ChatGPT are predicted to fail (loopback gateway and server) while the
// desktop clients are not.
func TestDevAuthorizationServer(t *testing.T) {
	public := "http://127.0.0.1:8080"
	resource := public + "/mcp"
	as, issuer := startDevAS(t, resource)
	devID, _ := as.DevClient()
	cfg := loaded(issuer, func(c *config.Config) {
		c.PublicURL, c.RequiredScopes = public, []string{"mcp:tools"}
	})
	r := Run(context.Background(), cfg, Options{
		Token: clientCredentialsToken(t, as, issuer, resource),
		Probe: ProbeOptions{ClientID: devID, RedirectURI: "http://127.0.0.1:9/callback"},
	})
	wantCheck(t, r, "verify", OK, "the gateway accepts it on "+resource)
	wantCheck(t, r, "resource", OK, "approved at once")
	if r.Failed() {
		t.Errorf("Failed() = true: %+v", r.Checks)
	}
	got := outcomes(r)
	for _, c := range []string{ClientClaudeAI, ClientChatGPT} {
		if p := got[c]; p.Outcome != Fail || !strings.Contains(p.Why, "public_url "+public+" is loopback") || !strings.Contains(p.Why, "tunnel") {
			t.Errorf("%s = %+v, want FAIL naming the loopback public_url and a tunnel", c, p)
		}
	}
	for _, c := range []string{ClientClaudeCode, ClientVSCode, ClientCursor, ClientTSSDK} {
		if p := got[c]; p.Outcome == Fail || strings.Contains(p.Why, "loopback") {
			t.Errorf("%s = %+v, want no failure from loopback", c, p)
		}
	}
}

// TestDevAuthorizationServerRefusesOtherResource registers a throwaway
// client (--probe-register) and probes two routes: the dev AS serves only
// /mcp and answers invalid_target for /other, so every client fails.
func TestDevAuthorizationServerRefusesOtherResource(t *testing.T) {
	public := "http://127.0.0.1:8080"
	_, issuer := startDevAS(t, public+"/mcp")
	cfg := loaded(issuer, func(c *config.Config) {
		c.PublicURL = public
		c.Routes = []config.Route{{Path: "/mcp"}, {Path: "/other"}}
	})
	r := Run(context.Background(), cfg, Options{Probe: ProbeOptions{Register: true}})
	wantCheck(t, r, "resource", Fail, "resource="+public+"/other: the authorization request was answered with invalid_target")
	wantCheck(t, r, "resource", Fail, "stays registered")
	for _, p := range r.Clients {
		if p.Outcome != Fail || !strings.Contains(p.Why, "the authorization server refuses it") {
			t.Errorf("%s = %+v, want FAIL: the resource is refused", p.Client, p)
		}
	}
}

// TestOIDCProvider runs doctor against the real oidc-provider: with the
// gateway's resource configured, a real token passes and the probe is
// accepted; as a default oidc-provider (no resource indicators), the probe
// gets invalid_target and every client is predicted to fail; without a
// probe the answer is "unknown", never OK.
func TestOIDCProvider(t *testing.T) {
	public := "http://127.0.0.1:8080"
	resource := public + "/mcp"
	cfg := func(issuer string) *config.Config {
		return loaded(issuer, func(c *config.Config) {
			c.PublicURL, c.RequiredScopes = public, []string{"mcp:tools"}
		})
	}
	t.Run("resource indicators", func(t *testing.T) {
		op := testenv.StartOIDCProvider(t, []string{resource})
		out, err := testenv.RunNode(t, "get-token.mjs", "--issuer", op.Issuer, "--resource", resource, "--scope", "mcp:tools")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		r := Run(context.Background(), cfg(op.Issuer), Options{Token: lines[len(lines)-1], Probe: ProbeOptions{Register: true}})
		wantCheck(t, r, "verify", OK, "the gateway accepts it on "+resource)
		wantCheck(t, r, "resource", OK, "a pushed authorization request was accepted")
		if r.Failed() {
			t.Errorf("Failed() = true: %+v", r.Checks)
		}
		for _, p := range r.Clients {
			if strings.Contains(p.Why, "refuses") {
				t.Errorf("%s = %+v", p.Client, p)
			}
		}
	})
	t.Run("default oidc-provider", func(t *testing.T) {
		op := testenv.StartOIDCProviderWith(t, testenv.OIDCProviderOptions{})
		r := Run(context.Background(), cfg(op.Issuer), Options{Probe: ProbeOptions{Register: true}})
		wantCheck(t, r, "resource", Fail, "a pushed authorization request was refused with invalid_target")
		for _, p := range r.Clients {
			if p.Outcome != Fail || !strings.Contains(p.Why, "refuses it") {
				t.Errorf("%s = %+v, want FAIL: oidc-provider refuses the resource", p.Client, p)
			}
		}
		unprobed := Run(context.Background(), cfg(op.Issuer), Options{})
		wantCheck(t, unprobed, "resource", Warn, "unknown whether "+op.Issuer+" accepts resource="+resource)
	})
}
