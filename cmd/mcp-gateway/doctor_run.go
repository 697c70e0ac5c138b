package main

import (
	"context"
	"errors"
	"io"
	"slices"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/doctor"
)

// errDoctorFailed makes `mcp-gateway doctor` exit 1 after printing a report
// with at least one failed check.
var errDoctorFailed = errors.New("doctor: at least one check failed")

// runDoctor loads the configuration, probes the issuer and writes the report
// to out. It returns an error when the configuration does not load or any
// check failed.
func runDoctor(ctx context.Context, out io.Writer, file string) error {
	cfg, err := config.Load(config.LoadOptions{File: file})
	if err != nil {
		return err
	}
	paths := make([]string, 0, len(cfg.Routes))
	scopes := slices.Clone(cfg.RequiredScopes)
	for _, r := range cfg.Routes {
		paths = append(paths, r.Path)
		for _, s := range r.RequiredScopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	report := doctor.Run(ctx, doctor.Options{
		Issuer:               cfg.Issuer,
		DiscoveryURL:         cfg.DiscoveryURL,
		JWKSURI:              cfg.JWKSURI,
		Provider:             cfg.Provider,
		PublicURL:            cfg.PublicURL,
		AuthorizationServers: cfg.AuthorizationServers,
		RequiredScopes:       scopes,
		Audiences:            cfg.Audiences,
		AllowedClientIDs:     cfg.AllowedClientIDs,
		RoutePaths:           paths,
	})
	report.WriteText(out)
	if report.Failed() {
		return errDoctorFailed
	}
	return nil
}
