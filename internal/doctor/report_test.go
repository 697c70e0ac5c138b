package doctor

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// TestWriteTextGolden pins the text report. The random httptest address is
// replaced: the issuer by ISSUER, the server's origin by ORIGIN.
func TestWriteTextGolden(t *testing.T) {
	tests := []struct {
		golden string
		idp    fakeIdP
		edit   func(c *config.Config)
	}{
		{"cognito.golden", fakeIdP{oidc: true, meta: cognitoLike}, func(c *config.Config) {
			c.Provider, c.AllowedClientIDs, c.RequiredScopes = "cognito", []string{"app1"}, []string{"mcp/tools.read"}
		}},
		{"complete.golden", fakeIdP{rfc8414: true, oidc: true, meta: complete}, func(c *config.Config) {
			c.Provider, c.RequiredScopes, c.Audiences = "entra", []string{"mcp:tools"}, []string{"https://gw.example.com/mcp/"}
		}},
		// A gateway on loopback: the hosted clients cannot reach it.
		{"loopback.golden", fakeIdP{rfc8414: true, oidc: true, meta: complete}, func(c *config.Config) {
			c.PublicURL, c.RequiredScopes = "http://127.0.0.1:8080", []string{"mcp:tools"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			srv, issuer := tt.idp.start(t)
			var buf bytes.Buffer
			Run(context.Background(), loaded(issuer, tt.edit), testOpts()).WriteText(&buf)
			_ = srv
			got := strings.NewReplacer(issuer, "ISSUER", strings.TrimSuffix(issuer, "/pool"), "ORIGIN").Replace(buf.String())
			testkit.Golden(t, filepath.Join("testdata", tt.golden), []byte(got))
		})
	}
}
