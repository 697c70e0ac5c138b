package tracing

import (
	"context"
	"errors"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
)

// ScopeName is the instrumentation scope of the gateway's spans.
const ScopeName = "github.com/mcp-gateway/mcp-gateway/internal/observe/tracing"

// maxAttrLen caps a span attribute or name taken from what a client sent.
const maxAttrLen = 256

// Span names of the phases below the request's server span.
const (
	SpanVerify   = "verify"
	SpanAuthz    = "authz"
	SpanUpstream = "upstream"
)

// Attributes of the gateway's own (no semantic convention covers them).
const (
	AttrRequestID      = attribute.Key("mcpgw.request_id")
	AttrDecision       = attribute.Key("mcpgw.decision")
	AttrReason         = attribute.Key("mcpgw.reason")
	AttrBatch          = attribute.Key("mcpgw.batch.size")
	AttrUpstreamStatus = attribute.Key("mcpgw.upstream.status_code")
	AttrUpstreamError  = attribute.Key("mcpgw.upstream.error")
)

// Observer traces the requests of the routes (see the package doc).
type Observer struct {
	tracer trace.Tracer
	prop   propagation.TraceContext
}

var (
	_ observe.Observer      = (*Observer)(nil)
	_ observe.PhaseObserver = (*Observer)(nil)
)

// New returns an Observer whose spans go to tp.
func New(tp trace.TracerProvider) *Observer {
	return &Observer{tracer: tp.Tracer(ScopeName)}
}

