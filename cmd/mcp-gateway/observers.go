package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/audit"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/metrics"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/tracing"
)

// observers builds what records every request on an MCP route (see
// internal/observe): each entry is one sink. The closers flush and close
// them at shutdown.
func observers(cfg *config.Config, log *slog.Logger) ([]observe.Observer, []io.Closer, error) {
	var (
		obs     []observe.Observer
		closers []io.Closer
	)
	_ = cfg
	_ = log
	// The audit trail (audit_log: stderr, off or a file path).
	if al, c, err := audit.Open(cfg.AuditLog); err != nil {
		return nil, nil, err
	} else if al != nil {
		obs = append(obs, al)
		if c != nil {
			closers = append(closers, c)
		}
		log.Debug("audit log", "to", cfg.AuditLog)
	}
	// Prometheus metrics, always on; wireMetrics gives them their sources
	// and /metrics is served on listen or metrics_listen.
	obs = append(obs, metrics.New(metrics.Options{}))
	// OpenTelemetry tracing: off unless the standard OTEL_* environment
	// configures an OTLP exporter (see internal/observe/tracing).
	tr, trClose, err := tracing.FromEnv(context.Background(), version, log)
	if err != nil {
		for _, c := range closers {
			_ = c.Close()
		}
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	if tr != nil {
		obs = append(obs, tr)
		closers = append(closers, trClose)
		log.Info("tracing on: exporting spans over OTLP")
	}
	return obs, closers, nil
}
