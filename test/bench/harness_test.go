//go:build bench

package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// echoServer is a stateful go-sdk MCP server with the echo tool; with
// jsonReplies its replies are application/json, else event streams.
func echoServer(t *testing.T, jsonReplies bool) string {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "harness", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in struct {
		Message string `json:"message"`
	}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Message}}}, nil, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{JSONResponse: jsonReplies})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestLoadHarness checks the load generator against a real go-sdk server
// answering in JSON and in SSE: both modes count correct replies and no
// errors, and a token pool that runs out ends the run, flagged, without
// reusing a token.
func TestLoadHarness(t *testing.T) {
	for _, jsonReplies := range []bool{false, true} {
		url := echoServer(t, jsonReplies)
		// The server runs in this process: its CPU per call is ours.
		load := Load{Workers: 4, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond, SetupToken: "x",
			Pids: []int{os.Getpid()}}
		sat, err := load.Saturate(url, SameToken("x"))
		if err != nil {
			t.Fatal(err)
		}
		if sat.OK == 0 || sat.Errors != 0 || sat.Exhausted || sat.P99 < sat.P50 || len(sat.CPU) != 1 {
			t.Fatalf("json=%v saturate: %+v", jsonReplies, sat)
		}
		fixed, err := load.FixedRate(url, SameToken("x"), 200)
		if err != nil {
			t.Fatal(err)
		}
		if fixed.OK == 0 || fixed.Errors != 0 {
			t.Fatalf("json=%v fixed rate: %+v", jsonReplies, fixed)
		}
		pool := NewTokenPool(make([]string, 10))
		ran, err := load.Saturate(url, pool)
		if err != nil {
			t.Fatal(err)
		}
		if !ran.Exhausted || ran.OK+ran.Errors > 10 {
			t.Fatalf("json=%v, 10-token pool: %+v", jsonReplies, ran)
		}
	}
}

// TestEchoErrors checks that a reply not echoing the message, an HTTP
// error and a JSON-RPC error are all counted as errors.
func TestEchoErrors(t *testing.T) {
	for name, reply := range map[string]func(w http.ResponseWriter){
		"wrong text": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"other"}]}}`))
		},
		"HTTP 401": func(w http.ResponseWriter) { w.WriteHeader(http.StatusUnauthorized) },
		"JSON-RPC error": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write([]byte("data: {\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32603,\"message\":\"x\"}}\n\n"))
		},
	} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { reply(w) }))
		s := &Session{client: ts.Client(), url: ts.URL}
		if err := s.Echo("", 1, "hello"); err == nil {
			t.Errorf("%s: no error", name)
		}
		ts.Close()
	}
}

// TestReadEvent checks the SSE reader skips notifications, joins
// multi-line data and accepts CRLF line ends.
func TestReadEvent(t *testing.T) {
	stream := ": comment\r\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\r\n\r\n" +
		"id: 7\ndata: {\"jsonrpc\":\"2.0\",\ndata: \"id\":1,\"result\":{\"ok\":true}}\n\n"
	var msg rpcResponse
	if err := readEvent(strings.NewReader(stream), &msg); err != nil {
		t.Fatal(err)
	}
	if string(msg.Result) != `{"ok":true}` {
		t.Fatalf("result = %s", msg.Result)
	}
	if err := readEvent(strings.NewReader("data: {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n\n"), &msg); err == nil {
		t.Fatal("a stream without a response: no error")
	}
}

// TestRoundRatios checks ratios are taken within each round, then the
// median, skipping rounds without a rate.
func TestRoundRatios(t *testing.T) {
	a := []Result{{Rate: 100}, {Rate: 300}, {Rate: 90}}
	b := []Result{{Rate: 200}, {Rate: 0}, {Rate: 100}}
	rs, med := RoundRatios(a, b)
	if len(rs) != 2 || med != 0.7 {
		t.Fatalf("ratios %v, median %v; want [0.5 0.9], 0.7", rs, med)
	}
	if s := Summarize(a); s.Rate != 100 || s.MinRate != 90 || s.MaxRate != 300 {
		t.Fatalf("summary %+v", s)
	}
}
