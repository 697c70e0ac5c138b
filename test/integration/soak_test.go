//go:build soak && unix

package integration

// The traffic soak (make soak; not part of make test or CI):
//
//	cd test/integration && go test -tags soak -count=1 -timeout 40m -run '^TestSoak$'
//
// Environment (optional):
//
//	SOAK_DURATION  how long the traffic runs, a Go duration of at least 60s
//	               (default 10m; SOAK_DURATION=90s for a quick try)

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

const (
	// soakWarmup passes before the baseline measurement.
	soakWarmup = 20 * time.Second
	// soakGrace separates the key rotation from the old key's removal:
	// longer than token_cache_ttl + jwks_min_refresh (+ slack), so the
	// gateway has learnt the new key well before the old one goes.
	soakGrace = 15 * time.Second
	// soakTick paces an honest worker: at most 12.5 operations a second,
	// about 17 requests with a session's initialize, GET and DELETE, so
	// a principal's two workers stay well under its rate limit (50/s,
	// bursts of 100) and each address under its own (100/s).
	soakTick = 80 * time.Millisecond
	// soakAbuseTick paces the abusive principal: 400 requests a second,
	// eight times its rate limit, over four client addresses.
	soakAbuseTick = 2500 * time.Microsecond
	// Bounds on the gateway's growth from the warm-up to the idle end.
	soakMaxGoroutineGrowth = 50
	soakMaxFDGrowth        = 20
	// soakIdleBound bounds the wait for the gateway to go idle after the
	// traffic (sessions closed, connections gone).
	soakIdleBound = 2 * time.Minute
)

// TestSoak runs SOAK_DURATION of mixed traffic through a real `mcp-gateway
// serve` with three routes (the built-in tools at /mcp, the Go SDK's
// conformance server over Streamable HTTP at /up, the same server over
// stdio at /stdio; echo and test_simple_text need mcp:echo) and an
// authntest issuer. Four honest principals (carol without mcp:echo) each
// run a stateless worker (2026-07-28 JSON-RPC POSTs on /mcp and /up) and
// a go-sdk session worker (2025-11-25 sessions on every route) with valid
// tokens and every kind of bad one (expired, wrong audience, another
// route's, forged, wrong issuer, garbage, none, authntest's attack table,
// no mcp:tools, a tool scope missing); an abusive principal floods /mcp.
// At a third the issuer rotates its signing key (new key published and
// signing, old one kept), soakGrace later it drops the old key, and at
// half time the HTTP upstream is stopped and started again on its port.
//
// Every request has an expected outcome (soakEvents.expect); a request
// answered otherwise is a wrong decision, as is a tools/list showing a
// tool the caller may not use (or hiding one it may) and a whoami naming
// someone else. Upstream errors while the upstream restarts are counted,
// not wrong. The test prints the table and fails on any wrong decision,
// on goroutine or FD growth beyond soakMaxGoroutineGrowth or
// soakMaxFDGrowth from the warm-up to the idle end, on a token-like string
// in the audit log, and when the run never reached what it exists to
// test (a new-key token passing, an old-key one refused after the drop, a
// call on /up after the restart, the abusive principal refused with 429).
// RSS and Go heap growth are reported only.
func TestSoak(t *testing.T) {
	duration := soakEnvDuration(t, "SOAK_DURATION", 10*time.Minute)
	if duration < time.Minute {
		t.Fatalf("SOAK_DURATION=%v: at least 1m (warm-up, key rollover and restart need the time)", duration)
	}
	bin := testenv.BuildGateway(t)
	confBin := testenv.BuildConformanceServer(t)
	iss := authntest.NewIssuer(t)
	upAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	upstream := testenv.StartConformanceServerAt(t, upAddr, true)

	events := &soakEvents{timings: soakTimings{cacheTTL: 2 * time.Second, minRefresh: 2 * time.Second,
		refresh: 5 * time.Second, slack: 3 * time.Second}}
	dir := t.TempDir()
	port := testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	auditPath := filepath.Join(dir, "audit.log")
	cfgPath := soakConfig(t, dir, events.timings, map[string]any{
		"listen": fmt.Sprintf("127.0.0.1:%d", port), "public_url": base, "issuer": iss.URL,
		"audit_log": auditPath,
	}, upAddr, confBin)
	gw := testenv.Start(t, testenv.ProcessSpec{Name: "mcp-gateway", Path: bin, Args: []string{"serve", "--config", cfgPath},
		Dir: dir, ReadyURL: base + "/readyz"})
	probe := newSoakProbe(gw.Pid, base+"/metrics")
	if _, err := probe.sample(); err != nil {
		t.Fatalf("measuring the gateway: %v", err)
	}

	routes := []string{"/mcp", "/up", "/stdio"}
	minter := newSoakMinter(iss, base, routes, duration+time.Hour)
	tally := newSoakCounts(events)
	workers := soakWorkers(base, iss.URL, minter, events, tally)

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	began := time.Now()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if w.sessions {
				w.runSessions(ctx)
			} else {
				w.runRaw(ctx)
			}
		}()
	}
	go probe.watch(ctx, 2*time.Second)

	var warm soakSample
	var downFor time.Duration
	schedule := []struct {
		at   time.Duration
		name string
		do   func()
	}{
		{soakWarmup, "warm-up measured", func() {
			var err error
			if warm, err = probe.sample(); err != nil {
				t.Fatalf("warm-up measurement: %v", err)
			}
		}},
		{duration / 3, "signing key rotated (old key still published)", func() {
			soakMark(&events.rotated)
			minter.rotate()
		}},
		{duration/3 + soakGrace, "old signing key dropped from the JWKS", func() {
			soakMark(&events.dropped)
			iss.DropPrevious()
		}},
		{duration / 2, "HTTP upstream restarted", func() {
			soakMark(&events.killed)
			upstream.Stop()
			upstream = testenv.StartConformanceServerAt(t, upAddr, true)
			soakMark(&events.back)
			downFor = soakAt(&events.back).Sub(soakAt(&events.killed))
		}},
	}
	sort.SliceStable(schedule, func(i, j int) bool { return schedule[i].at < schedule[j].at })
	for _, ev := range schedule {
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(began.Add(ev.at))):
			ev.do()
			fmt.Printf("soak %v: %s\n", time.Since(began).Round(time.Second), ev.name)
		}
	}
	<-ctx.Done()
	wg.Wait()
	for _, w := range workers {
		w.tr.CloseIdleConnections()
	}
	fmt.Printf("soak %v: traffic stopped; waiting for the gateway to go idle\n", time.Since(began).Round(time.Second))

	end, idle := soakIdle(probe, warm)
	var leftovers []string
	if !idle {
		leftovers = soakChildList(gw.Pid)
	}
	if exited, err := gw.Exited(); exited {
		t.Fatalf("the gateway exited during the soak: %v\n%s", err, gw.Output())
	}
	audit := soakAudit(t, auditPath)
	soakReport(t, soakReportIn{duration: duration, tally: tally, events: events, began: began, downFor: downFor,
		warm: warm, peak: probe.peaks(), end: end, idle: idle, leftovers: leftovers, audit: audit,
		minted: minter.minted.Load()})
}

