package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrmetrics"
	"github.com/mcp-gateway/mcp-gateway/internal/tlsserve"
)

// HTTP server bounds of `mcp-dcr serve`.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 15 * time.Second
	maxHeaderBytes    = 64 << 10
)

func serveCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve registration on local HTTP (--config file, .env, MCPDCR_* environment)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadDCR(config.LoadOptions{File: file})
			if err != nil {
				return err
			}
			m := dcrmetrics.NewPrometheus()
			a, err := wire(cmd.Context(), cfg, m)
			if err != nil {
				return err
			}
			api, err := a.handler()
			if err != nil {
				return err
			}
			h, err := a.exposeMetrics(cmd.Context(), api, m.Handler())
			if err != nil {
				return err
			}
			return a.serve(cmd.Context(), h, func(addr string) {
				scheme := "http"
				if cfg.TLSCertFile != "" {
					scheme = "https"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "mcp-dcr listening on %s://%s (issuer %s)\n", scheme, addr, cfg.PublicURL)
			})
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "YAML configuration file")
	return cmd
}

// serve listens on cfg.Listen and serves h until ctx ends (SIGINT or
// SIGTERM), then drains connections for up to shutdownTimeout.
func (a *app) serve(ctx context.Context, h http.Handler, ready func(addr string)) error {
	l, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.cfg.Listen, err)
	}
	srv := &http.Server{
		Handler:           tlsserve.HSTS(strings.HasPrefix(a.cfg.PublicURL, "https://"), h),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	if a.cfg.TLSCertFile != "" {
		r, err := tlsserve.NewReloader(tlsserve.Options{CertFile: a.cfg.TLSCertFile, KeyFile: a.cfg.TLSKeyFile, Logger: a.log})
		if err != nil {
			_ = l.Close()
			return err
		}
		srv.TLSConfig = r.Config()
	}
	useTLS := srv.TLSConfig != nil // read before Serve: ServeTLS writes the field
	errc := make(chan error, 1)
	go func() {
		if useTLS {
			errc <- srv.ServeTLS(l, "", "")
			return
		}
		errc <- srv.Serve(l)
	}()
	a.log.Info("mcp-dcr: serving", "listen", l.Addr().String(), "tls", useTLS, "public_url", a.cfg.PublicURL, "cimd", a.cfg.CIMD())
	ready(l.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	a.log.Info("mcp-dcr: stopped")
	return nil
}
