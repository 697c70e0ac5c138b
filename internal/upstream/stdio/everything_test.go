package stdio

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

const everythingPkg = "@modelcontextprotocol/server-everything"

// everythingCommand returns the argv running the reference server
// @modelcontextprotocol/server-everything over stdio from test/node. When it
// is not installed the test is skipped, or failed under CI=true if
// test/node/package.json lists it (then `npm ci` should have installed it).
func everythingCommand(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(testenv.Root(t), "test", "node")
	entry := filepath.Join(dir, "node_modules", filepath.FromSlash(everythingPkg), "dist", "index.js")
	pj, _ := os.ReadFile(filepath.Join(dir, "package.json"))
	listed := strings.Contains(string(pj), `"`+everythingPkg+`"`)
	node, errNode := exec.LookPath("node")
	_, errEntry := os.Stat(entry)
	if errNode != nil || errEntry != nil {
		msg := "node or " + entry + " is missing: run `" + testenv.NodeInstallCommand + "`"
		if listed {
			testenv.SkipOrFail(t, msg)
		}
		t.Skip(msg + " (not listed in test/node/package.json)")
	}
	return []string{node, entry, "stdio"}
}

// TestEverythingServer proves the relay with a real third-party stdio MCP
// server: the go-sdk client lists and calls tools, reads a resource and
// receives progress notifications; the server sees the caller's identity in
// its environment and not the gateway's other variables. Close leaves no
// process (node included) and no goroutine behind.
func TestEverythingServer(t *testing.T) {
	argv := everythingCommand(t)
	testkit.CheckGoroutines(t)
	t.Setenv("MCPGW_TEST_SECRET", "do-not-leak")
	h := newHarness(t, func(o *Options) {
		o.Command = argv
		o.Env = nil
	})
	var mu sync.Mutex
	var progress []float64
	cs := h.connect(t, "alice", &mcp.ClientOptions{ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
		mu.Lock()
		progress = append(progress, r.Params.Progress)
		mu.Unlock()
	}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, tool := range tools.Tools {
		have[tool.Name] = true
	}
	for _, want := range []string{"echo", "get-sum", "trigger-long-running-operation", "get-env"} {
		if !have[want] {
			t.Errorf("tools/list lacks %s", want)
		}
	}
	if got, err := callText(t, cs, "echo", map[string]any{"message": "through the gateway"}); err != nil || !strings.Contains(got, "through the gateway") {
		t.Fatalf("echo = %q, %v", got, err)
	}
	if got, err := callText(t, cs, "get-sum", map[string]any{"a": 2, "b": 3}); err != nil || !strings.Contains(got, "5") {
		t.Fatalf("get-sum = %q, %v", got, err)
	}
	params := &mcp.CallToolParams{Name: "trigger-long-running-operation", Arguments: map[string]any{"duration": 0.3, "steps": 3}}
	params.SetProgressToken("everything-1")
	if res, err := cs.CallTool(ctx, params); err != nil || res.IsError {
		t.Fatalf("long running operation: %+v, %v", res, err)
	}
	waitFor(t, "3 progress notifications", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(progress) == 3
	})
	env, err := callText(t, cs, "get-env", nil)
	if err != nil || !strings.Contains(env, "alice") || strings.Contains(env, "do-not-leak") {
		t.Fatalf("get-env = %q, %v: want the subject and not the gateway's variables", env, err)
	}
	res, err := cs.ListResources(ctx, nil)
	if err != nil || len(res.Resources) == 0 {
		t.Fatalf("resources/list = %+v, %v", res, err)
	}
	read, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: res.Resources[0].URI})
	if err != nil || len(read.Contents) == 0 {
		t.Fatalf("resources/read %s = %+v, %v", res.Resources[0].URI, read, err)
	}
	pids := h.srv.pids()
	if len(pids) != 1 {
		t.Fatalf("pids = %v, want one process", pids)
	}
	if err := h.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if alive(pids[0]) {
		t.Fatalf("node pid %d alive after Close", pids[0])
	}
}
