package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/mcp-gateway/mcp-gateway/internal/cli"
)

func serveCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the gateway from configuration (--config file, .env, MCPGW_* environment)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(file) // the checks of `mcp-gateway validate`
			if err != nil {
				return err
			}
			log := newLogger(cfg.LogLevel, cfg.LogFormat)
			cli.ApplyMemoryLimit(log)
			a, err := wire(cfg, log, os.Getenv)
			if err != nil {
				return err
			}
			return a.run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "YAML configuration file")
	return cmd
}
