package httpproxy

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// sseUpstream serves srv over the 2024-11-05 HTTP+SSE transport.
func sseUpstream(t *testing.T, srv *mcp.Server, rec *recorder) *httptest.Server {
	t.Helper()
	var h http.Handler = mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.SSEOptions{DisableLocalhostProtection: true})
	if rec != nil {
		h = rec.wrap(h)
	}
	up := httptest.NewServer(h)
	t.Cleanup(func() { up.CloseClientConnections(); up.Close() })
	return up
}

// TestBridgeSDKClient: a go-sdk Streamable HTTP client works against a
// legacy HTTP+SSE go-sdk upstream through the bridge: tools listed and
// called, progress delivered on the calling POST while the tool is blocked,
// 2026-07-28 clients fall back to initialize, identity headers reach the
// upstream and tokens do not, Close of the client session ends the bridge
// session.
func TestBridgeSDKClient(t *testing.T) {
	for _, tt := range []struct{ version, want string }{
		{"2025-06-18", "2025-06-18"},
		{"2025-11-25", "2025-11-25"},
		{"2026-07-28", "2025-11-25"},
	} {
		t.Run(tt.version, func(t *testing.T) {
			checkLeaks(t)
			g := newGate()
			rec := &recorder{}
			up := sseUpstream(t, mcpServer(g), rec)
			p := newProxy(t, Options{URL: up.URL, Transport: TransportSSE, Identity: headerInjector{}})
			gw := front(t, p)
			progress := make(chan string, 4)
			cs := connect(t, gw.URL, "alice", tt.version, func(r *mcp.ProgressNotificationClientRequest) { progress <- r.Params.Message })
			if got := cs.InitializeResult().ProtocolVersion; got != tt.want {
				t.Errorf("negotiated %q, want %q", got, tt.want)
			}
			ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
			defer cancel()
			tools, err := cs.ListTools(ctx, nil)
			if err != nil || len(tools.Tools) != 2 {
				t.Fatalf("ListTools = %v, %v", tools, err)
			}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "through the bridge"}})
			if err != nil || res.Content[0].(*mcp.TextContent).Text != "through the bridge" {
				t.Fatalf("echo = %v, %v", res, err)
			}
			params := &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{}}
			params.SetProgressToken(42)
			done := make(chan error, 1)
			go func() { _, err := cs.CallTool(ctx, params); done <- err }()
			testkit.Recv(t, progress, testkit.DefaultTimeout, "progress while the tool ran")
			close(g.release)
			if err := testkit.Recv(t, done, testkit.DefaultTimeout, "the progress call's result"); err != nil {
				t.Fatal(err)
			}
			if p.bridge.count() != 1 {
				t.Errorf("%d bridge sessions", p.bridge.count())
			}
			_ = cs.Close()
			waitFor(t, "bridge session closed", func() bool { return p.bridge.count() == 0 })
			for _, r := range rec.all() {
				if r.header.Get("Authorization") != "" || r.header.Get("Cookie") != "" {
					t.Errorf("client credentials reached the upstream: %v", r.header)
				}
				if r.header.Get("X-Gateway-Subject") != "alice" {
					t.Errorf("%s without identity", r.method)
				}
			}
		})
	}
}

