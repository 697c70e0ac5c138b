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

// TestOIDCProviderThirdParty puts `mcp-gateway serve` in front of a real
// third-party authorization server (oidc-provider) and lets the MCP TypeScript
// SDK client find its way in through the 401 challenge, PRM, discovery, DCR and
// authorization code + PKCE with a resource indicator.
func TestOIDCProviderThirdParty(t *testing.T) {
	t.Parallel()
	testenv.NodeModules(t)
	testenv.BuildGateway(t)

	gwPort := testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", gwPort)
	resource := base + "/mcp"
	op := testenv.StartOIDCProvider(t, []string{resource}, "mcp:tools")
	gw := testenv.StartGatewayServe(t, testenv.ServeConfig{Port: gwPort, Issuer: op.Issuer})

	t.Run("unauthenticated challenge", func(t *testing.T) {
		resp, body := postMCP(t, gw.MCPURL, "")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("POST /mcp without a token: %s, want 401\n%s", resp.Status, body)
		}
		challenges := resp.Header.Values("WWW-Authenticate")
		if len(challenges) == 0 {
			t.Fatal("401 without WWW-Authenticate")
		}
		want := `resource_metadata="` + base + `/.well-known/oauth-protected-resource/mcp"`
		if !strings.Contains(challenges[0], want) {
			t.Errorf("WWW-Authenticate %q lacks %s", challenges[0], want)
		}
		if !strings.HasPrefix(strings.ToLower(challenges[0]), "bearer ") {
			t.Errorf("first challenge %q is not Bearer", challenges[0])
		}
		if strings.Contains(challenges[0], "error=") {
			t.Errorf("challenge to a request without a token carries an error code: %q", challenges[0])
		}
	})

	t.Run("protected resource metadata", func(t *testing.T) {
		var prm struct {
			Resource             string   `json:"resource"`
			AuthorizationServers []string `json:"authorization_servers"`
			ScopesSupported      []string `json:"scopes_supported"`
		}
		getJSON(t, base+"/.well-known/oauth-protected-resource/mcp", &prm)
		if prm.Resource != resource {
			t.Errorf("PRM resource = %q, want %q", prm.Resource, resource)
		}
		if !slices.Contains(prm.AuthorizationServers, op.Issuer) {
			t.Errorf("PRM authorization_servers = %q, want %q among them", prm.AuthorizationServers, op.Issuer)
		}
	})

	tests := []struct {
		name      string
		loginHint string
		subject   string
	}{
		{name: "login hint", loginHint: "bob", subject: "bob"},
		{name: "default account", loginHint: "", subject: "alice"},
	}
	for _, tc := range tests {
		t.Run("sdk client "+tc.name, func(t *testing.T) {
			args := []string{"--url", gw.MCPURL, "--tool", "whoami"}
			if tc.loginHint != "" {
				args = append(args, "--login-hint", tc.loginHint)
			}
			co := runClient(t, args...)
			checkWhoami(t, whoamiOf(t, co), tc.subject, op.Issuer, resource)
		})
	}
}

// TestForeignResourceRefused checks RFC 8707 audience validation with real
// tokens: the authorization server serves two resources, and a token minted
// for the other one must not open the gateway.
func TestForeignResourceRefused(t *testing.T) {
	t.Parallel()
	testenv.NodeModules(t)
	testenv.BuildGateway(t)

	gwPort := testenv.FreePort(t)
	resource := fmt.Sprintf("http://127.0.0.1:%d/mcp", gwPort)
	foreign := fmt.Sprintf("http://127.0.0.1:%d/mcp", testenv.FreePort(t))
	op := testenv.StartOIDCProvider(t, []string{resource, foreign}, "mcp:tools")
	gw := testenv.StartGatewayServe(t, testenv.ServeConfig{Port: gwPort, Issuer: op.Issuer})

	tests := []struct {
		name         string
		resource     string // token minted for this resource; "" sends rawToken
		rawToken     string
		unauthorized bool
	}{
		{name: "token for another resource", resource: foreign, unauthorized: true},
		{name: "malformed token", rawToken: "not-a-jwt", unauthorized: true},
		{name: "token for this gateway", resource: resource, unauthorized: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.rawToken
			if tc.resource != "" {
				var err error
				token, err = getToken(t, op.Issuer, tc.resource, "dave")
				if err != nil {
					t.Fatalf("get-token.mjs: %v", err)
				}
				if aud := audiences(jwtClaims(t, token)); !slices.Equal(aud, []string{tc.resource}) {
					t.Fatalf("oidc-provider minted aud %q, want [%q]", aud, tc.resource)
				}
			}
			resp, body := postMCP(t, gw.MCPURL, token)
			challenge := strings.Join(resp.Header.Values("WWW-Authenticate"), "\n")
			if !tc.unauthorized {
				if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
					t.Fatalf("token for %s refused: %s %q\n%s", tc.resource, resp.Status, challenge, body)
				}
				if resp.StatusCode != http.StatusOK {
					t.Errorf("initialize with a good token: %s, want 200\n%s", resp.Status, body)
				}
				return
			}
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %s, want 401\n%s", resp.Status, body)
			}
			if !strings.Contains(challenge, `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate %q lacks error=\"invalid_token\"", challenge)
			}
			if !strings.Contains(challenge, "resource_metadata=") {
				t.Errorf("WWW-Authenticate %q lacks resource_metadata", challenge)
			}
		})
	}
}
