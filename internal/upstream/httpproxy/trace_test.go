package httpproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/observetest"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/tracing"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

const (
	clientTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientParent = "00-" + clientTrace + "-00f067aa0ba902b7-01"
	// tracedCall has white space and a _meta of its own.
	tracedCall = `{"jsonrpc": "2.0", "id": 7, "method": "tools/call",
  "params": {"name": "echo", "arguments": {"message": "hi"}, "_meta": {"progressToken": "p1"}}}`
)

// observedGateway is the gateway's front as it records: an observe record
// per request on hub (finished when the handler returns), alice's
// principal, call.Read, then h.
func observedGateway(t *testing.T, hub *observe.Hub, h http.Handler) *httptest.Server {
	t.Helper()
	h = call.Read(0, h)
	srv := httptest.NewServer(hub.Handler("/mcp", nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(bearer.WithToken(r.Context(), principal("alice"))))
	})))
	t.Cleanup(srv.Close)
	return srv
}

// tracer is the tracing observer over an in-memory span recorder.
func tracer(t *testing.T) (*tracing.Observer, *tracetest.SpanRecorder) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tracing.New(tp), sr
}

// bodyRecorder keeps the headers and body of every POST an upstream
// received.
type bodyRecorder struct {
	mu    sync.Mutex
	posts []recordedPost
}

type recordedPost struct {
	header http.Header
	body   []byte
}

func (b *bodyRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			b.mu.Lock()
			b.posts = append(b.posts, recordedPost{r.Header.Clone(), body})
			b.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		h.ServeHTTP(w, r)
	})
}

func (b *bodyRecorder) all() []recordedPost {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]recordedPost(nil), b.posts...)
}

// jsonUpstream answers every POST with status and a JSON-RPC result.
func jsonUpstream(t *testing.T, status int, rec *bodyRecorder) *httptest.Server {
	up := httptest.NewServer(rec.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":7,"result":{"content":[]}}`)
	})))
	t.Cleanup(up.Close)
	return up
}

// upstreamSpanOf returns the ended upstream span that traceparent names.
func upstreamSpanOf(t *testing.T, sr *tracetest.SpanRecorder, traceparent string) sdktrace.ReadOnlySpan {
	t.Helper()
	if traceparent == "" {
		t.Fatal("no traceparent reached the upstream")
	}
	var found sdktrace.ReadOnlySpan
	waitFor(t, "the upstream span named by "+traceparent, func() bool {
		for _, s := range sr.Ended() {
			sc := s.SpanContext()
			if s.Name() == tracing.SpanUpstream && traceparent == "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-01" {
				found = s
				return true
			}
		}
		return false
	})
	return found
}

