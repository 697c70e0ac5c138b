package stdio

import (
	"context"
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

// TestToolsResourcesAndStderr proves that the go-sdk client, over
// Streamable HTTP and through the relay, falls back from 2026-07-28 to the
// 2025 handshake, lists and calls the stdio server's tools and reads its
// resources, and that the child's stderr reaches the log tagged with its pid.
func TestToolsResourcesAndStderr(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)
	cs := h.connect(t, "alice", nil, nil)
	ctx := context.Background()
	// The client tried 2026-07-28 first (server/discover), got -32022 and
	// fell back to initialize.
	if v := cs.InitializeResult().ProtocolVersion; v != "2025-11-25" {
		t.Errorf("negotiated %q, want the fallback to 2025-11-25", v)
	}

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	for _, want := range []string{"echo", "slow", "crash", "progress", "whoenv", "pid"} {
		if !strings.Contains(","+strings.Join(names, ",")+",", ","+want+",") {
			t.Errorf("tools/list lacks %s: %v", want, names)
		}
	}
	if got, err := callText(t, cs, "echo", map[string]any{"message": "héllo\nworld"}); err != nil || got != "héllo\nworld" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	res, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://hello"})
	if err != nil || len(res.Contents) != 1 || res.Contents[0].Text != "hello, world" {
		t.Fatalf("resources/read = %+v, %v", res, err)
	}
	pid, _ := callText(t, cs, "pid", nil)
	waitFor(t, "stderr in the log", func() bool {
		return strings.Contains(h.log.String(), "test server starting pid="+pid) && strings.Contains(h.log.String(), "pid="+pid+" ")
	})
}

// TestProgress proves progress notifications reach the client: through the
// go-sdk client, and on the POST's own SSE stream (routed by progressToken,
// before the response) when no GET stream is open.
func TestProgress(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)

	var mu sync.Mutex
	var got []float64
	cs := h.connect(t, "alice", &mcp.ClientOptions{ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
		mu.Lock()
		got = append(got, r.Params.Progress)
		mu.Unlock()
	}}, nil)
	params := &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{"steps": 3}}
	params.SetProgressToken("tok-1")
	if res, err := cs.CallTool(context.Background(), params); err != nil || res.IsError {
		t.Fatalf("progress: %+v, %v", res, err)
	}
	waitFor(t, "3 progress notifications", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 3
	})

	sid := h.initRaw(t, "bob", "2025-06-18")
	resp := h.rawPost(t, context.Background(), "bob", sid,
		`{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"progress","arguments":{"steps":2},"_meta":{"progressToken":7}}}`,
		map[string]string{hdrProtocolVersion: "2025-06-18"})
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("tools/call: %s %s", resp.Status, ct)
	}
	evs := readSSE(t, resp.Body, nil)
	var methods []string
	for _, e := range evs {
		m := decodeRPC(t, e.data)
		if m.Method != "" {
			methods = append(methods, m.Method)
		} else {
			methods = append(methods, "response:"+string(m.ID))
		}
		if e.name != "message" || !strings.HasPrefix(e.id, "") || e.id == "" {
			t.Errorf("event %+v lacks event: message or id", e)
		}
	}
	if want := "notifications/progress,notifications/progress,response:\"c1\""; strings.Join(methods, ",") != want {
		t.Fatalf("stream = %v, want %s", methods, want)
	}
}

// TestPerSessionProcess proves one process per session: two sessions run
// two processes, each with its own principal's identity in its environment
// and none of the gateway's other environment variables.
func TestPerSessionProcess(t *testing.T) {
	testkit.CheckGoroutines(t)
	t.Setenv("MCPGW_TEST_SECRET", "do-not-leak")
	h := newHarness(t, nil)
	alice := h.connect(t, "alice", nil, nil)
	bob := h.connect(t, "bob", nil, nil)

	pa, _ := callText(t, alice, "pid", nil)
	pb, _ := callText(t, bob, "pid", nil)
	if pa == "" || pa == pb {
		t.Fatalf("pids %q and %q: want two processes", pa, pb)
	}
	if n := h.srv.Sessions(); n != 2 {
		t.Fatalf("Sessions() = %d, want 2", n)
	}
	for _, c := range []struct {
		cs         *mcp.ClientSession
		tool, want string
		args       any
	}{
		{alice, "whoenv", "alice", nil},
		{bob, "whoenv", "bob", nil},
		{alice, "getenv", "<unset>", map[string]any{"name": "MCPGW_TEST_SECRET"}},
		{alice, "getenv", "server", map[string]any{"name": modeEnv}},
	} {
		if got, err := callText(t, c.cs, c.tool, c.args); err != nil || got != c.want {
			t.Errorf("%s(%v) = %q, %v; want %q", c.tool, c.args, got, err, c.want)
		}
	}
}

