// Command mcp-dcr is the registration service for Amazon Cognito: RFC 7591
// Dynamic Client Registration and RFC 7592 management that create Cognito
// app clients, the RFC 8414 metadata document Cognito lacks, and a bridge
// for Client ID Metadata Documents.
//
// Under AWS Lambda (AWS_LAMBDA_RUNTIME_API set) it serves Application Load
// Balancer target-group events (the stack's layout) and API Gateway events
// (HTTP API payload 2.0 and REST payload 1.0) and runs gc on
// EventBridge scheduled events, from the same handler `mcp-dcr serve` uses.
// Otherwise the subcommands are serve, gc [--dry-run], table create and
// version. Configuration: --config YAML file, .env, MCPDCR_* environment.
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/mcp-gateway/mcp-gateway/internal/cli"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		if err := runLambda(); err != nil {
			fmt.Fprintln(os.Stderr, "mcp-dcr:", err)
			os.Exit(1)
		}
		return
	}
	cli.Main("mcp-dcr", rootCmd())
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "mcp-dcr",
		Short:         "Dynamic Client Registration for Amazon Cognito (RFC 7591/7592, RFC 8414 metadata, CIMD bridge)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), gcCmd(), tableCmd(), versionCmd())
	return root
}

func versionCmd() *cobra.Command { return cli.VersionCmd("mcp-dcr", version) }

// newLogger builds the process logger on stderr.
func newLogger(level, format string) *slog.Logger { return cli.NewLogger(level, format) }
