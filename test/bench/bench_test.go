//go:build bench

package bench

import (
	"os"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// Workloads: how the load generator presents tokens.
const (
	// WorkloadSame presents one token on every call: a client between two
	// refreshes. A verifier that caches verified tokens (the gateway does)
	// verifies it once.
	WorkloadSame = "same token on every call"
	// WorkloadFresh presents a token no peer has seen on every call (from a
	// pre-minted pool): the worst case, one signature check per call.
	WorkloadFresh = "new token on every call"
)

// Workloads in the order a round runs them.
var Workloads = []string{WorkloadSame, WorkloadFresh}

// maxPool caps the fresh-token pool of one round.
const maxPool = 400_000

// Measurements are every run of a TestBench, by peer and workload (one
// Result per round), and the fixed-rate runs, by peer.
type Measurements struct {
	Settings Settings
	Peers    []Peer
	Sat      map[string]map[string][]Result // workload → peer → rounds
	Fixed    map[string][]Result            // peer → rounds
	// FixedRate is the target rate of each round's fixed-rate runs.
	FixedRate []float64
	// PoolSizes are the fresh-token pools minted, per round.
	PoolSizes []int
	Started   time.Time
}

// TestMain removes the binaries testenv built once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.CleanupBuilds()
	os.Exit(code)
}

// TestBench measures the gateway side by side with the alternatives: six
// peers, each behind its own authentication (checked first) and verifying
// tokens of one loopback issuer, in interleaved rounds of closed-loop
// saturation for each token workload and a fixed-rate run at half the
// direct go-sdk peer's saturation rate; it writes the "machine" and
// "peers" blocks of docs/PERFORMANCE.md.
func TestBench(t *testing.T) {
	s := LoadSettings(t)
	m := &Measurements{Settings: s, Started: time.Now().UTC(), Fixed: map[string][]Result{},
		Sat: map[string]map[string][]Result{WorkloadSame: {}, WorkloadFresh: {}}}
	ports := pickPorts(t)
	iss := NewIssuer(t, ports.audiences())
	m.Peers = StartPeers(t, iss, ports)
	CheckAuth(t, iss, m.Peers)

	for round := range s.Rounds {
		setup, err := iss.Mint()
		if err != nil {
			t.Fatal(err)
		}
		load := Load{Workers: s.Workers, Warmup: s.Warmup, Duration: s.Duration, SetupToken: setup}
		// Peers take turns in a different order each round, so that none
		// always runs first or right after the same one.
		order := append(append([]Peer{}, m.Peers[round%len(m.Peers):]...), m.Peers[:round%len(m.Peers)]...)
		var poolFor float64 // highest same-token rate of an authenticating peer
		for _, p := range order {
			r := m.saturate(t, load, round, p, WorkloadSame, SameToken(setup))
			if p.Auth {
				poolFor = max(poolFor, r.Rate)
			}
		}
		// Enough tokens for the fastest authenticating peer's same-token
		// rate over warm-up and window, plus a quarter (the fresh-token
		// rate is lower); after the first round, at most the fastest
		// fresh-token rate so far plus a fifth, with the same quarter on
		// top: minting is slow.
		// Each peer uses the pool from its start (the peers are separate
		// processes; none has seen these tokens).
		if fresh := m.fastestFresh(); fresh > 0 {
			poolFor = min(poolFor, fresh*1.2)
		}
		n := min(int(poolFor*(s.Warmup+s.Duration).Seconds()*1.25)+s.Workers*4, maxPool)
		t0 := time.Now()
		pool, err := iss.MintPool(n)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: minted %d tokens in %v", round+1, n, time.Since(t0).Round(time.Millisecond))
		m.PoolSizes = append(m.PoolSizes, n)
		for _, p := range order {
			var toks Tokens = NewTokenPool(pool)
			if !p.Auth {
				toks = SameToken(setup) // it reads no token: nothing to spend
			}
			m.saturate(t, load, round, p, WorkloadFresh, toks)
		}
		m.fixedRate(t, load, round, setup)
	}
	WriteSection(t, "machine", m.MachineMarkdown(t))
	WriteSection(t, "peers", m.PeersMarkdown())
	t.Logf("wrote %s", PerformanceDoc)
}

// fastestFresh is the highest fresh-token rate of an authenticating peer
// in any round so far (0 before the first).
func (m *Measurements) fastestFresh() float64 {
	var best float64
	for _, p := range m.Peers {
		for _, r := range m.Sat[WorkloadFresh][p.Name] {
			if p.Auth {
				best = max(best, r.Rate)
			}
		}
	}
	return best
}

// saturate runs one closed-loop measurement and records it.
func (m *Measurements) saturate(t *testing.T, load Load, round int, p Peer, workload string, toks Tokens) Result {
	t.Helper()
	if p.Missing != "" {
		return Result{}
	}
	load.Pids = p.Pids
	r, err := load.Saturate(p.URL, toks)
	if err != nil {
		t.Fatalf("round %d, %s, %s: %v", round+1, p.Name, workload, err)
	}
	t.Logf("round %d, %s, %s: %.0f req/s, p50 %s ms, p99 %s ms, %d errors%s",
		round+1, workload, p.Name, r.Rate, ms(r.P50), ms(r.P99), r.Errors, exhaustedNote(r))
	if r.FirstError != "" {
		t.Logf("  first error: %s", r.FirstError)
	}
	m.Sat[workload][p.Name] = append(m.Sat[workload][p.Name], r)
	return r
}

// fixedRate runs the direct go-sdk peer, the gateway in front of it and
// the gateway's built-in server at half the direct peer's same-token
// saturation rate of this round.
func (m *Measurements) fixedRate(t *testing.T, load Load, round int, token string) {
	t.Helper()
	direct := m.Sat[WorkloadSame][PeerDirect]
	if len(direct) <= round || direct[round].Rate == 0 {
		return
	}
	target := direct[round].Rate / 2
	m.FixedRate = append(m.FixedRate, target)
	for _, p := range m.Peers {
		if p.Missing != "" || (p.Name != PeerDirect && p.Name != PeerGateway && p.Name != PeerBuiltin) {
			continue
		}
		load.Pids = p.Pids
		r, err := load.FixedRate(p.URL, SameToken(token), target)
		if err != nil {
			t.Fatalf("round %d, %s at %.0f req/s: %v", round+1, p.Name, target, err)
		}
		t.Logf("round %d, fixed %.0f req/s, %s: %.0f req/s, p50 %s ms, p99 %s ms, %d errors",
			round+1, target, p.Name, r.Rate, ms(r.P50), ms(r.P99), r.Errors)
		if r.FirstError != "" {
			t.Logf("  first error: %s", r.FirstError)
		}
		m.Fixed[p.Name] = append(m.Fixed[p.Name], r)
	}
}

func exhaustedNote(r Result) string {
	if r.Exhausted {
		return " (token pool ran out after " + r.Elapsed.Round(time.Millisecond).String() + ")"
	}
	return ""
}