// TestSessionBoundToPrincipal proves another principal presenting a
// session's id is refused (403) for POST, GET and DELETE, while the owner
// keeps using it.
func TestSessionBoundToPrincipal(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)
	sid := h.initRaw(t, "alice", "2025-06-18")
	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	hdr := map[string]string{hdrProtocolVersion: "2025-06-18"}

	resp := h.rawPost(t, context.Background(), "mallory", sid, list, hdr)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST as another principal: %s", resp.Status)
	}
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		req, _ := http.NewRequest(method, h.url, nil)
		req.Header.Set(hdrSessionID, sid)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := httpClient(t, "mallory").Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s as another principal: %s", method, resp.Status)
		}
	}
	resp = h.rawPost(t, context.Background(), "alice", sid, list, hdr)
	defer resp.Body.Close()
	evs := readSSE(t, resp.Body, nil)
	if resp.StatusCode != http.StatusOK || len(evs) != 1 || decodeRPC(t, evs[0].data).Result == nil {
		t.Fatalf("owner's tools/list: %s %+v", resp.Status, evs)
	}
}

// TestDeleteStopsProcess proves DELETE (the go-sdk client sends it on
// Close) ends the session and its process, and the id then gets 404.
func TestDeleteStopsProcess(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)
	cs := h.connect(t, "alice", nil, nil)
	pidText, _ := callText(t, cs, "pid", nil)
	pid, _ := strconv.Atoi(pidText)
	sid := cs.ID()
	if err := cs.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "process gone", func() bool { return !alive(pid) && h.srv.Sessions() == 0 })
	resp := h.rawPost(t, context.Background(), "alice", sid, `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`, nil)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("after DELETE: %s, want 404", resp.Status)
	}
}

// TestIdleTimeout proves a session with no request in flight for
// IdleTimeout (on the harness's clock) loses its process, and the client
// then gets an error; a session idle for less, twice in a row (more than
// IdleTimeout in all), keeps serving: each request restarts the wait.
func TestIdleTimeout(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)
	cs := h.connect(t, "alice", nil, func(tr *mcp.StreamableClientTransport) { tr.DisableStandaloneSSE = true })
	var pidText string
	for range 2 {
		h.clock.Advance(DefaultIdleTimeout - time.Second)
		var err error
		if pidText, err = callText(t, cs, "pid", nil); err != nil {
			t.Fatalf("call on a session idle for less than IdleTimeout: %v", err)
		}
	}
	pid, _ := strconv.Atoi(pidText)
	// The idle timer is armed when the call's request has left; advancing
	// by IdleTimeout each time round fires it whenever it was armed.
	waitFor(t, "idle process gone", func() bool {
		h.clock.Advance(DefaultIdleTimeout)
		return !alive(pid) && h.srv.Sessions() == 0
	})
	if _, err := callText(t, cs, "pid", nil); err == nil {
		t.Fatal("call after idle timeout succeeded")
	}
}

// TestMaxProcesses proves the process cap: with no session idle, the
// initialize beyond it gets 503 with Retry-After and a JSON-RPC error
// (golden body).
func TestMaxProcesses(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, func(o *Options) { o.MaxProcesses = 1 })
	h.holdBusy(t, "alice", h.openIdle(t, "alice"))
	resp := h.rawPost(t, context.Background(), "bob", "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`, nil)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("over the cap: %s Retry-After=%q", resp.Status, resp.Header.Get("Retry-After"))
	}
	golden(t, "max_processes.json", body)
	if n := h.srv.Sessions(); n != 1 {
		t.Fatalf("Sessions() = %d, want 1", n)
	}
}
