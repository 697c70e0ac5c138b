package main

import (
	"github.com/spf13/cobra"
)

func doctorCmd() *cobra.Command {
	var o doctorOptions
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Probe the configured issuer, check a real token and predict what each MCP client will hit",
		Long: `doctor reads the configuration as serve does, fetches the authorization servers'
metadata and the issuer's keys, and predicts what each MCP client will hit.

--token verifies a real access token with the gateway's own verifier, for every
route, and explains each claim that fails (issuer, audience, scopes, client id,
expiry, key, token type) with the fix. Use --token - to read it from standard
input (keeps it out of the shell history). The token and its signature are
never printed.

Whether the authorization server accepts the RFC 8707 resource parameter can
only be probed with a client it knows: --probe-client-id (and
--probe-redirect-uri) sends one authorization request for it, nobody signs in;
--probe-register registers a throwaway public client through open dynamic
client registration first (a change at the server, deleted afterwards when the
server allows it).

Exit status 1 when any check fails, a refused token included.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDoctor(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.file, "config", "", "YAML configuration file")
	f.StringVar(&o.token, "token", "", `an access token to verify against every route ("-" reads it from standard input)`)
	f.StringVar(&o.probeClientID, "probe-client-id", "", "a client registered at the authorization server, to probe whether it accepts the resource parameter")
	f.StringVar(&o.probeRedirectURI, "probe-redirect-uri", "", "a redirect URI registered for --probe-client-id")
	f.BoolVar(&o.probeRegister, "probe-register", false, "register a throwaway public client through open dynamic client registration to probe the resource parameter")
	return cmd
}
