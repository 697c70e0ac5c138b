// Package testenv helps tests run real peers next to the code under test: the
// mcp-gateway binary itself, and the Node programs in test/node (a real
// third-party authorization server and the MCP TypeScript SDK client).
//
// Everything it starts binds to 127.0.0.1 and is stopped by t.Cleanup.
// Missing prerequisites (node, test/node/node_modules) skip a test on a
// developer machine and fail it under CI=true, so CI can never go green by
// skipping.
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// ModulePath is the module whose root Root looks for.
const ModulePath = "github.com/mcp-gateway/mcp-gateway"

// NodeInstallCommand is the command that installs test/node's pinned packages
// (make test runs it before go test).
const NodeInstallCommand = "npm ci --prefix test/node"

// DefaultNodeTimeout bounds one RunNode call.
const DefaultNodeTimeout = 60 * time.Second

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error

	portMu   sync.Mutex
	portSeen = map[int]bool{}
)

// InCI reports whether the tests run under CI (CI=true or CI=1), where missing
// prerequisites are failures rather than skips.
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}

// SkipOrFail skips the test with msg on a developer machine and fails it under CI.
func SkipOrFail(t testing.TB, msg string) {
	t.Helper()
	if InCI() {
		t.Fatal(msg + " (CI=true: this is a failure, not a skip)")
	}
	t.Skip(msg)
}

// Root returns the repository root: the nearest directory above the working
// directory whose go.mod declares ModulePath.
func Root(t testing.TB) string {
	t.Helper()
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err == nil && strings.Contains(string(data), "module "+ModulePath+"\n") {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = fmt.Errorf("no go.mod for %s above the working directory", ModulePath)
				return
			}
			dir = parent
		}
	})
	if rootErr != nil {
		t.Fatalf("testenv.Root: %v", rootErr)
	}
	return rootDir
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago and has
// not been handed out before in this test binary.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testenv.FreePort: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		portMu.Lock()
		seen := portSeen[port]
		portSeen[port] = true
		portMu.Unlock()
		if !seen {
			return port
		}
	}
	t.Fatal("testenv.FreePort: no fresh port after 50 tries")
	return 0
}

// NodeDir returns the directory of the Node test programs (test/node).
func NodeDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(Root(t), "test", "node")
}

// NodeModules makes sure node is on PATH and test/node/node_modules holds the
// pinned packages, and returns test/node. If not, it skips the test, or under
// CI=true fails it, naming NodeInstallCommand.
func NodeModules(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		SkipOrFail(t, "node is not on PATH: install Node.js >= 20.19, then run `"+NodeInstallCommand+"`")
	}
	dir := NodeDir(t)
	for _, pkg := range []string{"oidc-provider", "@modelcontextprotocol/sdk"} {
		pj := filepath.Join(dir, "node_modules", filepath.FromSlash(pkg), "package.json")
		if _, err := os.Stat(pj); err != nil {
			SkipOrFail(t, fmt.Sprintf("test/node/node_modules lacks %s: run `%s` from the repository root", pkg, NodeInstallCommand))
		}
	}
	return dir
}

// RunNode runs `node test/node/<script> args...` (from test/node) with
// DefaultNodeTimeout and returns its stdout. Its stderr goes to the test log
// and, when the program fails, into the returned error as well.
func RunNode(t testing.TB, script string, args ...string) (stdout string, err error) {
	t.Helper()
	return RunNodeTimeout(t, DefaultNodeTimeout, script, args...)
}

// RunNodeTimeout is RunNode with an explicit timeout.
func RunNodeTimeout(t testing.TB, timeout time.Duration, script string, args ...string) (string, error) {
	t.Helper()
	dir := NodeModules(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Dir = dir
	cmd.Env = cleanEnv(nil)
	cmd.WaitDelay = 2 * time.Second
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout = &outBuf
	cmd.Stderr = &errBuf
	start := time.Now()
	runErr := cmd.Run()
	name := strings.TrimSuffix(filepath.Base(script), filepath.Ext(script))
	for _, line := range strings.Split(strings.TrimRight(errBuf.String(), "\n"), "\n") {
		if line != "" {
			t.Logf("[%s] %s", name, line)
		}
	}
	t.Logf("[%s] exited after %v: %v", name, time.Since(start).Round(time.Millisecond), runErr)
	if runErr != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			runErr = fmt.Errorf("timed out after %v: %w", timeout, runErr)
		}
		return outBuf.String(), fmt.Errorf("node %s: %w\nstderr:\n%s", script, runErr, errBuf.String())
	}
	return outBuf.String(), nil
}

// cleanEnv returns the process environment without inherited MCPGW_/MCPDCR_
// settings (a developer's shell must not configure a test's gateway), plus extra.
func cleanEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MCPGW_") || strings.HasPrefix(kv, "MCPDCR_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// CleanEnv is the environment tests give the project's commands: the
// process environment without inherited MCPGW_/MCPDCR_ settings, plus extra.
func CleanEnv(extra ...string) []string { return cleanEnv(extra) }
