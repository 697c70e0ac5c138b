// Package cli holds what the project's commands share: the process logger
// and the version command.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// NewLogger builds the process logger on stderr: level debug, info, warn or
// error (unknown means info), format "json" or text.
func NewLogger(level, format string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// VersionCmd prints "<name> <version>".
func VersionCmd(name, version string) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", name, version)
		},
	}
}

// Main runs root until SIGINT or SIGTERM cancels its context, printing an
// error as "<name>: <error>" on stderr and exiting 1 on failure (see Run).
func Main(name string, root *cobra.Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, name, root, os.Stderr)
	stop()
	os.Exit(code)
}

// Run executes root with ctx and returns the process exit code: 0, or 1
// after writing "<name>: <error>" and a newline to stderr. Main uses it;
// tests call it to see exactly what a user sees.
func Run(ctx context.Context, name string, root *cobra.Command, stderr io.Writer) int {
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, name+":", err)
		return 1
	}
	return 0
}
