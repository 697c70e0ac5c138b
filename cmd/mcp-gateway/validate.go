package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
)

// validateCmd is `mcp-gateway validate --config F`: it reads the
// configuration exactly as serve does (file, .env, MCPGW_* environment) and
// either prints "ok: F (N routes)" on stdout, or fails with every problem at
// once (config.Problems: unknown keys and variables with a "did you mean",
// values that do not decode, Validate's rules), each with its source.
// It does not contact the issuer or the upstreams: `doctor` probes the
// issuer; nothing checks that an upstream answers.
func validateCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration (--config file, .env, MCPGW_* environment) and list every problem at once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(file)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %s (%s)\n", sourceName(file), count(len(cfg.Routes), "route"))
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "YAML configuration file")
	return cmd
}

// loadConfig is how serve and validate read the configuration: the same
// code path, so validate's verdict is serve's.
func loadConfig(file string) (*config.Config, error) {
	return config.Load(config.LoadOptions{File: file})
}

// sourceName names the configuration in validate's summary.
func sourceName(file string) string {
	if file == "" {
		return "environment"
	}
	return file
}

// count is "1 route", "2 routes".
func count(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
