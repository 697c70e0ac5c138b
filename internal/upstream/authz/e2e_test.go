package authz_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/upstream/authz"
)

// sdkUpstream is a real go-sdk MCP server with restricted and open tools,
// resources and prompts, served stateful (2025-x) or stateless
// (2026-07-28) by the MCP-Protocol-Version header, as the gateway's
// built-in server is.
func sdkUpstream() http.Handler {
	srv := mcp.NewServer(&mcp.Implementation{Name: "upstream", Version: "1"}, nil)
	for _, name := range []string{"echo", "admin.reset", "repo.delete"} {
		mcp.AddTool(srv, &mcp.Tool{Name: name, Description: name}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ran " + name}}}, nil, nil
		})
	}
	for _, uri := range []string{"file:///public/a", "file:///secret/b"} {
		srv.AddResource(&mcp.Resource{URI: uri, Name: uri}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, Text: "contents of " + uri}}}, nil
		})
	}
	for _, name := range []string{"greet", "secret_plan"} {
		srv.AddPrompt(&mcp.Prompt{Name: name}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: name}}}}, nil
		})
	}
	get := func(*http.Request) *mcp.Server { return srv }
	stateful := mcp.NewStreamableHTTPHandler(get, &mcp.StreamableHTTPOptions{DisableLocalhostProtection: true})
	stateless := mcp.NewStreamableHTTPHandler(get, &mcp.StreamableHTTPOptions{DisableLocalhostProtection: true, Stateless: true})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("MCP-Protocol-Version") >= "2026-07-28" {
			stateless.ServeHTTP(w, r)
			return
		}
		stateful.ServeHTTP(w, r)
	})
}

// tokenTransport sends the current token; it can be swapped (step-up).
type tokenTransport struct{ token atomic.Value }

func (t *tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+strings.ReplaceAll(t.token.Load().(string), ":", "-"))
	return http.DefaultTransport.RoundTrip(r)
}

// TestEndToEndGoSDK: a go-sdk client, over 2025-06-18 (sessions, SSE
// responses) and 2026-07-28 (sessionless, Mcp-Method/Mcp-Name headers),
// sees only the tools, resources and prompts its token allows, gets 403
// for a restricted tool, and after stepping up to a broader token calls it
// in the same session.
func TestEndToEndGoSDK(t *testing.T) {
	for _, version := range []string{"2025-06-18", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			noLeak(t)
			var mu sync.Mutex
			seen := map[string]string{} // Mcp-Method -> response Content-Type
			up := sdkUpstream()
			srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				up.ServeHTTP(w, r)
				mu.Lock()
				seen[r.Header.Get("Mcp-Method")] = w.Header().Get("Content-Type")
				mu.Unlock()
			}), authz.Options{})
			tt := &tokenTransport{}
			tt.token.Store("mcp")
			hc := &http.Client{Transport: tt}
			defer http.DefaultTransport.(*http.Transport).CloseIdleConnections()
			ctx := t.Context()
			client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
			cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: hc, MaxRetries: -1},
				&mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { cs.Close() }()
			if got := cs.InitializeResult().ProtocolVersion; got != version {
				t.Fatalf("negotiated %s", got)
			}

			tools, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if names := toolNames(tools.Tools); !slices.Equal(names, []string{"echo"}) {
				t.Errorf("tools/list = %q, want [echo]", names)
			}
			res, err := cs.ListResources(ctx, nil)
			if err != nil || len(res.Resources) != 1 || res.Resources[0].URI != "file:///public/a" {
				t.Errorf("resources/list = %+v, %v", res, err)
			}
			prompts, err := cs.ListPrompts(ctx, nil)
			if err != nil || len(prompts.Prompts) != 1 || prompts.Prompts[0].Name != "greet" {
				t.Errorf("prompts/list = %+v, %v", prompts, err)
			}
			if r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo"}); err != nil || r.IsError {
				t.Errorf("echo: %+v, %v", r, err)
			}
			// Tool names are exact (see authz.Policy): the go-sdk looks
			// tools up by the exact string, so another case reaches the
			// upstream and runs nothing.
			if r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "ADMIN.RESET"}); err == nil && !r.IsError || err != nil && strings.Contains(err.Error(), "Forbidden") {
				t.Errorf("ADMIN.RESET: %+v, %v; want the upstream's unknown tool", r, err)
			} else if err == nil && strings.Contains(r.Content[0].(*mcp.TextContent).Text, "ran") {
				t.Errorf("ADMIN.RESET ran a tool: %+v", r)
			}
			_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "admin.reset"})
			if err == nil || !strings.Contains(err.Error(), "Forbidden") {
				t.Errorf("admin.reset with a narrow token: %v, want 403 Forbidden", err)
			}
			// The go-sdk client ends a session on an HTTP error; stepping
			// up is a new connection of the same client with the broader
			// token.
			cs.Close()
			tt.token.Store("mcp+tools:admin+res:secret")
			cs, err = client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: hc, MaxRetries: -1},
				&mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatal(err)
			}
			r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "admin.reset"})
			if err != nil || r.IsError || r.Content[0].(*mcp.TextContent).Text != "ran admin.reset" {
				t.Fatalf("after step-up: %+v, %v", r, err)
			}
			if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "file:///secret/b"}); err != nil {
				t.Errorf("secret resource after step-up: %v", err)
			}
			tools, err = cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if names := toolNames(tools.Tools); !slices.Equal(names, []string{"admin.reset", "echo"}) {
				t.Errorf("tools/list after step-up = %q", names)
			}
			mu.Lock()
			defer mu.Unlock()
			if version >= "2026-07-28" {
				if _, ok := seen["tools/list"]; !ok {
					t.Errorf("2026-07-28 requests carried no Mcp-Method: %v", seen)
				}
			} else if ct := seen[""]; ct != "text/event-stream" {
				t.Errorf("2025 list responses were %q, want an event stream", ct)
			}
		})
	}
}

func toolNames(ts []*mcp.Tool) []string {
	var names []string
	for _, t := range ts {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	return names
}