// soakConfig writes the gateway's configuration file (JSON is YAML) and
// returns its path: settings plus the soak's fixed ones.
func soakConfig(t *testing.T, dir string, tm soakTimings, settings map[string]any, upAddr, stdioCmd string) string {
	t.Helper()
	cfg := map[string]any{
		"provider":         "generic",
		"required_scopes":  []string{"mcp:tools"},
		"log_level":        "warn",
		"token_cache_ttl":  tm.cacheTTL.String(),
		"jwks_min_refresh": tm.minRefresh.String(),
		"jwks_refresh":     tm.refresh.String(),
		// Each worker is its own client address behind a trusted proxy.
		"trusted_proxies":                []string{"127.0.0.1"},
		"rate_limit_per_ip":              100,
		"rate_limit_per_ip_burst":        200,
		"rate_limit_per_principal":       50,
		"rate_limit_per_principal_burst": 100,
		"routes": []map[string]any{
			{"path": "/mcp", "upstream": "builtin", "tool_scopes": map[string][]string{"echo": {"mcp:echo"}}},
			{"path": "/up", "upstream": "http://" + upAddr + "/", "tool_scopes": map[string][]string{"test_simple_text": {"mcp:echo"}}},
			{"path": "/stdio", "upstream": stdioCmd, "tool_scopes": map[string][]string{"test_simple_text": {"mcp:echo"}}},
		},
	}
	for k, v := range settings {
		cfg[k] = v
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// soakWorkers are the soak's clients: for each honest principal a
// stateless worker (/mcp, /up) and a session worker (/mcp, /up, /stdio),
// and the abusive principal's stateless flood of /mcp.
func soakWorkers(base, issuer string, minter *soakMinter, events *soakEvents, tally *soakCounts) []*soakWorker {
	honest := []*soakPrincipal{{name: "alice", echo: true}, {name: "bob", echo: true}, {name: "carol"}, {name: "dave", echo: true}}
	mallory := &soakPrincipal{name: "mallory", echo: true, abusive: true}
	var out []*soakWorker
	add := func(p *soakPrincipal, sessions bool, tick time.Duration, routes []string, ips ...string) {
		out = append(out, &soakWorker{p: p, sessions: sessions, ips: ips, base: base, issuer: issuer, routes: routes, tick: tick,
			minter: minter, events: events, tally: tally,
			tr:  &http.Transport{MaxIdleConnsPerHost: 8, IdleConnTimeout: 30 * time.Second},
			rng: rand.New(rand.NewPCG(uint64(len(out)), 1))})
	}
	for i, p := range honest {
		add(p, false, soakTick, []string{"/mcp", "/up"}, fmt.Sprintf("10.77.%d.1", i))
		add(p, true, soakTick, []string{"/mcp", "/up", "/stdio"}, fmt.Sprintf("10.77.%d.2", i))
	}
	add(mallory, false, soakAbuseTick, []string{"/mcp"}, "10.78.0.1", "10.78.0.2", "10.78.0.3", "10.78.0.4")
	return out
}

// soakIdle waits (up to soakIdleBound) until the gateway is back within
// the growth bounds of warm with no stdio process left, and returns the
// last measurement and whether that happened.
func soakIdle(probe *soakProbe, warm soakSample) (soakSample, bool) {
	var last soakSample
	idle := testkit.Poll(soakIdleBound, func() bool {
		s, err := probe.sample()
		if err != nil {
			return false
		}
		last = s
		return s.goroutines <= warm.goroutines+soakMaxGoroutineGrowth && s.fds <= warm.fds+soakMaxFDGrowth && s.children == 0
	})
	return last, idle
}

// soakAuditSummary is what the audit log held.
type soakAuditSummary struct {
	lines      int
	byDecision map[string]int
	tokenLike  int // lines holding what looks like a JWT
	bad        int // lines that are not JSON
}

func soakAudit(t *testing.T, path string) soakAuditSummary {
	t.Helper()
	s := soakAuditSummary{byDecision: map[string]int{}}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("audit log: %v", err)
		return s
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		s.lines++
		var l struct {
			Decision string `json:"decision"`
		}
		if json.Unmarshal([]byte(line), &l) != nil {
			s.bad++
			continue
		}
		s.byDecision[l.Decision]++
		if strings.Contains(line, "eyJ") {
			s.tokenLike++
		}
	}
	return s
}

// soakReportIn is what the report shows.
type soakReportIn struct {
	duration        time.Duration
	tally           *soakCounts
	events          *soakEvents
	began           time.Time
	downFor         time.Duration
	warm, peak, end soakSample
	idle            bool
	leftovers       []string // child processes left when not idle
	minted          int64    // correctly signed tokens minted
	audit           soakAuditSummary
}

// soakReport prints the soak's tables and fails the test on what must not
// happen.
func soakReport(t *testing.T, in soakReportIn) {
	tl := in.tally
	tl.mu.Lock()
	defer tl.mu.Unlock()
	cols := []string{soakAllowed, soak401, soak403, soak429, soakUpstream, soakError}
	at := func(v time.Time) string { return v.Sub(in.began).Round(time.Second).String() }
	var b strings.Builder
	fmt.Fprintf(&b, "traffic soak through mcp-gateway serve, %v: key rotated at %s, old key dropped at %s, HTTP upstream restarted at %s (down %v)\n\n",
		in.duration, at(soakAt(&in.events.rotated)), at(soakAt(&in.events.dropped)), at(soakAt(&in.events.killed)), in.downFor.Round(time.Millisecond))
	b.WriteString("| case | requests | allowed | 401 | 403 | 429 | upstream errors (restart) | other errors | ambiguous (rollover) | wrong |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	cases := make([]string, 0, len(tl.byCase))
	for c := range tl.byCase {
		cases = append(cases, c)
	}
	slices.Sort(cases)
	var sum [6]int
	var reqs, wrong, down, amb int
	for _, c := range cases {
		n := 0
		var row [6]int
		for i, col := range cols {
			row[i] = tl.byCase[c][col]
			n += row[i]
			sum[i] += row[i]
		}
		reqs += n
		wrong += tl.wrong[c]
		down += tl.downErrs[c]
		amb += tl.ambiguous[c]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d (%d) | %d | %d | %d |\n", c, n, row[0], row[1], row[2], row[3],
			row[4], tl.downErrs[c], row[5], tl.ambiguous[c], tl.wrong[c])
	}
	fmt.Fprintf(&b, "| **total** | %d | %d | %d | %d | %d | %d (%d) | %d | %d | **%d** |\n\n", reqs, sum[0], sum[1], sum[2], sum[3], sum[4], down, sum[5], amb, wrong)
	fmt.Fprintf(&b, "requests by route: /mcp %d, /up %d, /stdio %d\n\n", tl.byRoute["/mcp"], tl.byRoute["/up"], tl.byRoute["/stdio"])
	mib := func(kib int) string { return fmt.Sprintf("%.1f", float64(kib)/1024) }
	b.WriteString("| gateway process | warm-up (20 s) | peak | end (idle) | growth |\n| --- | --- | --- | --- | --- |\n")
	fmt.Fprintf(&b, "| goroutines | %d | %d | %d | %+d |\n", in.warm.goroutines, in.peak.goroutines, in.end.goroutines, in.end.goroutines-in.warm.goroutines)
	fmt.Fprintf(&b, "| open FDs | %d | %d | %d | %+d |\n", in.warm.fds, in.peak.fds, in.end.fds, in.end.fds-in.warm.fds)
	fmt.Fprintf(&b, "| RSS MiB | %s | %s | %s | %+.1f |\n", mib(in.warm.rssKiB), mib(in.peak.rssKiB), mib(in.end.rssKiB), float64(in.end.rssKiB-in.warm.rssKiB)/1024)
	fmt.Fprintf(&b, "| Go heap in use MiB | %s | %s | %s | %+.1f |\n", mib(in.warm.heapKiB), mib(in.peak.heapKiB), mib(in.end.heapKiB), float64(in.end.heapKiB-in.warm.heapKiB)/1024)
	fmt.Fprintf(&b, "| stdio processes | %d | %d | %d | %+d |\n\n", in.warm.children, in.peak.children, in.end.children, in.end.children-in.warm.children)
	fmt.Fprintf(&b, "distinct correctly signed tokens minted: %d (each verified once per token_cache_ttl)\n", in.minted)
	fmt.Fprintf(&b, "audit log: %d lines %v, %d not JSON, %d with a token-like string\n", in.audit.lines, in.audit.byDecision, in.audit.bad, in.audit.tokenLike)
	for _, s := range tl.samples {
		fmt.Fprintf(&b, "WRONG: %s\n", s)
	}
	for _, s := range tl.errors {
		fmt.Fprintf(&b, "error: %s\n", s)
	}
	fmt.Printf("\n%s\nSOAK: %d requests, %d wrong decisions, %d upstream errors during the restart, %d other errors; goroutines %+d, FDs %+d, RSS %+.1f MiB (warm-up to idle end)\n",
		b.String(), reqs, wrong, down, sum[4]+sum[5]-down, in.end.goroutines-in.warm.goroutines, in.end.fds-in.warm.fds, float64(in.end.rssKiB-in.warm.rssKiB)/1024)

	if wrong > 0 {
		t.Errorf("%d wrong decisions (see WRONG lines)", wrong)
	}
	if !in.idle {
		t.Errorf("the gateway did not go idle within %v of the traffic's end; child processes left: %q", soakIdleBound, in.leftovers)
	}
	if g := in.end.goroutines - in.warm.goroutines; g > soakMaxGoroutineGrowth {
		t.Errorf("goroutines grew by %d (bound %d)", g, soakMaxGoroutineGrowth)
	}
	if f := in.end.fds - in.warm.fds; f > soakMaxFDGrowth {
		t.Errorf("open FDs grew by %d (bound %d)", f, soakMaxFDGrowth)
	}
	if in.audit.tokenLike > 0 || in.audit.bad > 0 {
		t.Errorf("audit log: %d lines with a token-like string, %d not JSON", in.audit.tokenLike, in.audit.bad)
	}
	for _, must := range []string{soakSeenNewKey, soakSeenOldKey, soakSeenRestart, soakSeenRate} {
		if tl.seen[must] == 0 {
			t.Errorf("the soak never saw: %s", must)
		}
	}
}
