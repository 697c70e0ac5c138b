package main

import (
	"context"
	"errors"
	"io"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/doctor"
)

// errDoctorFailed makes `mcp-gateway doctor` exit 1 after printing a report
// with at least one failed check.
var errDoctorFailed = errors.New("doctor: at least one check failed")

// runDoctor loads the configuration exactly as serve does, probes the issuer
// with it and writes the report to out. It returns an error when the
// configuration does not load or any check failed.
func runDoctor(ctx context.Context, out io.Writer, file string) error {
	cfg, err := config.Load(config.LoadOptions{File: file})
	if err != nil {
		return err
	}
	report := doctor.Run(ctx, cfg, doctor.Options{})
	report.WriteText(out)
	if report.Failed() {
		return errDoctorFailed
	}
	return nil
}
