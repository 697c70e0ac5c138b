// Command mcp-gateway is an OAuth 2.1 resource server for the Model Context
// Protocol: it verifies access tokens from an external IdP and serves MCP.
//
// Subcommands: serve (production, from configuration), validate (check the
// configuration serve would load, every problem at once), dev (gateway plus
// a development authorization server, loopback only), doctor (probe an IdP
// and predict what MCP clients will hit) and version.
package main

import (
	"log/slog"

	"github.com/mcp-gateway/mcp-gateway/internal/cli"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	cli.Main("mcp-gateway", rootCmd())
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "mcp-gateway",
		Short:         "OAuth 2.1 resource-server gateway for MCP",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), validateCmd(), devCmd(), doctorCmd(), versionCmd())
	return root
}

func versionCmd() *cobra.Command { return cli.VersionCmd("mcp-gateway", version) }

// newLogger builds the process logger on stderr.
func newLogger(level, format string) *slog.Logger { return cli.NewLogger(level, format) }
