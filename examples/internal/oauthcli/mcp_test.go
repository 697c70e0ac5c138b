package oauthcli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

type echoArgs struct {
	Message string `json:"message"`
}

// startMCP serves a go-sdk MCP server with the tools echo and fail, and
// returns a session connected to it through Connect.
func startMCP(t *testing.T) *mcp.ClientSession {
	t.Helper()
	server := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in echoArgs) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Message}}}, nil, nil
	})
	mcp.AddTool(server, &mcp.Tool{Name: "fail"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "no"}}}, nil, nil
	})
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	t.Cleanup(cancel)
	cs, err := Connect(ctx, &mcp.Implementation{Name: "client", Version: "1"}, srv.URL, srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// TestUseTools lists and calls tools on a real go-sdk server and prints
// the result as the examples do on stdout.
func TestUseTools(t *testing.T) {
	cs := startMCP(t)
	ctx := context.Background()
	tests := []struct {
		name, tool  string
		args        map[string]any
		wantStdout  string
		wantErr     string
		wantLastLog string
	}{
		{name: "call", tool: "echo", args: map[string]any{"message": "héllo"}, wantStdout: `"text": "héllo"`, wantLastLog: "step 2: tools/call echo: isError=false"},
		{name: "no tool: the list", tool: "", wantStdout: `"name": "fail"`, wantLastLog: "step 1: tools/list: 2 tools: echo, fail"},
		{name: "error result", tool: "fail", args: map[string]any{}, wantStdout: `"isError": true`, wantErr: "tool fail returned an error result", wantLastLog: "tools/call fail: isError=true"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log, stdout strings.Builder
			res, err := UseTools(ctx, cs, NewSteps(&log), tc.tool, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			err = WriteResult(&stdout, res, tc.tool)
			if !errMatches(err, tc.wantErr) {
				t.Errorf("WriteResult err = %v, want %q", err, tc.wantErr)
			}
			out := stdout.String()
			if !strings.Contains(out, tc.wantStdout) || !json.Valid([]byte(out)) || !strings.HasSuffix(out, "\n") {
				t.Errorf("stdout is not the JSON result with %q and a final newline:\n%s", tc.wantStdout, out)
			}
			if !strings.Contains(log.String(), tc.wantLastLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLastLog, log.String())
			}
		})
	}
	if _, err := UseTools(ctx, cs, NewSteps(&strings.Builder{}), "nosuch", nil); err == nil || !strings.Contains(err.Error(), "tools/call nosuch") {
		t.Errorf("unknown tool: err = %v", err)
	}
}
