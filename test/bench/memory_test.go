//go:build bench

package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// memProtocol is the protocol version of the benchmark's sessions: a
// 2025 generation, which has sessions and the standalone GET stream.
const memProtocol = "2025-11-25"

// memPrincipals is how many callers share the streams (each with its own
// token per endpoint), as many agents of a team would.
const memPrincipals = 50

// memTarget is one server measured: a process serving MCP at url whose
// Go runtime metrics are at metrics.
type memTarget struct {
	name    string
	url     string // MCP endpoint; also the tokens' audience
	metrics string
	gauge   string // series counting open requests (gateway: mcpgw_streams{route=...}); "" when none
	proc    *testenv.Process
}

// memPoint is one measurement of a target with open idle streams.
type memPoint struct {
	streams               int
	rssKiB                int64
	heapInuse, stackInuse float64
	goroutines            float64
}

// TestMemoryIdleStreams measures what an idle authenticated standalone
// SSE stream (an initialized 2025-11-25 session and its GET stream, held
// open and silent) costs the gateway's process, on the built-in route and
// on an HTTP route to a go-sdk upstream, next to a naive go-sdk server
// with go-oidc (H7's test/bench/peers/gosdk) holding the same streams.
// Every target is a fresh child process; the streams are opened from this
// process. For N in BENCH_STREAMS (default 1000,10000, after a baseline
// with none) it reads VmRSS from /proc, heap and stack in use and
// goroutines from /metrics once the target reports the streams open, and
// writes the per-stream figures into the "memory" block of
// docs/PERFORMANCE.md. The naive server has no metrics: its RSS only, read
// once it stops moving. BENCH_MEMORY_PROFILE=dir builds the gateway with a
// pprof listener (a build overlay: the shipped binary has none) and
// saves, with no stream and at the first N, its goroutine and heap
// profiles in dir (compare them with go tool pprof -diff_base).
// BENCH_MEMORY_TARGETS picks targets (builtin,http,gosdk);
// BENCH_GATEWAY_ENV adds ";"-separated K=V to the gateway's environment
// (GOGC, GOMEMLIMIT, GODEBUG experiments).
func TestMemoryIdleStreams(t *testing.T) {
	counts := memStreamCounts(t)
	nofile := memRaiseNoFile(t, uint64(2*counts[len(counts)-1]+4096))
	iss := authntest.NewIssuer(t)
	profileDir := os.Getenv("BENCH_MEMORY_PROFILE")
	t.Cleanup(memPprofCleanup)

	type result struct {
		name    string
		metrics bool
		points  []memPoint
	}
	var results []result
	var notes []string
	kinds := []string{"builtin", "http", "gosdk"}
	if v := os.Getenv("BENCH_MEMORY_TARGETS"); v != "" {
		kinds = strings.Split(v, ",")
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			var tg *memTarget
			switch kind {
			case "builtin", "http":
				tg = memStartGateway(t, iss, kind, profileDir)
			case "gosdk":
				tg = memStartPeer(t, iss)
			default:
				t.Fatalf("BENCH_MEMORY_TARGETS: %q is not builtin, http or gosdk", kind)
			}
			cs := counts
			if kind == "http" {
				// The proxying gateway holds two sockets per stream.
				if cs = memCap(counts, int(nofile-1024)/2); cs[len(cs)-1] != counts[len(counts)-1] {
					notes = append(notes, fmt.Sprintf("The HTTP route stops at %d streams: RLIMIT_NOFILE is %d here and it holds two sockets per stream.", cs[len(cs)-1], nofile))
				}
			}
			points := memMeasure(t, iss, tg, cs, profileDir)
			results = append(results, result{tg.name, tg.metrics != "", points})
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Idle authenticated standalone SSE streams: a %s session (initialize, notifications/initialized) and its GET stream, held open and silent, %d principals, rate limits off. Each server is a fresh process; the clients run in another. Per stream = (value at N − value with no stream) / N. RSS is VmRSS once the streams are open: besides live memory it holds what the Go runtime freed after opening them and has not given back to the OS yet. Heap and stack are the runtime's in-use bytes (go_memstats_heap_inuse_bytes, go_memstats_stack_inuse_bytes).\n\n", memProtocol, memPrincipals)
	b.WriteString("| server | streams | RSS MiB | RSS/stream KiB | heap/stream KiB | stack/stream KiB | goroutines/stream |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		base := r.points[0]
		for _, p := range r.points {
			if p.streams == 0 {
				fmt.Fprintf(&b, "| %s | 0 | %.1f | | | | |\n", r.name, float64(p.rssKiB)/1024)
				continue
			}
			n := float64(p.streams)
			rt := "n/a | n/a | n/a"
			if r.metrics {
				rt = fmt.Sprintf("%.1f | %.1f | %.2f", (p.heapInuse-base.heapInuse)/1024/n, (p.stackInuse-base.stackInuse)/1024/n,
					(p.goroutines-base.goroutines)/n)
			}
			fmt.Fprintf(&b, "| %s | %d | %.1f | %.1f | %s |\n", r.name, p.streams, float64(p.rssKiB)/1024,
				float64(p.rssKiB-base.rssKiB)/n, rt)
		}
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "\n%s\n", n)
	}
	fmt.Fprintf(&b, "\nMeasured on %s.\n", Machine())
	t.Log("\n" + b.String())
	// Only a full run of the shipped binary, as configured, goes into the
	// document.
	if len(results) == 3 && profileDir == "" && os.Getenv("BENCH_GATEWAY_ENV") == "" {
		WriteSection(t, "memory", b.String())
	}
}

