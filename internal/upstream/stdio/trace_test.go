package stdio

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/tracing"
)

// recordingServer serves a Server whose child is the test server behind
// tee: every line the child reads is appended to the returned file. The
// front opens an observe record on hub, as the gateway's does.
func recordingServer(t *testing.T, hub *observe.Hub) (h *harness, record string) {
	t.Helper()
	dir := t.TempDir()
	record = filepath.Join(dir, "stdin.log")
	script := filepath.Join(dir, "child.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntee -a \"$STDIN_RECORD\" | exec \"$STDIO_CHILD\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	o := testOptions()
	o.Command = []string{script}
	o.Env["STDIN_RECORD"] = record
	o.Env["STDIO_CHILD"] = os.Args[0]
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(hub.Handler("/stdio", nil, front(srv)))
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		hs.CloseClientConnections()
		hs.Close()
	})
	return &harness{srv: srv, url: hs.URL}, record
}

// recordedLines waits until the child has read n lines and returns them.
func recordedLines(t *testing.T, record string, n int) []string {
	t.Helper()
	var lines []string
	waitFor(t, "the child to read the messages", func() bool {
		b, _ := os.ReadFile(record)
		lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		return len(b) > 0 && len(lines) >= n
	})
	return lines
}

// tracedCall is the tools/call the tests send, with white space and a
// _meta of its own.
const tracedCall = `{"jsonrpc": "2.0", "id": 7, "method": "tools/call",
  "params": {"name": "echo", "arguments": {"message": "hi"}, "_meta": {"progressToken": "p1"}}}`

// callRaw initializes a session and POSTs tracedCall, reading the answer
// to its end.
func callRaw(t *testing.T, h *harness) {
	t.Helper()
	sid := h.initRaw(t, "alice", "2025-11-25")
	resp := h.rawPost(t, context.Background(), "alice", sid, tracedCall, map[string]string{hdrProtocolVersion: "2025-11-25"})
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"hi"`) {
		t.Fatalf("tools/call: %s %s", resp.Status, body)
	}
}

// TestStdioTraceMeta: with tracing on, each request the child reads
// carries params._meta.traceparent naming the upstream span of the
// request that sent it (same trace, that span as parent); the
// notification is left alone, and the line stays one JSON message.
func TestStdioTraceMeta(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	h, record := recordingServer(t, observe.NewHub(tracing.New(tp)))
	callRaw(t, h)

	lines := recordedLines(t, record, 3)
	if strings.Contains(lines[1], "traceparent") {
		t.Errorf("notification got trace context: %s", lines[1])
	}
	for _, i := range []int{0, 2} {
		var m struct {
			Method string `json:"method"`
			Params struct {
				Meta map[string]any `json:"_meta"`
			} `json:"params"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &m); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		parent, _ := m.Params.Meta["traceparent"].(string)
		if parent == "" {
			t.Errorf("%s reached the child without params._meta.traceparent: %s", m.Method, lines[i])
			continue
		}
		var upstream sdktrace.ReadOnlySpan
		waitFor(t, "the upstream span of "+m.Method, func() bool {
			for _, s := range sr.Ended() {
				sc := s.SpanContext()
				if s.Name() == tracing.SpanUpstream && parent == "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-01" {
					upstream = s
					return true
				}
			}
			return false
		})
		if upstream.Parent().TraceID() != upstream.SpanContext().TraceID() || !upstream.Parent().IsValid() {
			t.Errorf("%s: upstream span is not a child in the request's trace", m.Method)
		}
		if m.Method == "tools/call" && m.Params.Meta["progressToken"] != "p1" {
			t.Errorf("the client's _meta was lost: %s", lines[i])
		}
	}
}

// TestStdioNoTraceWhenOff: with no tracing observer the child reads the
// client's messages byte for byte (compacted onto one line), with no
// trace context.
func TestStdioNoTraceWhenOff(t *testing.T) {
	h, record := recordingServer(t, observe.NewHub())
	callRaw(t, h)
	lines := recordedLines(t, record, 3)
	var want bytes.Buffer
	if err := json.Compact(&want, []byte(tracedCall)); err != nil {
		t.Fatal(err)
	}
	if lines[2] != want.String() {
		t.Fatalf("child read\n%s\nwant\n%s", lines[2], want.String())
	}
	for _, l := range lines {
		if strings.Contains(l, "traceparent") {
			t.Errorf("trace context without tracing: %s", l)
		}
	}
}
