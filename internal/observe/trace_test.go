package observe

import (
	"context"
	"net/http"
	"testing"
)

// TestTraceHeaders: without trace context nothing is set; with it the
// headers are replaced, and a stale tracestate goes when the trace has
// none.
func TestTraceHeaders(t *testing.T) {
	h := http.Header{"Tracestate": {"stale=1"}}
	SetTraceHeaders(context.Background(), h)
	if h.Get("traceparent") != "" || h.Get("tracestate") != "stale=1" {
		t.Fatalf("tracing off changed headers: %v", h)
	}
	if p, s := TraceContext(WithTraceContext(context.Background(), "", "x=1")); p != "" || s != "" {
		t.Fatalf("empty traceparent stored: %q %q", p, s)
	}
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, c := range []struct{ state, want string }{{"", ""}, {"v=2", "v=2"}} {
		h := http.Header{"Traceparent": {"old"}, "Tracestate": {"stale=1"}}
		SetTraceHeaders(WithTraceContext(context.Background(), tp, c.state), h)
		if h.Get("traceparent") != tp || h.Get("tracestate") != c.want || len(h.Values("traceparent")) != 1 {
			t.Errorf("state %q: headers %v", c.state, h)
		}
	}
}