// TestForwardTraceContext: with tracing on, the upstream gets the
// upstream span's context as the traceparent header and in params._meta,
// in the client's trace; the body is otherwise the client's, byte for
// byte. The upstream's status and latency are on the record.
func TestForwardTraceContext(t *testing.T) {
	checkLeaks(t)
	tr, sr := tracer(t)
	events := observetest.New()
	rec := &bodyRecorder{}
	up := jsonUpstream(t, http.StatusOK, rec)
	gw := observedGateway(t, observe.NewHub(tr, events), newProxy(t, Options{URL: up.URL}))

	resp, body := rawDo(t, http.MethodPost, gw.URL, "alice", tracedCall, map[string]string{"traceparent": clientParent, "tracestate": "v=1"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s", resp.Status, body)
	}
	posts := rec.all()
	if len(posts) != 1 {
		t.Fatalf("%d posts", len(posts))
	}
	header := posts[0].header.Get("traceparent")
	if !strings.HasPrefix(header, "00-"+clientTrace+"-") || posts[0].header.Get("tracestate") != "v=1" {
		t.Fatalf("upstream headers traceparent %q tracestate %q: not the client's trace", header, posts[0].header.Get("tracestate"))
	}
	upstreamSpanOf(t, sr, header)
	if want := mcpwire.SetTraceMeta([]byte(tracedCall), header, "v=1"); !bytes.Equal(posts[0].body, want) {
		t.Errorf("upstream body\n%s\nwant\n%s", posts[0].body, want)
	}
	if !bytes.Contains(posts[0].body, []byte(`"traceparent":"`+header+`"`)) {
		t.Errorf("no params._meta.traceparent in %s", posts[0].body)
	}
	ev := events.Wait(t.Context(), 1)
	if len(ev) != 1 || ev[0].UpstreamStatus != http.StatusOK || ev[0].UpstreamError != "" || ev[0].UpstreamLatency <= 0 || ev[0].TraceID != clientTrace {
		t.Fatalf("event: %+v", ev)
	}
}

// TestForwardUntracedWhenOff: without a tracing observer the upstream
// gets the client's body byte for byte and no trace context, even when
// the client sent one.
func TestForwardUntracedWhenOff(t *testing.T) {
	checkLeaks(t)
	rec := &bodyRecorder{}
	up := jsonUpstream(t, http.StatusOK, rec)
	gw := observedGateway(t, observe.NewHub(observetest.New()), newProxy(t, Options{URL: up.URL}))
	resp, body := rawDo(t, http.MethodPost, gw.URL, "alice", tracedCall, map[string]string{"traceparent": clientParent, "tracestate": "v=1"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s", resp.Status, body)
	}
	posts := rec.all()
	if len(posts) != 1 || string(posts[0].body) != tracedCall {
		t.Fatalf("upstream body %q, want the client's", posts[0].body)
	}
	if h := posts[0].header; h.Get("traceparent") != "" || h.Get("tracestate") != "" {
		t.Errorf("trace headers without tracing: %v", h)
	}
}

// TestUpstreamOutcomeRecorded: each way an upstream call ends is on the
// record with its kind, the decision error for failures, and the
// upstream span failed.
func TestUpstreamOutcomeRecorded(t *testing.T) {
	refused := httptest.NewServer(http.NotFoundHandler())
	refused.Close() // nothing listens at its address any more
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	t.Cleanup(func() { close(hang); slow.Close() })
	for _, c := range []struct {
		name    string
		url     func(t *testing.T) string
		status  int
		kind    string
		reason  observe.Reason
		timeout time.Duration
	}{
		{"ok", func(t *testing.T) string { return jsonUpstream(t, 200, &bodyRecorder{}).URL }, 200, "", "", 0},
		{"5xx", func(t *testing.T) string { return jsonUpstream(t, 503, &bodyRecorder{}).URL }, 503, errKindStatus, observe.ReasonUpstream, 0},
		{"401", func(t *testing.T) string { return jsonUpstream(t, 401, &bodyRecorder{}).URL }, 401, errKindProtocol, observe.ReasonUpstream, 0},
		{"connect", func(*testing.T) string { return refused.URL }, 0, errKindConnect, observe.ReasonUpstream, 0},
		{"timeout", func(*testing.T) string { return slow.URL }, 0, errKindTimeout, observe.ReasonTimeout, 50 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, sr := tracer(t)
			events := observetest.New()
			gw := observedGateway(t, observe.NewHub(tr, events), newProxy(t, Options{URL: c.url(t), Timeout: c.timeout}))
			rawDo(t, http.MethodPost, gw.URL, "alice", tracedCall, nil)
			ev := events.Wait(t.Context(), 1)
			if len(ev) != 1 {
				t.Fatal("no event")
			}
			e := ev[0]
			if e.UpstreamStatus != c.status || e.UpstreamError != c.kind || e.Reason != c.reason {
				t.Errorf("upstream status %d kind %q reason %q; want %d %q %q", e.UpstreamStatus, e.UpstreamError, e.Reason, c.status, c.kind, c.reason)
			}
			if (c.kind != "") != (e.Decision == observe.DecisionError) {
				t.Errorf("decision %q", e.Decision)
			}
			var failed bool
			for _, s := range sr.Ended() {
				if s.Name() == tracing.SpanUpstream {
					failed = s.Status().Description == c.kind && c.kind != ""
				}
			}
			if failed != (c.kind != "") {
				t.Errorf("upstream span status does not say %q", c.kind)
			}
		})
	}
}

// TestBridgeTraceContext: through the HTTP+SSE bridge each message
// posted to the legacy endpoint carries the upstream span's context in
// its traceparent header and params._meta.
func TestBridgeTraceContext(t *testing.T) {
	checkLeaks(t)
	tr, sr := tracer(t)
	rec := &bodyRecorder{}
	up := httptest.NewServer(rec.wrap(mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return mcpServer(nil) }, &mcp.SSEOptions{DisableLocalhostProtection: true})))
	t.Cleanup(func() { up.CloseClientConnections(); up.Close() })
	gw := observedGateway(t, observe.NewHub(tr), newProxy(t, Options{URL: up.URL, Transport: TransportSSE}))
	cs := connect(t, gw.URL, "alice", "2025-11-25", nil)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "x"}}); err != nil {
		t.Fatal(err)
	}
	var calls int
	for _, p := range rec.all() {
		var m struct {
			Method string `json:"method"`
			ID     any    `json:"id"`
			Params struct {
				Meta map[string]any `json:"_meta"`
			} `json:"params"`
		}
		if err := json.Unmarshal(p.body, &m); err != nil {
			t.Fatalf("%s: %v", p.body, err)
		}
		header := p.header.Get("traceparent")
		if header == "" {
			t.Errorf("%s posted without traceparent", m.Method)
			continue
		}
		upstreamSpanOf(t, sr, header)
		if m.ID != nil && m.Params.Meta["traceparent"] != header {
			t.Errorf("%s: _meta %v, header %q", m.Method, m.Params.Meta, header)
		}
		if m.Method == "tools/call" {
			calls++
		}
	}
	if calls != 1 {
		t.Fatalf("%d tools/call posts", calls)
	}
}
