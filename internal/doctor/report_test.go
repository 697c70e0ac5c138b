package doctor

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestWriteTextGolden pins the text report. The random httptest address is
// replaced: the issuer by ISSUER, the server's origin by ORIGIN.
func TestWriteTextGolden(t *testing.T) {
	tests := []struct {
		golden string
		idp    fakeIdP
		opts   Options
	}{
		{"cognito.golden", fakeIdP{oidc: true, meta: cognitoLike}, Options{
			Provider: "cognito", AllowedClientIDs: []string{"app1"}, RequiredScopes: []string{"mcp/tools.read"},
		}},
		{"complete.golden", fakeIdP{rfc8414: true, oidc: true, meta: complete}, Options{
			Provider: "entra", RequiredScopes: []string{"mcp:tools"}, Audiences: []string{"https://gw.example.com/mcp/"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			srv, issuer := tt.idp.start(t)
			o := tt.opts
			o.Issuer, o.PublicURL, o.RoutePaths = issuer, "https://gw.example.com", []string{"/mcp"}
			var buf bytes.Buffer
			Run(context.Background(), o).WriteText(&buf)
			got := strings.NewReplacer(issuer, "ISSUER", srv.URL, "ORIGIN").Replace(buf.String())
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("report differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}