// memStreamCounts is BENCH_STREAMS (comma-separated, ascending), default
// 1000,10000, with the baseline 0 first.
func memStreamCounts(t *testing.T) []int {
	out := []int{0}
	spec := os.Getenv("BENCH_STREAMS")
	if spec == "" {
		spec = "1000,10000"
	}
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= out[len(out)-1] {
			t.Fatalf("BENCH_STREAMS=%q: want ascending positive counts", spec)
		}
		out = append(out, n)
	}
	return out
}

// memRaiseNoFile raises this process's RLIMIT_NOFILE to at least n (the
// hard limit too when permitted, else to the hard limit) and returns it. Setting it explicitly also makes the
// children inherit it (Go restores the original soft limit for children
// only when the program never set it).
func memRaiseNoFile(t *testing.T, n uint64) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	want := lim
	want.Cur = max(lim.Cur, n)
	want.Max = max(lim.Max, n)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		want.Cur, want.Max = lim.Max, lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			t.Fatal(err)
		}
		if lim.Max < n {
			t.Logf("RLIMIT_NOFILE: the hard limit %d is below the %d file descriptors wanted", lim.Max, n)
		}
	}
	return want.Cur
}

// memCap caps counts at most, dropping those above it.
func memCap(counts []int, most int) []int {
	var out []int
	for _, n := range counts {
		if n > most {
			if out[len(out)-1] < most {
				out = append(out, most)
			}
			break
		}
		out = append(out, n)
	}
	return out
}

