package stdio

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// golden compares got with testdata/name (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testkit.Golden(t, "testdata/"+name, got)
}

// TestCrashMidCall proves that when the process dies during calls, every
// caller gets an error (a call that got nothing yet: HTTP 502), the process
// and session are gone, the session id then gets 404, and a new session
// starts a fresh process once the backoff has passed.
func TestCrashMidCall(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)
	clock := h.clock
	cs := h.connect(t, "alice", nil, nil)
	pidText, _ := callText(t, cs, "pid", nil)
	pid, _ := strconv.Atoi(pidText)

	// A raw slow call on the same session shows the 502 of a request that
	// got nothing before the crash.
	slow := make(chan *http.Response, 1)
	go func() {
		slow <- h.rawPost(t, context.Background(), "alice", cs.ID(),
			`{"jsonrpc":"2.0","id":"raw-slow","method":"tools/call","params":{"name":"slow","arguments":{}}}`,
			map[string]string{hdrProtocolVersion: cs.InitializeResult().ProtocolVersion})
	}()
	testkit.WaitContains(t, h.log, "slow tool started", testkit.DefaultTimeout)
	if _, err := callText(t, cs, "crash", nil); err == nil {
		t.Fatal("crash call succeeded")
	}
	resp := testkit.Recv(t, slow, testkit.DefaultTimeout, "the slow call's answer")
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), `"id":"raw-slow"`) || !strings.Contains(string(body), "upstream process exited") {
		t.Fatalf("slow call after crash: %s %s", resp.Status, body)
	}
	waitFor(t, "crashed process gone", func() bool { return !alive(pid) && h.srv.Sessions() == 0 })
	r2 := h.rawPost(t, context.Background(), "alice", cs.ID(), `{"jsonrpc":"2.0","id":9,"method":"tools/list"}`, nil)
	_ = r2.Body.Close()
	if r2.StatusCode != http.StatusNotFound {
		t.Fatalf("crashed session: %s, want 404", r2.Status)
	}
	if !strings.Contains(h.log.String(), "test server crashing") {
		t.Error("the child's last stderr line is not in the log")
	}
	if failures, until := h.srv.backoff(); failures != 1 || !until.Equal(clock.Now().Add(DefaultRestartBackoff)) {
		t.Fatalf("after one crash: failures=%d backoff until %v, want 1 and now+%v", failures, until, DefaultRestartBackoff)
	}
	clock.Advance(DefaultRestartBackoff) // the backoff after one crash passes
	cs2 := h.connect(t, "alice", nil, nil)
	if p2, err := callText(t, cs2, "pid", nil); err != nil || p2 == pidText {
		t.Fatalf("new session's pid = %q, %v", p2, err)
	}
}

// TestStartCrashBackoff proves a process that dies before answering
// initialize gives 502, then new sessions get 503 with Retry-After during a
// backoff that doubles with each consecutive failure.
func TestStartCrashBackoff(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, func(o *Options) {
		o.Env = map[string]string{modeEnv: "startcrash"}
		o.RestartBackoff = 300 * time.Millisecond
	})
	clock := h.clock
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
	status := func() (int, string, string) {
		resp := h.rawPost(t, context.Background(), "alice", "", init, nil)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
	}
	for round, wantBackoff := range []time.Duration{300 * time.Millisecond, 600 * time.Millisecond} {
		code, _, body := status()
		if code != http.StatusBadGateway || !strings.Contains(body, `"id":1`) {
			t.Fatalf("round %d: initialize of a crashing server: %d %s", round, code, body)
		}
		// The 502 may come from the failed write before the exit is reaped.
		waitFor(t, "the failure to be counted", func() bool { f, _ := h.srv.backoff(); return f == round+1 })
		if _, until := h.srv.backoff(); !until.Equal(clock.Now().Add(wantBackoff)) {
			t.Fatalf("round %d: backoff until %v, want now+%v", round, until, wantBackoff)
		}
		code, retry, body := status()
		if code != http.StatusServiceUnavailable || retry != "1" || !strings.Contains(body, "backoff") {
			t.Fatalf("round %d: during backoff: %d Retry-After=%q %s", round, code, retry, body)
		}
		clock.Advance(wantBackoff)
	}
	if !strings.Contains(h.log.String(), "test server failing at start") {
		t.Error("stderr of the failing process is not in the log")
	}
	// The session ends right after its exit is counted.
	waitFor(t, "no session after failed starts", func() bool { return h.srv.Sessions() == 0 })
}

