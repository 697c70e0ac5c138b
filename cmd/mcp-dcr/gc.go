package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

func gcCmd() *cobra.Command {
	var file string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Delete expired registrations (Cognito app client and record)",
		Long: "gc removes registrations whose expiry has passed: first the Cognito app client, then the\n" +
			"record. With --dry-run it only lists them. It exits non-zero if any could not be removed.\n" +
			"Under Lambda the same pass runs on each EventBridge scheduled event.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadDCR(config.LoadOptions{File: file})
			if err != nil {
				return err
			}
			a, err := wire(cmd.Context(), cfg, nil)
			if err != nil {
				return err
			}
			rep, err := a.gc(cmd.Context(), dryRun)
			printReport(cmd.OutOrStdout(), rep, dryRun)
			return err
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "YAML configuration file")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list expired registrations without deleting them")
	return cmd
}

// printReport writes a GC report, one client id per line after a summary.
func printReport(w io.Writer, rep dcr.GCReport, dryRun bool) {
	mode := ""
	if dryRun {
		mode = " (dry run: nothing deleted)"
	}
	fmt.Fprintf(w, "expired %d, deleted %d, failed %d%s\n", len(rep.Expired), len(rep.Deleted), len(rep.Failed), mode)
	for _, id := range rep.Expired {
		state := "expired"
		switch {
		case slices.Contains(rep.Deleted, id):
			state = "deleted"
		case rep.Failed[id] != "":
			state = "failed: " + rep.Failed[id]
		}
		fmt.Fprintf(w, "  %s\t%s\n", id, state)
	}
}
