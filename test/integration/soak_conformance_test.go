//go:build soak && unix

package integration

// The conformance soak (make soak-conformance; not part of make test):
//
//	go test -tags soak -run TestSoakConformance -v ./test/integration/
//
// Environment (all optional):
//
//	SOAK_ITERATIONS  iterations per case (default 200)
//	SOAK_DEADLINE    bound of the whole soak, a Go duration (default 20m)
//	SOAK_LATE        a passing iteration whose scenario took longer counts
//	                 as late (default 10s, half the suite's 20 s timeout here)
//	SOAK_CASES       comma-separated case names (default all)
//	SOAK_PARALLEL    cases at once (default 4)
//	SOAK_BATCH       iterations per Node process (default 50)
//	SOAK_LOG_LEVEL   the gateway's log_level, e.g. debug (default its own)

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// soakCase is one scenario of the suite repeated through one gateway route.
type soakCase struct {
	name     string // "<scenario>@<route>"
	scenario string
	route    string // gateway route path
	spec     string // --spec-version, empty for the suite's default
}

// soakIteration is one line of conformance-repeat.mjs.
type soakIteration struct {
	I          int    `json:"i"`
	MS         int    `json:"ms"`
	ScenarioMS int    `json:"scenarioMs"`
	Exit       int    `json:"exit"`
	Skipped    bool   `json:"skipped"`
	Output     string `json:"output"`
}

// soakTally is what one case counted.
type soakTally struct {
	ran, failed, late int
	durations         []int // the scenarios' own times, ms
	firstFailures     []string
	err               error
}

