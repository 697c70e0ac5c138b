// Package tracing is the gateway's OpenTelemetry tracing: an
// [observe.Observer] and [observe.PhaseObserver] that turns each request
// on an MCP route into a server span with child spans for the token's
// verification, the authorization decision and the upstream call, and
// that hands the layers calling an upstream the W3C trace context to
// propagate (observe.WithTraceContext), so that they never import
// OpenTelemetry.
//
// Tracing is off by default. [FromEnv] turns it on from the standard
// OpenTelemetry environment (OpenTelemetry Specification, "Environment
// Variable Specification" and "OTLP Exporter Configuration"): an OTLP
// endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or OTEL_TRACES_EXPORTER=otlp.
// OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none keep it off. The
// exporter speaks OTLP/HTTP (http/protobuf, the default, or http/json) or
// OTLP/gRPC (OTEL_EXPORTER_OTLP_PROTOCOL=grpc); another protocol or
// exporter name fails startup rather than silently exporting nothing. The
// OpenTelemetry SDK itself reads the rest (headers, TLS, compression,
// timeouts, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
// OTEL_TRACES_SAMPLER, OTEL_BSP_*) from the process environment: these
// are its own settings, not the gateway's, so internal/config does not
// decode them, and a .env file does not set them.
//
// Spans carry no subject, client id, issuer, token, claim or client IP
// address: the trace says what was called and what the gateway decided,
// the audit log says who. Strings a client chose (method, tool name,
// MCP-Protocol-Version) are clipped to maxAttrLen bytes. An incoming
// traceparent is trusted as a parent, as for any server: with the default
// parentbased_always_on sampler a client decides whether its requests are
// sampled (set OTEL_TRACES_SAMPLER=traceidratio to decide alone).
package tracing
