//go:build unix

package integration

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// autoClientSteps are stderr lines every successful auto-client run prints:
// the 401 challenge, PRM, AS metadata, the authorization, the token, and a
// refresh whose new access token the gateway accepted.
var autoClientSteps = []string{
	"-> 401 Unauthorized",
	"WWW-Authenticate: Bearer resource_metadata=",
	"protected resource metadata (RFC 9728): resource=",
	"authorization server metadata: issuer=",
	"PKCE S256",
	"code received, state matches",
	"token response: token_type=Bearer",
	"refresh: grant_type=refresh_token with resource=",
	"new access token: differs from the first",
	"refresh OK: tools/list with the refreshed access token",
}

// TestAutoClientDevDCR runs examples/auto-client headlessly against
// `mcp-gateway dev`: from the MCP URL alone through discovery, DCR, code +
// PKCE with resource, tools/call (echo and whoami) and a refresh.
func TestAutoClientDevDCR(t *testing.T) {
	t.Parallel()
	gw := testenv.StartGatewayDev(t)
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, r *exampleRun)
	}{
		{
			name: "whoami",
			args: []string{"--tool", "whoami"},
			check: func(t *testing.T, r *exampleRun) {
				w := r.whoamiResult(t)
				checkWhoami(t, w, "dev-user", gw.IdPURL, gw.MCPURL)
			},
		},
		{
			name: "echo with args and explicit scopes",
			args: []string{"--tool", "echo", "--args", `{"message":"héllo ✓"}`, "--scopes", "mcp:tools"},
			check: func(t *testing.T, r *exampleRun) {
				res := r.toolResult(t)
				if len(res.Content) == 0 || res.Content[0].Text != "héllo ✓" {
					t.Errorf("echo content = %+v, want the message back", res.Content)
				}
				r.requireStderr(t, "--scopes; the challenge or PRM said")
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startExample(t, autoClientPackage, nil, append([]string{"--url", gw.MCPURL}, tc.args...)...)
			if !strings.Contains(r.AuthURL, "code_challenge_method=S256") || !strings.Contains(r.AuthURL, "resource=") {
				t.Errorf("authorization URL lacks PKCE S256 or resource: %s", r.AuthURL)
			}
			browse(t, r.AuthURL)
			r.waitSuccess(t)
			r.requireStderr(t, append(autoClientSteps, "dynamic client registration", "registered (RFC 7591)")...)
			tc.check(t, r)
		})
	}
}

// TestAutoClientDevCIMD runs examples/auto-client against `mcp-gateway
// dev` with a Client ID Metadata Document shaped like Claude Code's (portless
// loopback redirect URIs) on a loopback https host: the client id is the
// document's URL and the ephemeral-port redirect is admitted (RFC 8252 §7.3).
func TestAutoClientDevCIMD(t *testing.T) {
	t.Parallel()
	doc := startCIMDHost(t)
	gw := startGatewayDevCIMD(t, doc.CAFile)
	// SSL_CERT_FILE lets the client read the document too (it picks its
	// redirect URI from it).
	r := startExample(t, autoClientPackage, []string{"SSL_CERT_FILE=" + doc.CAFile},
		"--url", gw.MCPURL, "--tool", "whoami", "--client-id-metadata", doc.URL)
	browse(t, r.AuthURL)
	r.waitSuccess(t)
	r.requireStderr(t, append(autoClientSteps,
		"client_id_metadata_document_supported=true",
		"(client ID metadata document)",
		"is listed in the document",
		"redirect_uri=http://127.0.0.1:")...)
	if strings.Contains(r.Stderr(), "POST "+gw.IdPURL+"/register") {
		t.Errorf("the client registered dynamically although the AS supports CIMD")
	}
	w := r.whoamiResult(t)
	if w.ClientID != doc.URL {
		t.Errorf("whoami client_id = %q, want the document URL %q", w.ClientID, doc.URL)
	}
	if w.Subject != "dev-user" {
		t.Errorf("whoami subject = %q, want dev-user", w.Subject)
	}
	if doc.hits.Load() < 2 {
		t.Errorf("the document was fetched %d times; want the client and the AS to fetch it", doc.hits.Load())
	}
}

