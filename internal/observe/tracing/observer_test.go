package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/observetest"
)

const (
	clientTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientParent = "00-" + clientTrace + "-00f067aa0ba902b7-01"
)

// harness is a hub with the tracing observer over an in-memory recorder
// and an event recorder.
type harness struct {
	spans  *tracetest.SpanRecorder
	events *observetest.Recorder
	hub    *observe.Hub
}

func newHarness(t *testing.T) *harness {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	h := &harness{spans: sr, events: observetest.New()}
	h.hub = observe.NewHub(New(tp), h.events)
	return h
}

// byName indexes the ended spans by name (each name once).
func (h *harness) byName(t *testing.T) map[string]sdktrace.ReadOnlySpan {
	t.Helper()
	out := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range h.spans.Ended() {
		if _, dup := out[s.Name()]; dup {
			t.Fatalf("two spans named %q", s.Name())
		}
		out[s.Name()] = s
	}
	return out
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// TestRequestSpans: an allowed tools/call is one server span named after
// the operation, with verify, authz and upstream children; the upstream
// phase's context carries the traceparent of the upstream span; the
// event's trace id is the span's; no caller identity is on any span.
func TestRequestSpans(t *testing.T) {
	h := newHarness(t)
	r := httptest.NewRequest("POST", "/mcp", nil)
	r.Header.Set("MCP-Protocol-Version", "2025-11-25")
	ctx, rec := h.hub.Start(context.Background(), "/mcp", r, "192.0.2.7")
	observe.SetOperations(ctx, []observe.Operation{{Method: "tools/call", Name: "get_weather"}})
	_, end := observe.StartPhase(ctx, observe.PhaseVerify)
	end(nil)
	observe.SetPrincipal(ctx, "alice@example.com", "client-1", "https://issuer")
	_, end = observe.StartPhase(ctx, observe.PhaseAuthz)
	end(nil)
	uctx, end := observe.StartPhase(ctx, observe.PhaseUpstream)
	parent, _ := observe.TraceContext(uctx)
	observe.SetUpstream(uctx, 200, time.Millisecond, "")
	end(nil)
	rec.Finish(ctx, 200)

	spans := h.byName(t)
	root := spans["tools/call get_weather"]
	if root == nil {
		t.Fatalf("no server span named after the tool; spans: %v", spans)
	}
	if root.SpanKind() != trace.SpanKindServer || root.Parent().IsValid() || root.Status().Code == codes.Error {
		t.Errorf("server span: kind %v parent %v status %v", root.SpanKind(), root.Parent(), root.Status())
	}
	a := attrs(root)
	for k, want := range map[attribute.Key]string{
		"mcp.method.name": "tools/call", "gen_ai.tool.name": "get_weather", "gen_ai.operation.name": "execute_tool",
		"http.route": "/mcp", "http.request.method": "POST", "mcp.protocol.version": "2025-11-25",
		"mcpgw.decision": "allow", "mcpgw.request_id": rec.ID(),
	} {
		if got := a[k].Emit(); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if a["http.response.status_code"].AsInt64() != 200 || a["mcpgw.upstream.status_code"].AsInt64() != 200 {
		t.Errorf("status attributes: %v", a)
	}
	for _, s := range h.spans.Ended() {
		for _, kv := range s.Attributes() {
			if v := kv.Value.Emit(); strings.Contains(v, "alice") || strings.Contains(v, "client-1") || strings.Contains(v, "192.0.2.7") || strings.Contains(v, "issuer") {
				t.Errorf("span %s carries caller identity: %s=%s", s.Name(), kv.Key, v)
			}
		}
	}
	for name, kind := range map[string]trace.SpanKind{SpanVerify: trace.SpanKindInternal, SpanAuthz: trace.SpanKindInternal, SpanUpstream: trace.SpanKindClient} {
		s := spans[name]
		if s == nil {
			t.Fatalf("no %s span", name)
		}
		if s.Parent().SpanID() != root.SpanContext().SpanID() || s.SpanContext().TraceID() != root.SpanContext().TraceID() || s.SpanKind() != kind {
			t.Errorf("%s: parent %v kind %v, want child of the server span, %v", name, s.Parent().SpanID(), s.SpanKind(), kind)
		}
	}
	up := spans[SpanUpstream].SpanContext()
	if want := "00-" + up.TraceID().String() + "-" + up.SpanID().String() + "-01"; parent != want {
		t.Errorf("upstream traceparent %q, want %q", parent, want)
	}
	if attrs(spans[SpanUpstream])["http.response.status_code"].AsInt64() != 200 {
		t.Error("upstream span lacks the upstream's status")
	}
	ev := h.events.Events()
	if len(ev) != 1 || ev[0].TraceID != root.SpanContext().TraceID().String() {
		t.Fatalf("event trace id: %+v", ev)
	}
}

// TestIncomingTraceContinued: the client's traceparent and tracestate
// are the server span's parent; the upstream gets the same trace and
// tracestate. A malformed traceparent starts a new trace.
func TestIncomingTraceContinued(t *testing.T) {
	for _, c := range []struct {
		name, parent string
		continued    bool
	}{
		{"valid", clientParent, true},
		{"malformed", "00-" + clientTrace + "-zz-01", false},
		{"all-zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			r := httptest.NewRequest("GET", "/mcp", nil)
			r.Header.Set("traceparent", c.parent)
			r.Header.Set("tracestate", "vendor=abc")
			ctx, rec := h.hub.Start(context.Background(), "/mcp", r, "")
			uctx, end := observe.StartPhase(ctx, observe.PhaseUpstream)
			parent, state := observe.TraceContext(uctx)
			end(nil)
			rec.Finish(ctx, 200)
			root := h.byName(t)["GET /mcp"]
			if root == nil {
				t.Fatal("no server span")
			}
			continued := root.SpanContext().TraceID().String() == clientTrace
			if continued != c.continued || continued != root.Parent().IsRemote() {
				t.Fatalf("trace %s (remote parent %v), continued want %v", root.SpanContext().TraceID(), root.Parent().IsRemote(), c.continued)
			}
			if !strings.Contains(parent, root.SpanContext().TraceID().String()) {
				t.Errorf("upstream traceparent %q not in trace %s", parent, root.SpanContext().TraceID())
			}
			if c.continued && state != "vendor=abc" {
				t.Errorf("tracestate %q", state)
			}
		})
	}
}

// TestRefusalSpans: a refusal marks the server span Error with its
// reason; a failed verification marks the verify span with the token
// check (not the error's text); a batch names its operations in events.
func TestRefusalSpans(t *testing.T) {
	h := newHarness(t)
	ctx, rec := h.hub.Start(context.Background(), "/mcp", httptest.NewRequest("POST", "/mcp", nil), "")
	observe.SetOperations(ctx, []observe.Operation{{Method: "tools/call", Name: "a"}, {Method: "tools/list"}})
	_, end := observe.StartPhase(ctx, observe.PhaseVerify)
	end(fmt.Errorf("%w: secret-detail", authn.ErrKeysUnavailable))
	observe.Deny(ctx, observe.Reason(authn.ReasonExpired), "token expired")
	rec.Finish(ctx, 401)

	spans := h.byName(t)
	root, verify := spans["POST /mcp"], spans[SpanVerify]
	if root == nil || verify == nil {
		t.Fatalf("spans: %v", spans)
	}
	if root.Status().Code != codes.Error || attrs(root)["error.type"].AsString() != "expired" || attrs(root)["mcpgw.batch.size"].AsInt64() != 2 {
		t.Errorf("server span: %v %v", root.Status(), attrs(root))
	}
	if len(root.Events()) != 2 || root.Events()[0].Name != "mcp.operation" {
		t.Errorf("batch events: %v", root.Events())
	}
	if verify.Status().Code != codes.Error || verify.Status().Description != "unavailable" || attrs(verify)["error.type"].AsString() != "unavailable" {
		t.Errorf("verify span: %v %v", verify.Status(), attrs(verify))
	}
}

// TestUpstreamFailureSpan: the upstream span carries the error kind
// SetUpstream recorded; a 502 answer marks the server span Error.
func TestUpstreamFailureSpan(t *testing.T) {
	h := newHarness(t)
	ctx, rec := h.hub.Start(context.Background(), "/mcp", httptest.NewRequest("POST", "/mcp", nil), "")
	uctx, end := observe.StartPhase(ctx, observe.PhaseUpstream)
	observe.SetUpstream(uctx, 0, time.Second, "connect")
	observe.Failed(uctx, observe.ReasonUpstream, "upstream unavailable")
	end(errors.New("dial tcp: refused"))
	rec.Finish(ctx, 502)
	spans := h.byName(t)
	if up := spans[SpanUpstream]; up == nil || up.Status().Code != codes.Error || attrs(up)["error.type"].AsString() != "connect" {
		t.Fatalf("upstream span: %v", spans)
	}
	if root := spans["POST /mcp"]; root.Status().Code != codes.Error || attrs(root)["mcpgw.upstream.error"].AsString() != "connect" {
		t.Errorf("server span: %v %v", root.Status(), attrs(root))
	}
}

// TestClipsClientStrings: a tool name a client chose is cut to
// maxAttrLen bytes, at a rune boundary, in the span's name and attribute.
func TestClipsClientStrings(t *testing.T) {
	h := newHarness(t)
	long := strings.Repeat("é", maxAttrLen)
	ctx, rec := h.hub.Start(context.Background(), "/mcp", httptest.NewRequest("POST", "/mcp", nil), "")
	observe.SetOperations(ctx, []observe.Operation{{Method: "tools/call", Name: long}})
	rec.Finish(ctx, 200)
	s := h.spans.Ended()[0]
	name := attrs(s)["gen_ai.tool.name"].AsString()
	if len(name) > maxAttrLen || !strings.HasPrefix(long, name) || len(s.Name()) > maxAttrLen {
		t.Fatalf("tool name %d bytes, span name %d bytes", len(name), len(s.Name()))
	}
}
