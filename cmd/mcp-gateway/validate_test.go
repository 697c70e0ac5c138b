package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/cli"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// badConfig has problems of every kind: unknown keys at the top level and in
// a route (near misses and keys of the other level), values that do not
// decode, and Validate's rules (a cycle in scope_implies, an ftp upstream,
// a relative path). identity_key_env names MCPGW_TICKETS_KEY, which must
// not be reported as an unknown variable.
const badConfig = `public_url: https://mcp.example.com
issuer: [https://idp.example.com]
providr: okta
leeway: 5 minutes
token_cache_ttl: 30
tool_scopes: {deploy: [mcp:admin]}
scope_implies:
  mcp:admin: [mcp:write]
  mcp:write: [mcp:read, mcp:admin]
routes:
  - path: /mcp
    upstream: builtin
  - path: /files
    upstream: ftp://files.example/mcp
    tool_scope: {read_file: [files:read]}
  - path: tickets
    upstream: https://tickets.example/mcp
    identity: hmac
    identity_key_env: MCPGW_TICKETS_KEY
    timeout: forever
    issuer: https://idp.example.com
`

// badDotEnv and badEnviron add unknown variables and a bad value from each
// source.
const badDotEnv = "MCPGW_LEWAY=30s\nMCPGW_REQUIRED_SCOPES=mcp:tools\n"

var badEnviron = map[string]string{
	"MCPGW_ISSUR":          "https://idp.example.com",
	"MCPGW_TICKETS_KEY":    strings.Repeat("k", 32),
	"MCPGW_SESSION_SECRET": "short",
}

// inConfigDir runs the test in a fresh directory holding gateway.yaml and
// .env, with exactly env as the process's MCPGW_* variables.
func inConfigDir(t *testing.T, file, dotenv string, env map[string]string) {
	t.Helper()
	t.Chdir(t.TempDir())
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "MCPGW_") {
			t.Setenv(k, "") // restored after the test
			os.Unsetenv(k)
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	for name, text := range map[string]string{"gateway.yaml": file, ".env": dotenv} {
		if text != "" {
			if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// run runs mcp-gateway with args as main does and returns its exit code,
// stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := rootCmd()
	root.SetArgs(args)
	root.SetOut(&stdout)
	code := cli.Run(context.Background(), "mcp-gateway", root, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestValidateListsEveryProblem: validate exits 1 with every problem of
// the file, the .env file and the environment on stderr, one per line, each
// with its source (golden file testdata/validate_problems.golden).
func TestValidateListsEveryProblem(t *testing.T) {
	golden, err := filepath.Abs("testdata/validate_problems.golden")
	if err != nil {
		t.Fatal(err)
	}
	inConfigDir(t, badConfig, badDotEnv, badEnviron)
	code, stdout, stderr := run(t, "validate", "--config", "gateway.yaml")
	if code != 1 || stdout != "" {
		t.Fatalf("exit %d, stdout %q; want 1 and nothing", code, stdout)
	}
	testkit.Golden(t, golden, []byte(stderr))
	if strings.Contains(stderr, "MCPGW_TICKETS_KEY:") {
		t.Error("the variable named by identity_key_env is reported as unknown")
	}
}

// TestServeRefusesWhatValidateRefuses: serve runs the same checks first
// and refuses to start with exactly validate's messages.
func TestServeRefusesWhatValidateRefuses(t *testing.T) {
	inConfigDir(t, badConfig, badDotEnv, badEnviron)
	_, _, want := run(t, "validate", "--config", "gateway.yaml")
	code, _, got := run(t, "serve", "--config", "gateway.yaml")
	if code != 1 || got != want {
		t.Fatalf("serve: exit %d\n%s\nwant exit 1 and validate's output\n%s", code, got, want)
	}
}

// TestValidateOK: a valid configuration prints a one-line summary on
// stdout and exits 0.
func TestValidateOK(t *testing.T) {
	const file = `public_url: https://mcp.example.com
issuer: https://idp.example.com
routes:
  - path: /mcp
  - path: /mcp/tickets
    upstream: https://tickets.example/mcp
    identity: hmac
    identity_key_env: MCPGW_TICKETS_KEY
`
	env := map[string]string{"MCPGW_TICKETS_KEY": strings.Repeat("k", 32)}
	for _, tt := range []struct {
		name, file, dotenv string
		env                map[string]string
		args               []string
		want               string
	}{
		{"file", file, "MCPGW_REQUIRED_SCOPES=mcp:tools\n", env, []string{"--config", "gateway.yaml"}, "ok: gateway.yaml (2 routes)\n"},
		{"environment only", "", "", map[string]string{"MCPGW_PUBLIC_URL": "https://mcp.example.com", "MCPGW_ISSUER": "https://idp.example.com"},
			nil, "ok: environment (1 route)\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inConfigDir(t, tt.file, tt.dotenv, tt.env)
			code, stdout, stderr := run(t, append([]string{"validate"}, tt.args...)...)
			if code != 0 || stdout != tt.want || stderr != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

// TestDevRefusesAnUnsupportedScheme: dev's --route goes through the same
// rules: an ftp:// upstream is not run as a command.
func TestDevRefusesAnUnsupportedScheme(t *testing.T) {
	routes, err := parseDevRoutes([]string{"/mcp/files=ftp://files.example/mcp"})
	if err != nil {
		t.Fatal(err)
	}
	err = runDev(context.Background(), &bytes.Buffer{}, devOptions{listen: "127.0.0.1:0", idpListen: "127.0.0.1:0", demoListen: "127.0.0.1:0", logLevel: "error", routes: routes})
	if err == nil || !strings.Contains(err.Error(), `routes[1].upstream: "ftp://files.example/mcp": scheme ftp is not supported`) {
		t.Fatalf("dev: %v", err)
	}
}