// TestSoakConformance repeats the conformance scenarios that lost or delayed
// responses through the gateway (ping over the legacy HTTP+SSE bridge,
// tools-call-with-progress, server-sse-polling and resources-unsubscribe over
// Streamable HTTP, stateful and stateless, and tools-call-with-progress over
// stdio) SOAK_ITERATIONS times each through one gateway and one set of
// upstreams, with the same token-injecting proxy as
// TestConformanceThroughGateway. Every iteration is the suite's own CLI run
// for one scenario (test/node/conformance-repeat.mjs re-evaluates it in a
// long-lived Node process, SOAK_BATCH iterations per process); the cases run
// concurrently. A failed iteration is a lost (or wrong) response; a passing
// one slower than SOAK_LATE is late. The test prints both figures per case
// and fails on any.
func TestSoakConformance(t *testing.T) {
	testenv.EverythingModules(t)
	node22, _ := testenv.ConformanceModules(t)
	testenv.BuildGateway(t)
	iterations := soakEnvInt(t, "SOAK_ITERATIONS", 200)
	batch := soakEnvInt(t, "SOAK_BATCH", 50)
	deadline := soakEnvDuration(t, "SOAK_DEADLINE", 20*time.Minute)
	late := soakEnvDuration(t, "SOAK_LATE", 10*time.Second)
	parallel := soakEnvInt(t, "SOAK_PARALLEL", 4)
	began := time.Now()

	upstreams := conformanceUpstreams(t)
	var routes []gatewayRoute
	for _, u := range upstreams {
		routes = append(routes, u.route)
	}
	var genv []string
	if lvl := os.Getenv("SOAK_LOG_LEVEL"); lvl != "" {
		genv = append(genv, "MCPGW_LOG_LEVEL="+lvl)
	}
	front := startConformanceFront(t, routes, genv...)

	cases := []soakCase{
		{scenario: "ping", route: "/mcp/everything-sse"},
		{scenario: "tools-call-with-progress", route: "/mcp/conformance-http"},
		{scenario: "tools-call-with-progress", route: "/mcp/conformance-stateless", spec: req20260728},
		{scenario: "tools-call-with-progress", route: "/mcp/conformance-stdio"},
		{scenario: "server-sse-polling", route: "/mcp/conformance-http"},
		{scenario: "server-sse-polling", route: "/mcp/conformance-stateless"},
		{scenario: "resources-unsubscribe", route: "/mcp/conformance-http"},
	}
	for i := range cases {
		cases[i].name = cases[i].scenario + "@" + strings.TrimPrefix(cases[i].route, "/mcp/")
		if cases[i].spec != "" {
			cases[i].name += "/" + cases[i].spec
		}
	}
	if only := os.Getenv("SOAK_CASES"); only != "" {
		want := strings.Split(only, ",")
		cases = slices.DeleteFunc(cases, func(c soakCase) bool { return !slices.Contains(want, c.name) })
		if len(cases) == 0 {
			t.Fatalf("SOAK_CASES=%s matches no case", only)
		}
	}

	ctx, cancel := context.WithDeadline(context.Background(), began.Add(deadline))
	defer cancel()
	script := filepath.Join(testenv.NodeDir(t), "conformance-repeat.mjs")
	tallies := make([]*soakTally, len(cases))
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for i, c := range cases {
		tally := &soakTally{}
		tallies[i] = tally
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			for tally.ran < iterations && ctx.Err() == nil && tally.err == nil {
				n := min(batch, iterations-tally.ran)
				args := []string{script, "--url", front.URL + c.route, "--scenario", c.scenario,
					"--iterations", strconv.Itoa(n), "--timeout", "20000",
					"--deadline-ms", strconv.FormatInt(time.Until(began.Add(deadline)).Milliseconds()-25_000, 10)}
				if c.spec != "" {
					args = append(args, "--spec-version", c.spec)
				}
				cmd := exec.CommandContext(ctx, node22, args...)
				cmd.Dir = testenv.NodeDir(t)
				cmd.Env = testenv.CleanEnv()
				cmd.WaitDelay = 2 * time.Second
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				got := 0
				sc := bufio.NewScanner(bytes.NewReader(out))
				sc.Buffer(make([]byte, 1<<20), 16<<20)
				for sc.Scan() {
					var it soakIteration
					if json.Unmarshal(sc.Bytes(), &it) != nil {
						continue
					}
					got++
					if it.Skipped {
						tally.err = fmt.Errorf("the suite skipped the scenario: %s", it.Output)
						break
					}
					tally.ran++
					tally.durations = append(tally.durations, it.ScenarioMS)
					switch {
					case it.Exit != 0:
						tally.failed++
						if len(tally.firstFailures) < 3 {
							tally.firstFailures = append(tally.firstFailures, fmt.Sprintf("iteration %d after %d ms: %s",
								tally.ran, it.MS, soakDigest(it.Output)))
						}
					case time.Duration(it.ScenarioMS)*time.Millisecond > late:
						tally.late++
					}
				}
				if err != nil && ctx.Err() == nil {
					tally.err = fmt.Errorf("conformance-repeat.mjs: %v\n%s", err, stderr.Bytes())
				}
				if got == 0 && tally.err == nil {
					return // deadline reached before an iteration could start
				}
			}
		}()
	}
	wg.Wait()

	var total, lost, slow int
	report := []string{"| case | iterations | lost or failed | late (> " + late.String() + ") | scenario median ms | p99 ms | max ms |", "| --- | --- | --- | --- | --- | --- | --- |"}
	for i, c := range cases {
		tl := tallies[i]
		total += tl.ran
		lost += tl.failed
		slow += tl.late
		med, p99, mx := soakPercentiles(tl.durations)
		report = append(report, fmt.Sprintf("| %s | %d | %d | %d | %d | %d | %d |", c.name, tl.ran, tl.failed, tl.late, med, p99, mx))
		if tl.err != nil {
			t.Errorf("%s: %v", c.name, tl.err)
		}
		if tl.ran < iterations {
			t.Errorf("%s: %d of %d iterations ran within SOAK_DEADLINE=%v", c.name, tl.ran, iterations, deadline)
		}
		for _, f := range tl.firstFailures {
			t.Errorf("%s: %s", c.name, f)
		}
	}
	// Printed, not logged, so that make soak-conformance shows the figures
	// without -v (whose log would hold every peer's output).
	fmt.Printf("conformance soak through the gateway, %v:\n%s\n", time.Since(began).Round(time.Second), strings.Join(report, "\n"))
	fmt.Printf("SOAK: %d iterations, %d lost or failed, %d late\n", total, lost, slow)
	if lost > 0 || slow > 0 {
		t.Errorf("%d of %d iterations lost or failed, %d late", lost, total, slow)
	}
}

// soakDigest keeps the lines of a failed iteration's output that say why.
func soakDigest(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && (strings.Contains(l, "✗") || strings.Contains(strings.ToLower(l), "error") ||
			strings.Contains(l, "timeout") || strings.Contains(l, "Failed")) {
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		return out
	}
	return strings.Join(keep, " | ")
}

// soakPercentiles returns the median, 99th percentile and maximum of ms.
func soakPercentiles(ms []int) (med, p99, mx int) {
	if len(ms) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(ms)
	sort.Ints(s)
	return s[len(s)/2], s[(len(s)*99)/100], s[len(s)-1]
}

func soakEnvInt(t *testing.T, key string, def int) int {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q is not a positive integer", key, v)
	}
	return n
}

func soakEnvDuration(t *testing.T, key string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q is not a positive duration", key, v)
	}
	return d
}