// TestCloseStopsEverything proves Close stops every process (one of them
// ignores SIGTERM and stdin EOF, so SIGKILL is needed), gives the call in
// flight an error, leaves no process or goroutine behind, and refuses new
// sessions.
func TestCloseStopsEverything(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, func(o *Options) {
		o.Env["STDIO_TEST_IGNORE_TERM"] = "1"
		o.StopTimeout = 300 * time.Millisecond
	})
	a := h.connect(t, "alice", nil, nil)
	b := h.connect(t, "bob", nil, nil)
	var pids []int
	for _, cs := range []*mcp.ClientSession{a, b} {
		p, _ := callText(t, cs, "pid", nil)
		n, _ := strconv.Atoi(p)
		pids = append(pids, n)
	}
	var wg sync.WaitGroup
	var slowErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, slowErr = callText(t, a, "slow", nil)
	}()
	testkit.WaitContains(t, h.log, "slow tool started", testkit.DefaultTimeout)
	if err := h.srv.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("pid %d alive (or a zombie) after Close", pid)
		}
	}
	wg.Wait()
	if slowErr == nil || errors.Is(slowErr, context.DeadlineExceeded) {
		t.Errorf("the call in flight during Close: %v, want the gateway's error", slowErr)
	}
	resp := h.rawPost(t, context.Background(), "carol", "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`, nil)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("initialize after Close: %s", resp.Status)
	}
	if !strings.Contains(h.log.String(), "sending SIGKILL") {
		t.Error("the SIGTERM-ignoring child was not killed with SIGKILL")
	}
}

// TestClientDisconnectCancels proves a client that goes away mid-call has
// its request cancelled at the child (notifications/cancelled once the
// resume window passed, on the harness's clock) and leaks nothing.
func TestClientDisconnectCancels(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)
	sid := h.initRaw(t, "alice", "2025-06-18")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url,
			strings.NewReader(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow","arguments":{}}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set(hdrSessionID, sid)
		req.Header.Set(hdrProtocolVersion, "2025-06-18")
		if resp, err := httpClient(t, "alice").Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}()
	testkit.WaitContains(t, h.log, "slow tool started", testkit.DefaultTimeout)
	cancel()
	testkit.WaitDone(t, done, testkit.DefaultTimeout, "the client to give up")
	// The stream waits for a resume (its window timer is armed with it)
	// until the window has passed.
	waitFor(t, "the handler to notice the disconnect", func() bool { return h.srv.detached(sid) })
	h.clock.Advance(DefaultResumeWindow)
	waitFor(t, "the child to see the cancellation", func() bool {
		return strings.Contains(h.log.String(), "slow tool cancelled")
	})
	// The session still works.
	resp := h.rawPost(t, context.Background(), "alice", sid, `{"jsonrpc":"2.0","id":6,"method":"tools/list"}`, map[string]string{hdrProtocolVersion: "2025-06-18"})
	defer resp.Body.Close()
	if evs := readSSE(t, resp.Body, nil); len(evs) != 1 {
		t.Fatalf("tools/list after a disconnect: %+v", evs)
	}
}