// TestAutoClientServeOIDCProvider runs examples/auto-client against
// `mcp-gateway serve` in front of a real third-party authorization server
// (oidc-provider): OIDC discovery, DCR, consent for offline_access, a JWT
// whose aud is the resource, tools/call and a refresh with resource.
func TestAutoClientServeOIDCProvider(t *testing.T) {
	t.Parallel()
	testenv.NodeModules(t)
	gwPort := testenv.FreePort(t)
	resource := fmt.Sprintf("http://127.0.0.1:%d/mcp", gwPort)
	op := testenv.StartOIDCProvider(t, []string{resource}, "mcp:tools")
	gw := testenv.StartGatewayServe(t, testenv.ServeConfig{Port: gwPort, Issuer: op.Issuer})

	r := startExample(t, autoClientPackage, nil, "--url", gw.MCPURL, "--tool", "whoami")
	if !strings.Contains(r.AuthURL, "offline_access") || !strings.Contains(r.AuthURL, "prompt=consent") {
		t.Errorf("authorization URL does not ask for offline_access with prompt=consent: %s", r.AuthURL)
	}
	browse(t, r.AuthURL)
	r.waitSuccess(t)
	r.requireStderr(t, append(autoClientSteps, "dynamic client registration")...)
	checkWhoami(t, r.whoamiResult(t), "alice", op.Issuer, resource)
}

// TestStaticClientOIDCProvider runs examples/static-client with a
// pre-registered confidential client (client_secret_basic) at oidc-provider,
// through `mcp-gateway serve`: go-oidc discovery, code + PKCE + nonce with
// resource, the verified ID token's subject, and tools/call with the access
// token. A wrong secret fails with a clear message and a non-zero exit.
func TestStaticClientOIDCProvider(t *testing.T) {
	t.Parallel()
	testenv.NodeModules(t)
	gwPort, redirectPort := testenv.FreePort(t), testenv.FreePort(t)
	resource := fmt.Sprintf("http://127.0.0.1:%d/mcp", gwPort)
	const clientID, secret = "static-app", "static-app-secret-0123456789-abcdefghijklmnop"
	op := testenv.StartOIDCProviderWith(t, testenv.OIDCProviderOptions{
		Resources: []string{resource},
		Clients: []map[string]any{{
			"client_id":                  clientID,
			"client_secret":              secret,
			"redirect_uris":              []string{fmt.Sprintf("http://127.0.0.1:%d/callback", redirectPort)},
			"grant_types":                []string{"authorization_code", "refresh_token"},
			"response_types":             []string{"code"},
			"token_endpoint_auth_method": "client_secret_basic",
		}},
	})
	gw := testenv.StartGatewayServe(t, testenv.ServeConfig{Port: gwPort, Issuer: op.Issuer})
	args := []string{"--issuer", op.Issuer, "--client-id", clientID, "--url", gw.MCPURL,
		"--tool", "whoami", "--redirect-port", fmt.Sprint(redirectPort)}

	t.Run("pre-registered client", func(t *testing.T) {
		r := startExample(t, staticClientPackage, []string{"MCP_CLIENT_SECRET=" + secret}, args...)
		for _, p := range []string{"nonce=", "code_challenge_method=S256", "resource=", "scope=openid"} {
			if !strings.Contains(r.AuthURL, p) {
				t.Errorf("authorization URL lacks %q: %s", p, r.AuthURL)
			}
		}
		browse(t, r.AuthURL)
		r.waitSuccess(t)
		r.requireStderr(t, "/.well-known/openid-configuration -> 200", "logged in: sub=alice", "ID token verified")
		w := r.whoamiResult(t)
		if w.Subject != "alice" || w.ClientID != clientID {
			t.Errorf("whoami subject, client_id = %q, %q; want alice, %s", w.Subject, w.ClientID, clientID)
		}
		if !slices.Contains(w.Audience, resource) {
			t.Errorf("whoami audience = %q, want %q", w.Audience, resource)
		}
	})

	// Sequential: both runs use the one registered redirect port.
	t.Run("wrong secret", func(t *testing.T) {
		r := startExample(t, staticClientPackage, nil, append(args, "--client-secret", "not-the-secret")...)
		resp, _ := browse(t, r.AuthURL)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("callback page: %s", resp.Status)
		}
		if err := r.wait(t); err == nil {
			t.Fatalf("static-client with a wrong secret exited 0\n%s", r.Output())
		}
		r.requireStderr(t, "static-client: FAILED: token request", "invalid_client")
		if strings.TrimSpace(r.Stdout()) != "" {
			t.Errorf("stdout of a failed run is not empty: %q", r.Stdout())
		}
	})
}
