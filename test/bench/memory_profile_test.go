//go:build bench

package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// memPprofOverlay is added to the gateway's main package in profile builds
// (go build -overlay): a pprof listener on BENCH_GATEWAY_PPROF, with heap
// sampling every 64 bytes (goroutine stacks: /debug/pprof/goroutine).
const memPprofOverlay = `package main

import (
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
)

func init() {
	if addr := os.Getenv("BENCH_GATEWAY_PPROF"); addr != "" {
		runtime.MemProfileRate = 64
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
`

var memPprofBuild struct {
	once     sync.Once
	dir, bin string
	err      error
}

// memPprofCleanup removes what memPprofGateway built.
func memPprofCleanup() {
	if memPprofBuild.dir != "" {
		_ = os.RemoveAll(memPprofBuild.dir)
	}
}

// memPprofGateway builds the gateway with memPprofOverlay, once.
func memPprofGateway(t *testing.T) string {
	root := testenv.Root(t)
	memPprofBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "mcp-gateway-pprof-")
		if err != nil {
			memPprofBuild.err = err
			return
		}
		memPprofBuild.dir = dir
		src := filepath.Join(dir, "zz_bench_pprof.go")
		overlay := filepath.Join(dir, "overlay.json")
		ov, _ := json.Marshal(map[string]any{"Replace": map[string]string{
			filepath.Join(root, "cmd", "mcp-gateway", "zz_bench_pprof.go"): src}})
		if err = os.WriteFile(src, []byte(memPprofOverlay), 0o644); err == nil {
			err = os.WriteFile(overlay, ov, 0o644)
		}
		if err != nil {
			memPprofBuild.err = err
			return
		}
		memPprofBuild.bin = filepath.Join(dir, "mcp-gateway")
		cmd := exec.Command("go", "build", "-overlay", overlay, "-o", memPprofBuild.bin, testenv.GatewayPackage)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			memPprofBuild.err = fmt.Errorf("go build -overlay: %w\n%s", err, out)
		}
	})
	if memPprofBuild.err != nil {
		t.Fatal(memPprofBuild.err)
	}
	return memPprofBuild.bin
}

// memSaveProfiles saves tg's goroutine (debug=1: grouped by stack) and heap
// profiles with n streams open into dir, and logs the goroutines per
// stream by the function each is parked in under net/http, the go-sdk or
// the gateway.
func memSaveProfiles(t *testing.T, base, dir string, tg *memTarget, n int) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	slug := strings.NewReplacer(" ", "-", ",", "", "/", "-").Replace(tg.name)
	for _, p := range []struct{ path, file string }{
		{"/debug/pprof/goroutine?debug=1", "goroutines.txt"},
		{"/debug/pprof/heap?gc=1", "heap.pb.gz"},
	} {
		resp, err := http.Get(base + p.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out := filepath.Join(dir, fmt.Sprintf("%s-%d-%s", slug, n, p.file))
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("saved %s", out)
		if p.file == "goroutines.txt" && n > 0 {
			t.Logf("%s: goroutines per stream by stack at %d streams:\n%s", tg.name, n, memGoroutineSummary(string(b), n))
		}
	}
	// Two more collections (each shrinks idle stacks by half at most) and
	// the settled figures.
	for i := range 3 {
		if i > 0 {
			if resp, err := http.Get(base + "/debug/pprof/heap?gc=1"); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		rss, err := memRSS(tg.proc.Pid)
		m, merr := memScrape(tg.metrics)
		if err == nil && merr == nil {
			t.Logf("%s: %d streams, after %d forced GC: RSS %d KiB, heap in use %.0f KiB, stack in use %.0f KiB",
				tg.name, n, i+1, rss, m["go_memstats_heap_inuse_bytes"]/1024, m["go_memstats_stack_inuse_bytes"]/1024)
		}
	}
}

// memGoroutineSummary condenses a debug=1 goroutine profile: each group of
// at least n/2 goroutines, with count/n and its innermost frames.
func memGoroutineSummary(profile string, n int) string {
	type group struct {
		count  int
		frames []string
	}
	var groups []group
	for _, block := range strings.Split(profile, "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if strings.HasPrefix(lines[0], "goroutine profile:") {
			lines = lines[1:]
		}
		if len(lines) < 2 {
			continue
		}
		f := strings.Fields(lines[0])
		if len(f) < 1 {
			continue
		}
		cnt, err := strconv.Atoi(f[0])
		if err != nil || cnt < n/2 {
			continue
		}
		var frames []string
		for _, l := range lines[1:] {
			fs := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "#"))
			if len(fs) >= 2 && !strings.HasPrefix(fs[1], "runtime.") && !strings.HasPrefix(fs[1], "internal/") {
				frames = append(frames, fs[1])
			}
			if len(frames) == 4 {
				break
			}
		}
		groups = append(groups, group{cnt, frames})
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].count > groups[j].count })
	var b strings.Builder
	for _, g := range groups {
		fmt.Fprintf(&b, "  %.2f  %s\n", float64(g.count)/float64(n), strings.Join(g.frames, " < "))
	}
	return b.String()
}