// TestResumeWithLastEventID proves a POST stream whose connection dropped
// is resumed by GET with Last-Event-ID: the events after it, up to the
// response, arrive on the new connection. The tool holds after its first
// notification until the disconnect has been noticed, and the resume
// window (on the harness's clock) does not pass.
func TestResumeWithLastEventID(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)
	sid := h.initRaw(t, "alice", "2025-11-25")
	ctx, cancel := context.WithCancel(context.Background())
	resp := h.rawPost(t, ctx, "alice", sid,
		`{"jsonrpc":"2.0","id":"p","method":"tools/call","params":{"name":"progress","arguments":{"steps":5,"hold":true},"_meta":{"progressToken":"t"}}}`,
		map[string]string{hdrProtocolVersion: "2025-11-25"})
	first := readSSE(t, resp.Body, func(sseEvent) bool { return true })
	cancel()
	_ = resp.Body.Close()
	if len(first) != 1 || decodeRPC(t, first[0].data).Method != "notifications/progress" {
		t.Fatalf("first event: %+v", first)
	}
	waitFor(t, "the handler to notice the disconnect", func() bool { return h.srv.detached(sid) })
	// The tool goes on: what it sends before the resume is kept for it.
	rel := h.rawPost(t, context.Background(), "alice", sid,
		`{"jsonrpc":"2.0","id":"r","method":"tools/call","params":{"name":"release","arguments":{}}}`,
		map[string]string{hdrProtocolVersion: "2025-11-25"})
	relEvs := readSSE(t, rel.Body, nil)
	_ = rel.Body.Close()
	if len(relEvs) != 1 || string(decodeRPC(t, relEvs[0].data).ID) != `"r"` {
		t.Fatalf("release: %s %+v", rel.Status, relEvs)
	}
	req, _ := http.NewRequest(http.MethodGet, h.url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set(hdrSessionID, sid)
	req.Header.Set(hdrLastEventID, first[0].id)
	r2, err := httpClient(t, "alice").Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Body.Close()
	if r2.StatusCode != http.StatusOK {
		t.Fatalf("resume: %s", r2.Status)
	}
	rest := readSSE(t, r2.Body, nil)
	var progress int
	for _, e := range rest {
		if m := decodeRPC(t, e.data); m.Method == "notifications/progress" {
			progress++
		}
	}
	last := decodeRPC(t, rest[len(rest)-1].data)
	if progress != 4 || string(last.ID) != `"p"` || last.Result == nil {
		t.Fatalf("resumed stream: %d progress, last %+v (all %+v)", progress, last, rest)
	}
}

// TestProtocolGenerations proves the 2026-07-28 generation is refused with
// -32022 listing the served versions (golden), that the go-sdk client
// (which tries 2026-07-28 first) falls back and works (see the other
// tests), and that batches are relayed for 2025-03-26 only.
func TestProtocolGenerations(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)
	resp := h.rawPost(t, context.Background(), "alice", "",
		`{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
		map[string]string{hdrProtocolVersion: "2026-07-28"})
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("server/discover: %s", resp.Status)
	}
	golden(t, "unsupported_version.json", body)

	batch := `[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"a"}}},` +
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"b"}}}]`
	old := h.initRaw(t, "alice", "2025-03-26")
	r1 := h.rawPost(t, context.Background(), "alice", old, batch, nil)
	evs := readSSE(t, r1.Body, nil)
	_ = r1.Body.Close()
	ids := map[string]bool{}
	for _, e := range evs {
		for _, m := range splitBatch(t, e.data) {
			ids[string(m.ID)] = m.Result != nil
		}
	}
	if !ids["1"] || !ids["2"] {
		t.Fatalf("2025-03-26 batch answers: %+v", evs)
	}
	recent := h.initRaw(t, "alice", "2025-06-18")
	r2 := h.rawPost(t, context.Background(), "alice", recent, batch, map[string]string{hdrProtocolVersion: "2025-06-18"})
	_ = r2.Body.Close()
	if r2.StatusCode != http.StatusBadRequest {
		t.Fatalf("2025-06-18 batch: %s, want 400", r2.Status)
	}
}

// splitBatch decodes one message or an array of them.
func splitBatch(t *testing.T, data string) []rpc {
	t.Helper()
	if !strings.HasPrefix(data, "[") {
		return []rpc{decodeRPC(t, data)}
	}
	var raws []json.RawMessage
	if err := json.Unmarshal([]byte(data), &raws); err != nil {
		t.Fatal(err)
	}
	var ms []rpc
	for _, r := range raws {
		ms = append(ms, decodeRPC(t, string(r)))
	}
	return ms
}
