package httpproxy

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// TestSDKClientThroughProxy: a go-sdk client lists and calls tools through
// the proxy for every transport generation, against stateful and stateless
// go-sdk upstreams; progress arrives while the tool is still blocked; the
// upstream never sees the client's token or cookie but does see the
// Injector's header; the client never sees the upstream's session id.
func TestSDKClientThroughProxy(t *testing.T) {
	tests := []struct {
		version     string
		stateless   bool
		wantVersion string
	}{
		{"2025-06-18", false, "2025-06-18"},
		{"2025-11-25", false, "2025-11-25"},
		{"2026-07-28", false, "2025-11-25"}, // stateful upstream: SEP-2575 fallback
		{"2025-06-18", true, "2025-06-18"},
		{"2025-11-25", true, "2025-11-25"},
		{"2026-07-28", true, "2026-07-28"},
	}
	for _, tt := range tests {
		name := tt.version + map[bool]string{true: "/stateless", false: "/stateful"}[tt.stateless]
		t.Run(name, func(t *testing.T) {
			checkLeaks(t)
			g := newGate()
			rec := &recorder{}
			up := streamableUpstream(t, mcpServer(g), tt.stateless, rec)
			p := newProxy(t, Options{URL: up.URL, Identity: headerInjector{}})
			gw := front(t, p)

			progress := make(chan string, 4)
			cs := connect(t, gw.URL, "alice", tt.version, func(r *mcp.ProgressNotificationClientRequest) {
				progress <- r.Params.Message
			})
			if got := cs.InitializeResult().ProtocolVersion; got != tt.wantVersion {
				t.Errorf("negotiated %q, want %q", got, tt.wantVersion)
			}
			ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
			defer cancel()
			tools, err := cs.ListTools(ctx, nil)
			if err != nil || len(tools.Tools) != 2 {
				t.Fatalf("ListTools = %v, %v", tools, err)
			}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}})
			if err != nil || res.Content[0].(*mcp.TextContent).Text != "hi" {
				t.Fatalf("echo = %v, %v", res, err)
			}

			params := &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{}}
			params.SetProgressToken("tok-1")
			done := make(chan error, 1)
			go func() { _, err := cs.CallTool(ctx, params); done <- err }()
			if msg := testkit.Recv(t, progress, testkit.DefaultTimeout, "a progress notification while the tool ran"); msg != "half" {
				t.Errorf("progress %q", msg)
			}
			select {
			case err := <-done:
				t.Fatalf("tool returned before release: %v", err)
			default:
			}
			close(g.release)
			if err := testkit.Recv(t, done, testkit.DefaultTimeout, "the progress call's result"); err != nil {
				t.Fatalf("progress tool: %v", err)
			}

			if sid := cs.ID(); sid != "" {
				for _, r := range rec.all() {
					if u := r.header.Get("Mcp-Session-Id"); u != "" && (u == sid || strings.Contains(sid, u)) {
						t.Errorf("client sees upstream session id %q in %q", u, sid)
					}
				}
			} else if !tt.stateless {
				t.Error("stateful upstream but client has no session")
			}
			_ = cs.Close()
			for _, r := range rec.all() {
				for _, k := range []string{"Authorization", "Cookie", "X-Test-Sub"} {
					if v := r.header.Get(k); v != "" {
						t.Errorf("%s reached the upstream: %q", k, v)
					}
				}
				if got := r.header.Get("X-Gateway-Subject"); got != "alice" {
					t.Errorf("%s without identity header (got %q)", r.method, got)
				}
			}
			if !tt.stateless && !hasMethod(rec.all(), http.MethodDelete) {
				t.Error("the client's DELETE did not reach the upstream")
			}
		})
	}
}

func hasMethod(rs []recorded, m string) bool {
	for _, r := range rs {
		if r.method == m {
			return true
		}
	}
	return false
}