// StartPhase starts phase p's span. PhaseRequest is the server span: its
// parent is the W3C trace context of the request's traceparent and
// tracestate headers (W3C Trace Context Level 1 §3; a malformed one is
// ignored and a new trace begins), its trace id goes on the record
// (observe.SetTraceID), and its name is "<HTTP method> <route>" until
// Observe names the MCP operation. Verify and authz are internal spans,
// upstream a client span. The returned context carries the span and its
// W3C trace context for the upstream (observe.TraceContext).
func (o *Observer) StartPhase(ctx context.Context, p observe.Phase, rec *observe.Request) (context.Context, func(error)) {
	var span trace.Span
	switch p {
	case observe.PhaseRequest:
		snap := rec.Snapshot()
		ctx = o.prop.Extract(ctx, propagation.HeaderCarrier(rec.Header))
		attrs := []attribute.KeyValue{
			semconv.HTTPRequestMethodKey.String(snap.HTTPMethod),
			semconv.HTTPRoute(snap.Route),
			AttrRequestID.String(snap.RequestID),
		}
		if v := rec.Header.Get(mcpwire.HeaderProtocolVersion); v != "" {
			attrs = append(attrs, semconv.McpProtocolVersion(clip(v)))
		}
		ctx, span = o.tracer.Start(ctx, clip(snap.HTTPMethod)+" "+snap.Route,
			trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
		observe.SetTraceID(ctx, span.SpanContext().TraceID().String())
	case observe.PhaseUpstream:
		ctx, span = o.tracer.Start(ctx, SpanUpstream, trace.WithSpanKind(trace.SpanKindClient))
	default:
		ctx, span = o.tracer.Start(ctx, string(p), trace.WithSpanKind(trace.SpanKindInternal))
	}
	carrier := propagation.MapCarrier{}
	o.prop.Inject(ctx, carrier)
	ctx = observe.WithTraceContext(ctx, carrier.Get(observe.HeaderTraceParent), carrier.Get(observe.HeaderTraceState))
	return ctx, func(err error) { o.end(span, p, rec, err) }
}

// end ends a phase's span; a failed phase's status is Error with a fixed
// reason as description (never the error's text, which may quote input).
func (o *Observer) end(span trace.Span, p observe.Phase, rec *observe.Request, err error) {
	defer span.End()
	snap := rec.Snapshot()
	kind := ""
	switch p {
	case observe.PhaseRequest:
		// Observe set the attributes; err is the decision's.
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
		return
	case observe.PhaseVerify:
		if err != nil {
			kind = authn.FailureReason(err)
		}
	case observe.PhaseUpstream:
		if snap.UpstreamStatus != 0 {
			span.SetAttributes(semconv.HTTPResponseStatusCode(snap.UpstreamStatus))
		}
		kind = snap.UpstreamError
	default:
		if err != nil {
			kind = string(snap.Reason)
		}
	}
	if err != nil && kind == "" {
		kind = "error"
		if errors.Is(err, context.Canceled) {
			kind = "canceled"
		}
	}
	if kind != "" {
		span.SetAttributes(semconv.ErrorTypeKey.String(kind))
		span.SetStatus(codes.Error, kind)
	}
}

// Observe writes the event on the request's server span (the span in
// ctx): the MCP operation (MCP semantic conventions: mcp.method.name,
// gen_ai.tool.name, gen_ai.prompt.name, mcp.resource.uri; the span is
// renamed "<method> <tool or prompt>"), the HTTP status, the decision and
// its reason, the upstream's status, and status Error for a refusal, a
// failure or a 5xx. A batch names each operation in a span event instead.
// The subject, client id, issuer and client address are left out.
func (o *Observer) Observe(ctx context.Context, e *observe.Event) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	attrs := []attribute.KeyValue{
		semconv.HTTPResponseStatusCode(e.Status),
		AttrDecision.String(string(e.Decision)),
	}
	if e.Reason != observe.ReasonNone {
		attrs = append(attrs, AttrReason.String(string(e.Reason)))
	}
	if e.UpstreamStatus != 0 {
		attrs = append(attrs, AttrUpstreamStatus.Int(e.UpstreamStatus))
	}
	if e.UpstreamError != "" {
		attrs = append(attrs, AttrUpstreamError.String(e.UpstreamError))
	}
	op := operationAttrs(e.Operation)
	if e.Batch > 1 {
		attrs = append(attrs, AttrBatch.Int(e.Batch))
		span.AddEvent("mcp.operation", trace.WithAttributes(op...))
	} else {
		attrs = append(attrs, op...)
		if e.Method != "" {
			name := e.Method
			if e.Name != "" && (e.Method == "tools/call" || e.Method == "prompts/get") {
				name += " " + e.Name
			}
			span.SetName(clip(name))
		}
	}
	switch {
	case e.Decision == observe.DecisionDeny || e.Decision == observe.DecisionError:
		attrs = append(attrs, semconv.ErrorTypeKey.String(string(e.Reason)))
		span.SetStatus(codes.Error, string(e.Decision)+": "+string(e.Reason))
	case e.Status >= 500:
		attrs = append(attrs, semconv.ErrorTypeKey.String(statusText(e.Status)))
		span.SetStatus(codes.Error, "status "+statusText(e.Status))
	}
	span.SetAttributes(attrs...)
}

// operationAttrs are the MCP semantic conventions' attributes of op.
func operationAttrs(op observe.Operation) []attribute.KeyValue {
	if op.Method == "" {
		return nil
	}
	attrs := []attribute.KeyValue{semconv.McpMethodNameKey.String(clip(op.Method))}
	if op.Name == "" {
		return attrs
	}
	switch op.Method {
	case "tools/call":
		attrs = append(attrs, semconv.GenAIToolName(clip(op.Name)), semconv.GenAIOperationNameExecuteTool)
	case "prompts/get":
		attrs = append(attrs, semconv.GenAIPromptName(clip(op.Name)))
	case "resources/read", "resources/subscribe":
		attrs = append(attrs, semconv.McpResourceURI(clip(op.Name)))
	}
	return attrs
}

func statusText(status int) string { return strconv.Itoa(status) }

// clip cuts s to at most maxAttrLen bytes, at a rune boundary.
func clip(s string) string {
	if len(s) <= maxAttrLen {
		return s
	}
	i := maxAttrLen
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
