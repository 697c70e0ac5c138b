package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/joho/godotenv"
)

var godotenvRead = godotenv.Read

// exampleIdPs are the IdP guides that must exist under examples/idp, each
// with a README.md and a gateway.yaml whose provider is the folder's name.
var exampleIdPs = []string{"cognito", "okta", "auth0", "entra", "keycloak", "generic"}

// clientRedirectURIs are the redirect URIs of the MCP clients every IdP guide
// covers (claude.ai, claude.com, Claude Code, ChatGPT, VS Code, Cursor), in
// the form the guides write them.
var clientRedirectURIs = []string{
	"https://claude.ai/api/mcp/auth_callback",
	"https://claude.com/api/mcp/auth_callback",
	"http://localhost:<port>/callback",
	"https://chatgpt.com/connector/oauth/<id>",
	"http://127.0.0.1:33418",
	"https://vscode.dev/redirect",
	"cursor://anysphere.cursor-mcp/oauth/callback",
}

// TestExampleConfigsLoad keeps examples/idp honest: every IdP folder's
// gateway.yaml loads and validates (config.Load, as serve and validate do)
// with the provider the folder names, and no folder is missing.
func TestExampleConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("../../examples/idp/*/gateway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, f := range files {
		name := filepath.Base(filepath.Dir(f))
		found = append(found, name)
		t.Run(name, func(t *testing.T) {
			c, err := Load(LoadOptions{File: f, Environ: []string{}, DotEnv: os.DevNull})
			if err != nil {
				t.Fatal(err)
			}
			if c.Provider != name {
				t.Fatalf("provider %q in %s", c.Provider, f)
			}
		})
	}
	for _, want := range exampleIdPs {
		if !slices.Contains(found, want) {
			t.Errorf("examples/idp/%s/gateway.yaml is missing", want)
		}
	}
}

// TestExampleIdPGuidesNameEveryClient keeps the IdP guides complete: each
// examples/idp/<idp>/README.md names every client's redirect URI, and the
// index links every guide.
func TestExampleIdPGuidesNameEveryClient(t *testing.T) {
	index, err := os.ReadFile("../../examples/idp/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, idp := range exampleIdPs {
		t.Run(idp, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("../../examples/idp", idp, "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			for _, uri := range clientRedirectURIs {
				if !strings.Contains(string(b), uri) {
					t.Errorf("examples/idp/%s/README.md does not name the redirect URI %s", idp, uri)
				}
			}
			if !strings.Contains(string(index), "("+idp+"/)") {
				t.Errorf("examples/idp/README.md does not link %s/", idp)
			}
		})
	}
}

// TestEnvExampleListsEveryKey keeps .env.example complete and loadable.
func TestEnvExampleListsEveryKey(t *testing.T) {
	vars, err := godotenvRead("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		name := EnvPrefix + "_" + strings.ToUpper(k)
		if _, ok := vars[name]; !ok {
			t.Errorf(".env.example does not list %s", name)
		}
	}
	for name := range vars {
		if strings.HasPrefix(name, DCREnvPrefix+"_") {
			continue // checked by TestEnvExampleListsEveryDCRKey
		}
		if !slices.Contains(Keys(), strings.ToLower(strings.TrimPrefix(name, EnvPrefix+"_"))) {
			t.Errorf(".env.example lists unknown %s", name)
		}
	}
	if _, err := Load(LoadOptions{DotEnv: "../../.env.example", Environ: []string{}}); err != nil {
		t.Fatalf(".env.example does not load: %v", err)
	}
}
