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
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			srv, issuer := tt.idp.start(t)
			var buf bytes.Buffer
			Run(context.Background(), loaded(issuer, tt.edit), Options{}).WriteText(&buf)
			got := strings.NewReplacer(issuer, "ISSUER", srv.URL, "ORIGIN").Replace(buf.String())
			testkit.Golden(t, filepath.Join("testdata", tt.golden), []byte(got))
		})
	}
}