// TestBridgeSessions: bridge session ids are principal-bound, sessionless
// requests get the SEP-2575 error, idle sessions end (on a fake clock), and
// a dying upstream answers pending requests with a JSON-RPC error.
func TestBridgeSessions(t *testing.T) {
	checkLeaks(t)
	g := newGate()
	up := sseUpstream(t, mcpServer(g), nil)
	clk := testkit.NewClock(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	p := newProxy(t, Options{URL: up.URL, Transport: TransportSSE, SessionIdleTimeout: time.Minute, clock: clk})
	gw := front(t, p)

	resp, body := rawDo(t, http.MethodPost, gw.URL, "alice", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, map[string]string{"Mcp-Protocol-Version": "2026-07-28"})
	if _, code, _ := rpcErr(t, body); resp.StatusCode != 400 || code != mcpwire.CodeUnsupportedProtocolVersion || !strings.Contains(body, `"supported":["2025-11-25"`) {
		t.Errorf("sessionless: %d %s", resp.StatusCode, body)
	}
	if resp, _ := rawDo(t, http.MethodPost, gw.URL, "alice", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, nil); resp.StatusCode != 400 {
		t.Errorf("no session, not initialize: %d", resp.StatusCode)
	}

	resp, body = rawDo(t, http.MethodPost, gw.URL, "alice", initBody, nil)
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || sid == "" || !strings.Contains(body, `"serverInfo"`) {
		t.Fatalf("initialize: %d %q %s", resp.StatusCode, sid, body)
	}
	if resp, _ := rawDo(t, http.MethodPost, gw.URL, "bob", `{"jsonrpc":"2.0","id":2,"method":"ping"}`, map[string]string{"Mcp-Session-Id": sid}); resp.StatusCode != 404 {
		t.Errorf("bob used alice's bridge session: %d", resp.StatusCode)
	}
	hdr := map[string]string{"Mcp-Session-Id": sid}
	if resp, _ := rawDo(t, http.MethodPost, gw.URL, "alice", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, hdr); resp.StatusCode != 202 {
		t.Errorf("notification: %d", resp.StatusCode)
	}
	resp, body = rawDo(t, http.MethodPost, gw.URL, "alice", `{"jsonrpc":"2.0","id":"p","method":"ping"}`, hdr)
	if resp.StatusCode != 200 || !strings.Contains(body, `"id":"p","result":{}`) {
		t.Errorf("ping: %d %s", resp.StatusCode, body)
	}
	if p.bridge.count() != 1 {
		t.Fatalf("%d sessions before the idle timeout", p.bridge.count())
	}
	waitFor(t, "idle session closed", func() bool {
		clk.Advance(time.Minute) // the janitor wakes; the session idles once its last request is done
		return p.bridge.count() == 0
	})
	if resp, _ := rawDo(t, http.MethodPost, gw.URL, "alice", `{"jsonrpc":"2.0","id":3,"method":"ping"}`, hdr); resp.StatusCode != 404 {
		t.Errorf("idle-closed session still served: %d", resp.StatusCode)
	}

	// A pending call whose upstream stream dies gets a JSON-RPC error.
	resp, _ = rawDo(t, http.MethodPost, gw.URL, "alice", initBody, nil)
	hdr = map[string]string{"Mcp-Session-Id": resp.Header.Get("Mcp-Session-Id")}
	rawDo(t, http.MethodPost, gw.URL, "alice", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, hdr)
	got := make(chan string, 1)
	go func() {
		_, body := rawDo(t, http.MethodPost, gw.URL, "alice", `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"progress","arguments":{},"_meta":{"progressToken":"t"}}}`, hdr)
		got <- body
	}()
	testkit.Recv(t, g.started, testkit.DefaultTimeout, "the progress tool to start")
	up.CloseClientConnections()
	// The progress event may or may not have crossed the bridge before the
	// connection dropped (the tool signals "started" before it sends it);
	// the JSON-RPC error for the pending id must arrive.
	if body := testkit.Recv(t, got, testkit.DefaultTimeout, "the pending call's answer after the upstream died"); !strings.Contains(body, `{"jsonrpc":"2.0","id":7,"error":{"code":-32603,"message":"upstream unavailable"}}`) {
		t.Errorf("after upstream death: %s", body)
	}
	waitFor(t, "dead session removed", func() bool { return p.bridge.count() == 0 })
	close(g.release)
}

// TestBridgeOpenFailures: an upstream that refuses, or announces an
// endpoint on another origin, fails initialize with 502 at once (under a
// Timeout no test run reaches, so a slow machine cannot turn it into 504);
// one that never sends its endpoint fails it with 504 when Timeout expires
// (short, since it must expire: the upstream holds until the proxy gives up,
// or until cleanup cuts the connection).
func TestBridgeOpenFailures(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		timeout time.Duration
		status  int
	}{
		{"refused", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) }, time.Hour, 502},
		{"foreign endpoint", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "event: endpoint\ndata: https://evil.test/messages\n\n")
		}, time.Hour, 502},
		{"no endpoint in time", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, 200 * time.Millisecond, 504},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			up := httptest.NewServer(tt.handler)
			t.Cleanup(func() { up.CloseClientConnections(); up.Close() })
			p := newProxy(t, Options{URL: up.URL, Transport: TransportSSE, Timeout: tt.timeout})
			gw := front(t, p)
			resp, body := rawDo(t, http.MethodPost, gw.URL, "alice", initBody, nil)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if id, _, _ := rpcErr(t, body); string(id) != "1" {
				t.Errorf("id %s", id)
			}
			if p.bridge.count() != 0 || p.owned.inUse(testIssuer+"|alice") != 0 {
				t.Error("failed open left state behind")
			}
		})
	}
}
