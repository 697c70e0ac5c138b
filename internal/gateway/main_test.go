package gateway_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// stdioServerEnv makes the re-executed test binary a stdio MCP server, so
// that stdio routes are tested with nothing but Go.
const stdioServerEnv = "GATEWAY_TEST_STDIO_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(stdioServerEnv) != "" {
		runStdioServer()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runStdioServer serves "slow" (one progress notification, then waits for
// "release" or cancellation) and "release" on stdin/stdout.
func runStdioServer() {
	srv := mcp.NewServer(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil)
	released := make(chan struct{})
	var once sync.Once
	mcp.AddTool(srv, &mcp.Tool{Name: "slow"}, slowTool(released))
	mcp.AddTool(srv, &mcp.Tool{Name: "release"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		once.Do(func() { close(released) })
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "released"}}}, nil, nil
	})
	err := srv.Run(context.Background(), &mcp.StdioTransport{})
	fmt.Fprintf(os.Stderr, "stdio test server: %v\n", err)
}

// slowTool sends one progress notification, then answers "done" once
// release is closed.
func slowTool(release <-chan struct{}) mcp.ToolHandlerFor[struct{}, any] {
	return func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
			ProgressToken: req.Params.GetProgressToken(), Progress: 1, Total: 2}); err != nil {
			return nil, nil, err
		}
		select {
		case <-release:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, nil, nil
	}
}
