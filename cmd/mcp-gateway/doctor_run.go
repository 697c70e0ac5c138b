package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/doctor"
)

// errDoctorFailed makes `mcp-gateway doctor` exit 1 after printing a report
// with at least one failed check (a refused --token included).
var errDoctorFailed = errors.New("doctor: at least one check failed")

// maxTokenInput caps what --token - reads from standard input.
const maxTokenInput = 64 << 10

// doctorOptions are the doctor command's flags.
type doctorOptions struct {
	file             string
	token            string // "-" reads standard input
	probeClientID    string
	probeRedirectURI string
	probeRegister    bool
}

// runDoctor loads the configuration exactly as serve does, probes the issuer
// with it, verifies the token if one is given (with the client allowlist
// serve builds, client_ids_table included) and writes the report to out. It
// returns an error when the configuration does not load or any check failed.
func runDoctor(ctx context.Context, in io.Reader, out io.Writer, o doctorOptions) error {
	token, err := readToken(o.token, in)
	if err != nil {
		return err
	}
	cfg, err := config.Load(config.LoadOptions{File: o.file})
	if err != nil {
		return err
	}
	opts := doctor.Options{
		Token: token,
		Probe: doctor.ProbeOptions{ClientID: o.probeClientID, RedirectURI: o.probeRedirectURI, Register: o.probeRegister},
	}
	if token != "" {
		allow, err := clientAllowlist(cfg)
		if err != nil {
			return err
		}
		opts.ClientIDs = allow
	}
	report := doctor.Run(ctx, cfg, opts)
	report.WriteText(out)
	if report.Failed() {
		return errDoctorFailed
	}
	return nil
}

// readToken returns the --token value, read from in when it is "-". Spaces
// and a leading "Bearer " (a pasted Authorization header) are dropped.
func readToken(flag string, in io.Reader) (string, error) {
	raw := flag
	if flag == "-" {
		b, err := io.ReadAll(io.LimitReader(in, maxTokenInput+1))
		if err != nil {
			return "", fmt.Errorf("--token -: %w", err)
		}
		if len(b) > maxTokenInput {
			return "", fmt.Errorf("--token -: more than %d bytes on standard input", maxTokenInput)
		}
		raw = string(b)
	}
	t := strings.TrimSpace(raw)
	if len(t) > 7 && strings.EqualFold(t[:7], "bearer ") {
		t = strings.TrimSpace(t[7:])
	}
	if flag != "" && t == "" {
		return "", errors.New("--token: empty token")
	}
	return t, nil
}
