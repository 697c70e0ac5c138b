package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/audit"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// arrived is the fixed clock of the golden events: a non-UTC zone, so the
// golden file shows the conversion to UTC.
var arrived = time.Date(2026, 3, 1, 10, 4, 5, 123456789, time.FixedZone("CET", 3600))

// goldenEvents is one event of every shape the audit log writes, and some
// it must skip.
func goldenEvents() []observe.Event {
	base := observe.Event{Time: arrived, RequestID: "0123456789abcdef01234567", Route: "/mcp", HTTPMethod: "POST",
		RemoteIP: "192.0.2.7", Status: 200, Latency: 12345678 * time.Nanosecond}
	principal := func(e observe.Event) observe.Event {
		e.Subject, e.ClientID, e.Issuer = "alice", "inspector", "https://idp.example"
		return e
	}
	with := func(e observe.Event, f func(*observe.Event)) observe.Event { f(&e); return e }
	return []observe.Event{
		// An allowed tool call that reached an HTTP upstream, traced.
		with(principal(base), func(e *observe.Event) {
			e.Operation = observe.Operation{Method: "tools/call", Name: "search"}
			e.Decision = observe.DecisionAllow
			e.UpstreamStatus, e.UpstreamLatency = 200, 9876543*time.Nanosecond
			e.TraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		}),
		// Allowed, not a use: not written.
		with(principal(base), func(e *observe.Event) {
			e.Operation = observe.Operation{Method: "tools/list"}
			e.Decision = observe.DecisionAllow
		}),
		// No token, before anything was parsed (no method, no caller).
		with(base, func(e *observe.Event) {
			e.Decision, e.Reason, e.Detail, e.Status = observe.DecisionDeny, observe.ReasonMissing, "no bearer token", 401
			e.Latency = 300 * time.Microsecond
		}),
		// An expired token on a GET stream.
		with(base, func(e *observe.Event) {
			e.HTTPMethod = "GET"
			e.Decision, e.Reason, e.Detail, e.Status = observe.DecisionDeny, "expired", "invalid token: token is expired", 401
		}),
		// A tool scope refusal in a batch of two: both operations are
		// written, the ping too since it was refused.
		with(principal(base), func(e *observe.Event) {
			e.Operation = observe.Operation{Method: "tools/call", Name: "admin_reset"}
			e.Batch = 2
			e.Decision, e.Reason, e.Detail, e.Status = observe.DecisionDeny, observe.ReasonScope, "insufficient scope: needs mcp:read tickets:admin", 403
		}),
		with(principal(base), func(e *observe.Event) {
			e.Operation = observe.Operation{Method: "ping"}
			e.Batch = 2
			e.Decision, e.Reason, e.Detail, e.Status = observe.DecisionDeny, observe.ReasonScope, "insufficient scope: needs mcp:read tickets:admin", 403
		}),
		// An upstream timeout on a resource read.
		with(principal(base), func(e *observe.Event) {
			e.Operation = observe.Operation{Method: "resources/read", Name: "file:///reports/q1.pdf"}
			e.Decision, e.Reason, e.Detail, e.Status = observe.DecisionError, observe.ReasonTimeout, "upstream did not answer in time", 504
			e.UpstreamError, e.Latency = "timeout", 30*time.Second
		}),
		// Prompts and completions are uses too; batch 1 is not written.
		with(principal(base), func(e *observe.Event) {
			e.Operation = observe.Operation{Method: "prompts/get", Name: "summarize"}
			e.Batch = 1
			e.Decision = observe.DecisionAllow
		}),
		with(principal(base), func(e *observe.Event) {
			e.Operation = observe.Operation{Method: "completion/complete"}
			e.Decision = observe.DecisionAllow
		}),
		with(principal(base), func(e *observe.Event) {
			e.Operation = observe.Operation{Method: "resources/subscribe", Name: "file:///reports/"}
			e.Decision = observe.DecisionAllow
			e.UpstreamStatus = 202
		}),
		// A client-chosen name with quotes, a line break and control
		// characters stays one escaped line; an oversized one is cut.
		with(principal(base), func(e *observe.Event) {
			e.Operation = observe.Operation{Method: "tools/call", Name: "a\"b\nc\x1b[2Jd\u2028"}
			e.Decision = observe.DecisionAllow
		}),
		with(base, func(e *observe.Event) {
			e.Operation = observe.Operation{Method: strings.Repeat("é", audit.MaxFieldBytes)}
			e.Decision, e.Reason, e.Detail, e.Status = observe.DecisionDeny, observe.ReasonInvalidRequest, "method not found", 400
		}),
	}
}