// memStartGateway starts `mcp-gateway serve` with the route of kind
// (builtin at /mcp, or http at /up to a stateful go-sdk conformance
// server), rate limits off and the stream cap above the benchmark's.
// With profileDir it is built with a pprof listener (see memPprofOverlay).
func memStartGateway(t *testing.T, iss *authntest.Issuer, kind, profileDir string) *memTarget {
	bin := testenv.BuildGateway(t)
	var env []string
	if v := os.Getenv("BENCH_GATEWAY_ENV"); v != "" {
		env = strings.Split(v, ";")
	}
	if profileDir != "" {
		bin = memPprofGateway(t)
		env = append(env, "BENCH_GATEWAY_PPROF=127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)))
	}
	route := map[string]any{"path": "/mcp", "upstream": "builtin", "max_streams_per_principal": 1 << 20}
	name := "gateway, built-in route"
	if kind == "http" {
		up := testenv.StartConformanceServer(t, false)
		route = map[string]any{"path": "/mcp", "upstream": up, "max_streams_per_principal": 1 << 20}
		name = "gateway, HTTP route to go-sdk"
	}
	dir := t.TempDir()
	port := testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cfg := map[string]any{
		"listen": fmt.Sprintf("127.0.0.1:%d", port), "public_url": base, "issuer": iss.URL,
		"provider": "generic", "required_scopes": []string{"mcp:tools"}, "log_level": "warn", "audit_log": "off",
		"rate_limit_per_ip": -1, "rate_limit_per_principal": -1,
		"routes": []map[string]any{route},
	}
	raw, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	p := testenv.Start(t, testenv.ProcessSpec{Name: "mcp-gateway-" + kind, Path: bin, Args: []string{"serve", "--config", path},
		Dir: dir, Env: env, ReadyURL: base + "/readyz"})
	tg := &memTarget{name: name, url: base + "/mcp", metrics: base + "/metrics", gauge: `mcpgw_streams{route="/mcp"}`, proc: p}
	if profileDir != "" {
		for _, e := range env {
			if a, ok := strings.CutPrefix(e, "BENCH_GATEWAY_PPROF="); ok {
				memPprof.Store(tg, "http://"+a)
			}
		}
	}
	return tg
}

// memPprof maps a target to its pprof base URL (profile builds only).
var memPprof sync.Map

// memStartPeer builds and starts H7's naive peer, test/bench/peers/gosdk
// with BENCH_AUTH=go-oidc: the go-sdk's StreamableHTTPHandler behind its
// RequireBearerToken with a go-oidc verifier. It serves no metrics: only
// its RSS is measured.
func memStartPeer(t *testing.T, iss *authntest.Issuer) *memTarget {
	bin := testenv.Build(t, "./test/bench/peers/gosdk")
	url := fmt.Sprintf("http://127.0.0.1:%d/mcp", testenv.FreePort(t))
	p := testenv.Start(t, testenv.ProcessSpec{Name: "gosdk", Path: bin,
		Env: []string{"BENCH_LISTEN=" + strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/mcp"), "BENCH_AUTH=go-oidc",
			"BENCH_ISSUER=" + iss.URL, "BENCH_AUDIENCE=" + url, "BENCH_SCOPE=mcp:tools"},
		Ready: func(line string) bool { return strings.HasPrefix(line, "ready http://") }})
	return &memTarget{name: "naive go-sdk + go-oidc", url: url, proc: p}
}

// memMeasure opens streams on tg up to each count, and measures once
// they are open and the process has settled.
func memMeasure(t *testing.T, iss *authntest.Issuer, tg *memTarget, counts []int, profileDir string) []memPoint {
	c := newMemClient(t, iss, tg.url)
	defer c.close()
	// Warm up: one session and its stream through every code path, then
	// closed, so the baseline holds the one-off allocations.
	c.open(t, 1)
	c.close()
	var points []memPoint
	for _, n := range counts {
		c.open(t, n-len(c.conns))
		p := memSettle(t, tg, n)
		if tg.metrics == "" {
			t.Logf("%s: %d streams: RSS %d KiB", tg.name, n, p.rssKiB)
		} else {
			t.Logf("%s: %d streams: RSS %d KiB, heap in use %.0f KiB, stack in use %.0f KiB, %v goroutines",
				tg.name, n, p.rssKiB, p.heapInuse/1024, p.stackInuse/1024, p.goroutines)
		}
		points = append(points, p)
		if pp, ok := memPprof.Load(tg); ok && len(points) <= 2 {
			memSaveProfiles(t, pp.(string), profileDir, tg, n)
		}
	}
	return points
}

// memSettle waits until tg reports n streams open (its gauge, when it has
// one) and its goroutine count stops moving, then measures.
func memSettle(t *testing.T, tg *memTarget, n int) memPoint {
	if tg.gauge != "" {
		var last float64
		if !testkit.Poll(2*time.Minute, func() bool {
			m, err := memScrape(tg.metrics)
			last = m[tg.gauge]
			return err == nil && last == float64(n)
		}) {
			t.Fatalf("%s: %s is %v, want %d", tg.name, tg.gauge, last, n)
		}
	}
	// Settled: the goroutine count (RSS without metrics) unchanged over
	// five polls.
	probe := func() (float64, error) {
		if tg.metrics == "" {
			rss, err := memRSS(tg.proc.Pid)
			return float64(rss), err
		}
		m, err := memScrape(tg.metrics)
		return m["go_goroutines"], err
	}
	prev, stable := -1.0, 0
	if !testkit.Poll(time.Minute, func() bool {
		v, err := probe()
		if err != nil {
			return false
		}
		if v == prev {
			stable++
		} else {
			stable = 0
		}
		prev = v
		return stable >= 5
	}) {
		t.Fatalf("%s: never settled (last %v)", tg.name, prev)
	}
	rss, err := memRSS(tg.proc.Pid)
	if err != nil {
		t.Fatal(err)
	}
	p := memPoint{streams: n, rssKiB: rss}
	if tg.metrics != "" {
		m, err := memScrape(tg.metrics)
		if err != nil {
			t.Fatal(err)
		}
		p.heapInuse, p.stackInuse, p.goroutines = m["go_memstats_heap_inuse_bytes"], m["go_memstats_stack_inuse_bytes"], m["go_goroutines"]
	}
	return p
}

// memScrape reads a Prometheus text exposition into series -> value (the
// series as written, labels included).
func memScrape(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// memRSS is /proc/pid/status's VmRSS in KiB.
func memRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
