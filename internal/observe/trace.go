package observe

import (
	"context"
	"net/http"
)

// W3C Trace Context header names (W3C Trace Context Level 1 §3.2, §3.3),
// also the members of params._meta that carry them in a JSON-RPC message.
const (
	HeaderTraceParent = "traceparent"
	HeaderTraceState  = "tracestate"
)

type traceKey struct{}

type traceContext struct{ parent, state string }

// WithTraceContext returns ctx carrying the W3C traceparent and
// tracestate of the span a phase runs in. The tracing observer's
// StartPhase calls it, so that the layers that call an upstream propagate
// the trace without depending on OpenTelemetry. An empty traceparent
// returns ctx unchanged. The values are not checked: the caller produces
// them with a W3C propagator.
func WithTraceContext(ctx context.Context, traceparent, tracestate string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return context.WithValue(ctx, traceKey{}, traceContext{traceparent, tracestate})
}

// TraceContext returns the W3C traceparent and tracestate the upstream
// call running in ctx must carry; both are "" when tracing is off (then
// nothing is propagated).
func TraceContext(ctx context.Context) (traceparent, tracestate string) {
	tc, _ := ctx.Value(traceKey{}).(traceContext)
	return tc.parent, tc.state
}

// SetTraceHeaders sets the traceparent and tracestate headers of an
// upstream request from ctx (W3C Trace Context Level 1 §3), replacing any
// present; with tracing off it leaves h untouched. A tracestate header is
// removed when the trace has none, so that a stale one never pairs with
// the new traceparent.
func SetTraceHeaders(ctx context.Context, h http.Header) {
	parent, state := TraceContext(ctx)
	if parent == "" {
		return
	}
	h.Set(HeaderTraceParent, parent)
	if state != "" {
		h.Set(HeaderTraceState, state)
	} else {
		h.Del(HeaderTraceState)
	}
}
