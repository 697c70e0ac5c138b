//go:build unix

package integration

import (
	"slices"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// TestTypeScriptClientAgainstDev runs the MCP TypeScript SDK client, with its
// own OAuth flow, against `mcp-gateway dev` (gateway + development
// authorization server).
func TestTypeScriptClientAgainstDev(t *testing.T) {
	t.Parallel()
	testenv.NodeModules(t)
	testenv.BuildGateway(t)

	gw := testenv.StartGatewayDev(t)
	var asMeta struct {
		Issuer string `json:"issuer"`
	}
	getJSON(t, gw.IdPURL+"/.well-known/oauth-authorization-server", &asMeta)

	const message = "hello from the TypeScript SDK ✓"
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, co clientOutput)
	}{
		{
			name: "whoami with login hint",
			args: []string{"--tool", "whoami", "--login-hint", "carol"},
			check: func(t *testing.T, co clientOutput) {
				checkWhoami(t, whoamiOf(t, co), "carol", asMeta.Issuer, gw.MCPURL)
			},
		},
		{
			name: "whoami default subject",
			args: []string{"--tool", "whoami"},
			check: func(t *testing.T, co clientOutput) {
				if w := whoamiOf(t, co); w.Subject != "dev-user" {
					t.Errorf("whoami subject = %q, want dev-user", w.Subject)
				}
			},
		},
		{
			name: "echo",
			args: []string{"--tool", "echo", "--args", `{"message":"` + message + `"}`},
			check: func(t *testing.T, co clientOutput) {
				if co.Result == nil {
					t.Fatal("no tool result")
				}
				for _, c := range co.Result.Content {
					if c.Type == "text" && c.Text == message {
						return
					}
				}
				t.Errorf("echo result %+v lacks text %q", co.Result.Content, message)
			},
		},
		{
			name: "list tools",
			args: []string{"--list-tools"},
			check: func(t *testing.T, co clientOutput) {
				for _, want := range []string{"whoami", "echo"} {
					if !slices.Contains(co.Tools, want) {
						t.Errorf("tools %q lack %q", co.Tools, want)
					}
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			co := runClient(t, append([]string{"--url", gw.MCPURL}, tc.args...)...)
			tc.check(t, co)
		})
	}
}
