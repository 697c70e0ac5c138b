package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dynamo"
)

func tableCmd() *cobra.Command {
	table := &cobra.Command{
		Use:   "table",
		Short: "Manage the DynamoDB registrations table",
	}
	var file string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create the registrations table (local use and tests; CloudFormation creates it in production)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadDCR(config.LoadOptions{File: file})
			if err != nil {
				return err
			}
			a, _, err := wireAWS(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if err := dynamo.CreateTable(cmd.Context(), a.dynamo, cfg.Table); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "table %s is ready\n", cfg.Table)
			return nil
		},
	}
	create.Flags().StringVar(&file, "config", "", "YAML configuration file")
	table.AddCommand(create)
	return table
}
