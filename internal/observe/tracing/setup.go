package tracing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
)

// ServiceName is the service.name of the gateway's spans unless
// OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES names another.
const ServiceName = "mcp-gateway"

// shutdownTimeout bounds the flush of buffered spans at shutdown.
const shutdownTimeout = 5 * time.Second

// Protocols of the OTLP exporter (OTEL_EXPORTER_OTLP_PROTOCOL).
const (
	protocolProtobuf = "http/protobuf"
	protocolJSON     = "http/json"
	protocolGRPC     = "grpc"
)

// protocol reads the variables that decide whether tracing is on (see the
// package doc) through getenv, and returns the OTLP protocol to export
// with, "" when tracing is off. It fails on an exporter or protocol that
// does not exist here, so that a configuration asking for traces does not
// silently produce none.
func protocol(getenv func(string) string) (string, error) {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return "", nil
	}
	explicit := false
	if v := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); v != "" {
		for _, e := range strings.Split(v, ",") {
			switch e = strings.ToLower(strings.TrimSpace(e)); e {
			case "none":
				return "", nil
			case "otlp":
				explicit = true
			default:
				return "", fmt.Errorf("OTEL_TRACES_EXPORTER=%q: only otlp and none are supported", v)
			}
		}
	}
	if !explicit && getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return "", nil
	}
	name, proto := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"))
	if proto == "" {
		name, proto = "OTEL_EXPORTER_OTLP_PROTOCOL", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_PROTOCOL"))
	}
	switch proto {
	case "":
		return protocolProtobuf, nil
	case protocolProtobuf, protocolJSON, protocolGRPC:
		return proto, nil
	}
	return "", fmt.Errorf("%s=%q: use http/protobuf, http/json or grpc", name, proto)
}

// FromEnv sets tracing up from the process environment (see the package
// doc). It returns a nil Observer and Closer when tracing is off. Closing
// the Closer flushes the spans still buffered (bounded by five seconds)
// and stops the exporter; it may be called more than once. Export errors
// are logged on log at warning level (they never fail a request). It does
// no network I/O: the exporter connects when it first exports.
func FromEnv(ctx context.Context, serviceVersion string, log *slog.Logger) (*Observer, io.Closer, error) {
	proto, err := protocol(os.Getenv)
	if err != nil || proto == "" {
		return nil, nil, err
	}
	// The exporters read the rest of OTEL_EXPORTER_OTLP_* themselves
	// (endpoint, headers, TLS, compression, timeout, http/json).
	var exp sdktrace.SpanExporter
	if proto == protocolGRPC {
		exp, err = otlptracegrpc.New(ctx)
	} else {
		exp, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("otlp exporter (%s): %w", proto, err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(ServiceName), semconv.ServiceVersion(serviceVersion)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES: last, so they win
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	if log != nil {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			log.Warn("tracing: exporting spans failed", "err", err)
		}))
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return New(tp), &closer{tp: tp}, nil
}

// closer flushes and shuts a tracer provider down once.
type closer struct {
	tp   *sdktrace.TracerProvider
	once sync.Once
	err  error
}

// Close flushes the buffered spans and stops the exporter.
func (c *closer) Close() error {
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := c.tp.Shutdown(ctx); err != nil {
			c.err = fmt.Errorf("tracing: flushing spans: %w", err)
		}
	})
	return c.err
}
