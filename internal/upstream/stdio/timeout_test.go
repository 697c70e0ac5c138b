package stdio

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// TestTimeout proves the route timeout on a stdio request: a call the
// child does not start answering within Options.Timeout (on the harness's
// clock) gets 504 with a JSON-RPC error carrying its id (golden), the
// child gets notifications/cancelled for it, the failure is recorded, and
// the next call on the same session works.
func TestTimeout(t *testing.T) {
	testkit.CheckGoroutines(t)
	const timeout = 7 * time.Second
	h := newHarness(t, func(o *Options) { o.Timeout = timeout })
	sid := h.initRaw(t, "alice", limitsVersion)
	answer := make(chan *http.Response, 1)
	go func() {
		answer <- h.rawPost(t, context.Background(), "alice", sid,
			`{"jsonrpc":"2.0","id":"slow-1","method":"tools/call","params":{"name":"slow","arguments":{}}}`,
			map[string]string{hdrProtocolVersion: limitsVersion})
	}()
	// The deadline is armed before the request is written to the child.
	testkit.WaitContains(t, h.log, "slow tool started", testkit.DefaultTimeout)
	h.clock.Advance(timeout)
	resp := testkit.Recv(t, answer, testkit.DefaultTimeout, "the slow call's answer")
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("slow call: %s %s", resp.Status, body)
	}
	golden(t, "timeout.json", body)
	testkit.WaitContains(t, h.log, "slow tool cancelled", testkit.DefaultTimeout)

	next := h.rawPost(t, context.Background(), "alice", sid,
		`{"jsonrpc":"2.0","id":"next","method":"tools/call","params":{"name":"echo","arguments":{"message":"still here"}}}`,
		map[string]string{hdrProtocolVersion: limitsVersion})
	evs := readSSE(t, next.Body, nil)
	_ = next.Body.Close()
	if len(evs) != 1 || !strings.Contains(evs[0].data, "still here") {
		t.Fatalf("the call after a timeout: %s %+v", next.Status, evs)
	}

	var timedOut, ok *observe.Event
	waitFor(t, "both calls to be recorded", func() bool {
		for _, e := range h.rec.Events() {
			switch {
			case e.Name == "slow":
				timedOut = &e
			case e.Name == "echo":
				ok = &e
			}
		}
		return timedOut != nil && ok != nil
	})
	if timedOut.Status != http.StatusGatewayTimeout || timedOut.Decision != observe.DecisionError || timedOut.Reason != observe.ReasonTimeout ||
		timedOut.UpstreamError != "timeout" || timedOut.UpstreamLatency != timeout {
		t.Errorf("timed-out call recorded as %+v", *timedOut)
	}
	if ok.Decision != observe.DecisionAllow || ok.UpstreamError != "" || ok.Status != http.StatusOK {
		t.Errorf("answered call recorded as %+v", *ok)
	}
}

// TestStartedStreamNotCut proves the timeout bounds only the start of an
// answer: a call that sent a progress notification and then holds past
// Options.Timeout (the deadline's callback has run) still delivers its
// result on the same stream.
func TestStartedStreamNotCut(t *testing.T) {
	testkit.CheckGoroutines(t)
	const timeout = 7 * time.Second
	h := newHarness(t, func(o *Options) { o.Timeout = timeout })
	sid := h.initRaw(t, "alice", limitsVersion)
	hdr := map[string]string{hdrProtocolVersion: limitsVersion}
	resp := h.rawPost(t, context.Background(), "alice", sid,
		`{"jsonrpc":"2.0","id":"p","method":"tools/call","params":{"name":"progress","arguments":{"steps":3,"hold":true},"_meta":{"progressToken":"t"}}}`, hdr)
	defer resp.Body.Close()
	if first := readSSE(t, resp.Body, func(sseEvent) bool { return true }); len(first) != 1 || decodeRPC(t, first[0].data).Method != "notifications/progress" {
		t.Fatalf("first event: %s %+v", resp.Status, first)
	}
	h.clock.Advance(timeout)
	waitFor(t, "the deadline's callback to run", func() bool { return h.timers.fired(timeout) == 1 })

	rel := h.rawPost(t, context.Background(), "alice", sid,
		`{"jsonrpc":"2.0","id":"r","method":"tools/call","params":{"name":"release","arguments":{}}}`, hdr)
	_, _ = io.Copy(io.Discard, rel.Body)
	_ = rel.Body.Close()
	rest := readSSE(t, resp.Body, nil)
	if len(rest) == 0 {
		t.Fatal("the stream ended without its result")
	}
	last := decodeRPC(t, rest[len(rest)-1].data)
	if string(last.ID) != `"p"` || last.Result == nil || !strings.Contains(string(last.Result), "progress done") {
		t.Fatalf("the held call's answer after the timeout: %+v", rest)
	}
}

// TestInitializeTimeout proves an initialize the child does not answer
// within Options.Timeout gets 504 with a JSON-RPC error carrying its id,
// and its session and process are ended (initialize is not cancelled: the
// spec forbids it).
func TestInitializeTimeout(t *testing.T) {
	testkit.CheckGoroutines(t)
	const timeout = 7 * time.Second
	h := newHarness(t, func(o *Options) {
		o.Env = map[string]string{modeEnv: "mute"}
		o.Timeout = timeout
	})
	answer := make(chan *http.Response, 1)
	go func() { answer <- h.rawPost(t, context.Background(), "alice", "", initBody, nil) }()
	testkit.WaitContains(t, h.log, "mute server read", testkit.DefaultTimeout)
	pids := h.srv.pids()
	h.clock.Advance(timeout)
	resp := testkit.Recv(t, answer, testkit.DefaultTimeout, "the initialize's answer")
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(body), `"id":1,"error":{"code":-32603`) {
		t.Fatalf("initialize of a mute child: %s %s", resp.Status, body)
	}
	if len(pids) != 1 {
		t.Fatalf("pids %v, want one", pids)
	}
	waitFor(t, "the session and its process to end", func() bool { return h.srv.Sessions() == 0 && !alive(pids[0]) })
}
