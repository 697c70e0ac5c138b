//go:build unix

package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// TestOIDCProviderPeer checks the test peer itself, without the gateway: the
// oidc-provider authorization server mints RS256 JWT access tokens whose aud is
// the requested resource, and refuses resources it does not serve.
func TestOIDCProviderPeer(t *testing.T) {
	t.Parallel()
	testenv.NodeModules(t)
	resource := fmt.Sprintf("http://127.0.0.1:%d/mcp", testenv.FreePort(t))
	op := testenv.StartOIDCProvider(t, []string{resource}, "mcp:tools")

	tests := []struct {
		name      string
		resource  string
		loginHint string
		wantSub   string
		wantErr   string
	}{
		{name: "served resource", resource: resource, loginHint: "erin", wantSub: "erin"},
		{name: "default account", resource: resource, wantSub: "alice"},
		{name: "unknown resource", resource: "http://127.0.0.1:1/mcp", wantErr: "invalid_target"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			token, err := getToken(t, op.Issuer, tc.resource, tc.loginHint)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("get-token.mjs error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			claims := jwtClaims(t, token)
			if aud := audiences(claims); !slices.Equal(aud, []string{tc.resource}) {
				t.Errorf("aud = %q, want [%q]", aud, tc.resource)
			}
			if claims["iss"] != op.Issuer {
				t.Errorf("iss = %v, want %s", claims["iss"], op.Issuer)
			}
			if claims["sub"] != tc.wantSub {
				t.Errorf("sub = %v, want %s", claims["sub"], tc.wantSub)
			}
			if claims["scope"] != "mcp:tools" {
				t.Errorf("scope = %v, want mcp:tools", claims["scope"])
			}
			if claims["client_id"] == nil {
				t.Error("no client_id claim")
			}
		})
	}
}
