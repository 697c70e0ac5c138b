package oauthcli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Connect opens an MCP session on endpoint over Streamable HTTP (request
// and response only: no standalone GET stream), sending its requests
// through hc. With h, a 401 starts h's OAuth flow; with nil, hc must add
// the credentials itself and a refused token fails the session.
func Connect(ctx context.Context, client *mcp.Implementation, endpoint string, hc *http.Client, h auth.OAuthHandler) (*mcp.ClientSession, error) {
	return mcp.NewClient(client, nil).Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: endpoint, HTTPClient: hc, OAuthHandler: h,
		DisableStandaloneSSE: true,
	}, nil)
}

// ListTools returns every page of tools/list and the tools' names.
func ListTools(ctx context.Context, cs *mcp.ClientSession) ([]*mcp.Tool, []string, error) {
	var tools []*mcp.Tool
	var names []string
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return nil, nil, err
		}
		tools = append(tools, t)
		names = append(names, t.Name)
	}
	return tools, names, nil
}

// UseTools lists the tools and, when tool is not "", calls it with args,
// logging both as steps. It returns what goes to stdout: the
// *mcp.CallToolResult, or the []*mcp.Tool list when no tool was named.
func UseTools(ctx context.Context, cs *mcp.ClientSession, steps *Steps, tool string, args map[string]any) (any, error) {
	tools, names, err := ListTools(ctx, cs)
	if err != nil {
		return nil, fmt.Errorf("tools/list: %w", err)
	}
	steps.Step("tools/list: %d tools: %s", len(names), strings.Join(names, ", "))
	if tool == "" {
		return tools, nil
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		return nil, fmt.Errorf("tools/call %s: %w", tool, err)
	}
	steps.Step("tools/call %s: isError=%t", tool, res.IsError)
	return res, nil
}

// WriteResult prints result (from UseTools) on w as indented JSON with a
// final newline. It returns an error when result is a tool result with
// isError set (MCP: the tool failed), after printing it.
func WriteResult(w io.Writer, result any, tool string) error {
	b, err := json.MarshalIndent(result, "", "  ")
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
		return err
	}
	if r, ok := result.(*mcp.CallToolResult); ok && r.IsError {
		return fmt.Errorf("tool %s returned an error result (see stdout)", tool)
	}
	return nil
}
