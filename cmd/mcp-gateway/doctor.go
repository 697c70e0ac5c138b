package main

import (
	"github.com/spf13/cobra"
)

func doctorCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Probe the configured issuer and predict what each MCP client will hit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDoctor(cmd.Context(), cmd.OutOrStdout(), file)
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "YAML configuration file")
	return cmd
}