// TestGoldenSchema pins the schema: the keys, their order, their types
// and formats (RFC 3339 UTC time with milliseconds, latency in fractional
// milliseconds), which events are written and which skipped.
func TestGoldenSchema(t *testing.T) {
	var buf bytes.Buffer
	l := audit.New(&buf)
	for _, e := range goldenEvents() {
		l.Observe(context.Background(), &e)
	}
	testkit.Golden(t, "testdata/events.golden", buf.Bytes())
	for i, line := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
		if !json.Valid(line) {
			t.Errorf("line %d is not JSON: %s", i+1, line)
		}
	}
}

// schema is every key an audit line may have, in order.
var schema = []string{"time", "msg", "request_id", "route", "http_method", "method", "name", "batch",
	"subject", "client_id", "issuer", "remote_ip", "decision", "reason", "detail", "status", "latency_ms",
	"upstream_status", "upstream_latency_ms", "upstream_error", "trace_id"}

// TestKeysInSchemaOrder: every line's keys are schema keys in schema
// order (the golden file shows values; this says no key is ever added or
// reordered by accident, on every golden event).
func TestKeysInSchemaOrder(t *testing.T) {
	pos := map[string]int{}
	for i, k := range schema {
		pos[k] = i
	}
	var buf bytes.Buffer
	l := audit.New(&buf)
	for _, e := range goldenEvents() {
		l.Observe(context.Background(), &e)
	}
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		last := -1
		for dec.More() {
			k, _ := dec.Token()
			p, ok := pos[k.(string)]
			if !ok || p <= last {
				t.Fatalf("key %q out of schema or order in %s", k, sc.Text())
			}
			last = p
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestAudited: uses of tools, resources, prompts and completions are
// written whatever the decision; anything else only when not allowed.
func TestAudited(t *testing.T) {
	for _, c := range []struct {
		method string
		d      observe.Decision
		want   bool
	}{
		{"tools/call", observe.DecisionAllow, true},
		{"resources/read", observe.DecisionAllow, true},
		{"resources/subscribe", observe.DecisionAllow, true},
		{"prompts/get", observe.DecisionAllow, true},
		{"completion/complete", observe.DecisionAllow, true},
		{"tools/list", observe.DecisionAllow, false},
		{"initialize", observe.DecisionAllow, false},
		{"", observe.DecisionAllow, false},
		{"tools/list", observe.DecisionDeny, true},
		{"", observe.DecisionDeny, true},
		{"ping", observe.DecisionError, true},
	} {
		e := observe.Event{Operation: observe.Operation{Method: c.method}, Decision: c.d}
		if got := audit.Audited(&e); got != c.want {
			t.Errorf("Audited(%q, %s) = %v, want %v", c.method, c.d, got, c.want)
		}
	}
}

// lineWriter fails the test unless every Write is exactly one whole JSON
// line.
type lineWriter struct {
	t     *testing.T
	mu    sync.Mutex
	lines int
}

func (w *lineWriter) Write(p []byte) (int, error) {
	if bytes.IndexByte(p, '\n') != len(p)-1 || !json.Valid(p) {
		w.t.Errorf("a Write that is not one JSON line: %q", p)
	}
	w.mu.Lock()
	w.lines++
	w.mu.Unlock()
	return len(p), nil
}

// TestOneWritePerLineUnderConcurrency: many goroutines auditing at once
// hand the writer whole lines, one per Write (run with -race).
func TestOneWritePerLineUnderConcurrency(t *testing.T) {
	const goroutines, each = 32, 100
	w := &lineWriter{t: t}
	l := audit.New(w)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				e := observe.Event{Time: arrived, RequestID: fmt.Sprintf("g%d-%d", g, i), Route: "/mcp",
					Operation: observe.Operation{Method: "tools/call", Name: strings.Repeat("x", 3000)},
					Decision:  observe.DecisionAllow, Status: 200}
				l.Observe(context.Background(), &e)
			}
		})
	}
	wg.Wait()
	if w.lines != goroutines*each {
		t.Fatalf("%d lines, want %d", w.lines, goroutines*each)
	}
}
