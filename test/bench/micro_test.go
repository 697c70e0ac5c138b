//go:build bench

package bench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// Benchstat is the pinned benchstat that formats the micro-benchmarks.
const Benchstat = "golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"

// DefaultMicroPackages are benchmarked when BENCH_PKGS is unset (the
// Makefile sets it).
var DefaultMicroPackages = []string{"./internal/authn/", "./internal/upstream/httpproxy/",
	"./internal/upstream/authz/", "./cmd/mcp-gateway/", "./internal/gateway/", "./internal/observe/..."}

// TestMicro runs the Go micro-benchmarks of BENCH_PKGS (space-separated
// package patterns, relative to the repository root) as one `go test
// -run '^$' -bench . -benchmem -count BENCH_COUNT` (default 6;
// BENCH_BENCHTIME, when set, becomes -benchtime), formats them with the
// pinned benchstat and writes the "micro" block of docs/PERFORMANCE.md.
// The raw output is kept as micro.txt in BENCH_OUT when set.
func TestMicro(t *testing.T) {
	root := testenv.Root(t)
	pkgs := strings.Fields(os.Getenv("BENCH_PKGS"))
	if len(pkgs) == 0 {
		pkgs = DefaultMicroPackages
	}
	count := os.Getenv("BENCH_COUNT")
	if count == "" {
		count = "6"
	}
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", count}
	if bt := os.Getenv("BENCH_BENCHTIME"); bt != "" {
		args = append(args, "-benchtime", bt)
	}
	args = append(args, pkgs...)
	raw := filepath.Join(t.TempDir(), "micro.txt")
	if dir := os.Getenv("BENCH_OUT"); dir != "" {
		raw = filepath.Join(dir, "micro.txt")
	}
	started := time.Now().UTC()
	out, err := runTee(t, root, raw, "go", args...)
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	if !strings.Contains(out, "\nBenchmark") {
		t.Fatalf("go %s ran no benchmark", strings.Join(args, " "))
	}
	// "label=path": the column is headed with the label, not a temporary path.
	stat, err := exec.Command("go", "run", Benchstat, "median="+raw).CombinedOutput()
	if err != nil {
		t.Fatalf("benchstat: %v\n%s", err, stat)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s, on the same shared machine as above: read the ±, "+
		"and compare benchmarks of one table (each pair runs side by side in one invocation) rather than "+
		"absolute times.\n\n", started.Format("2006-01-02 15:04 MST"), Machine())
	fmt.Fprintf(&b, "`go %s`, formatted by `go run %s`:\n\n", strings.Join(quoteArgs(args), " "), Benchstat)
	b.WriteString("```text\n")
	b.Write(bytes.TrimRight(stat, "\n"))
	b.WriteString("\n```\n")
	WriteSection(t, "micro", b.String())
	t.Logf("wrote the micro block of %s", PerformanceDoc)
}

// runTee runs name args in dir, copying its output to path and to the
// test's stdout as it comes (benchmarks are slow; progress shows), and
// returns the output.
func runTee(t *testing.T, dir, path, name string, args ...string) (string, error) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = testenv.CleanEnv()
	w := io.MultiWriter(f, &buf, os.Stdout)
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Run()
	return buf.String(), err
}

// quoteArgs single-quotes the arguments a shell would split or expand.
func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "^$*? ") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}
