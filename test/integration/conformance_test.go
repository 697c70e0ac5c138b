//go:build unix

package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// expectedFailuresFile lists conformance scenarios allowed to fail through the
// gateway although they pass against the upstream directly (the suite's own
// --expected-failures format: a "server:" list of scenario names).
const expectedFailuresFile = "test/conformance/expected-failures.yml"

// conformanceTimeout bounds one run of the suite: a requirement set takes
// about 10 s alone and 30 s on a busy machine; a lost response costs
// conformanceScenarioTimeout. Three waves of conformanceParallel runs stay
// within the package's 10-minute bound even if every run hits it.
const conformanceTimeout = 3 * time.Minute

// conformanceScenarioTimeout is the suite's per-scenario timeout (--timeout;
// its default is 30 s). Scenarios take well under 2 s; a scenario that
// times out failed (the suite reports it so), whatever the reason.
const conformanceScenarioTimeout = "15000"

// conformanceParallel is how many runs of the suite go at once. The suite
// mostly waits on the servers; 4 at once on 2 cores roughly halves the wall
// time of running them one by one without slowing any scenario near a
// timeout.
const conformanceParallel = 4

// Requirement sets of the suite (--requirements): exactly the scenarios a
// spec revision requires, at that revision's wire. "active" is the suite's
// default selection (no --requirements).
const (
	req20251125 = "2025-11-25"
	req20260728 = "2026-07-28"
	suiteActive = "active"
)

// conformanceArgs are the CLI arguments that select a set.
func conformanceArgs(set string) []string {
	args := []string{"--timeout", conformanceScenarioTimeout}
	if set == suiteActive {
		return args
	}
	return append(args, "--requirements", set)
}

// conformanceUpstream is one gateway route under the suite and the upstream
// URL its direct baseline runs against.
type conformanceUpstream struct {
	name   string
	route  gatewayRoute
	direct string
	sets   []string
}

// conformanceUpstreams starts the upstreams the suite checks: the Go SDK's
// conformance server stateful (sessions) and stateless over Streamable HTTP
// (both requirement sets each), the same server over stdio (2025-11-25;
// baseline: the stateful HTTP instance), and server-everything over
// Streamable HTTP and legacy HTTP+SSE (the suite's active selection;
// baseline: the Streamable HTTP instance).
func conformanceUpstreams(t *testing.T) []conformanceUpstream {
	t.Helper()
	confStateful := testenv.StartConformanceServer(t, false)
	confStateless := testenv.StartConformanceServer(t, true)
	confStdio := testenv.BuildConformanceServer(t)
	everything := testenv.StartEverything(t, testenv.EverythingStreamableHTTP)
	everythingSSE := testenv.StartEverything(t, testenv.EverythingSSE)
	both := []string{req20251125, req20260728}
	return []conformanceUpstream{
		{name: "go-sdk stateful", direct: confStateful, sets: both,
			route: gatewayRoute{Path: "/mcp/conformance-http", Upstream: confStateful}},
		{name: "go-sdk stateless", direct: confStateless, sets: both,
			route: gatewayRoute{Path: "/mcp/conformance-stateless", Upstream: confStateless}},
		{name: "go-sdk stdio", direct: confStateful, sets: []string{req20251125},
			// 2025-11-25 only: a stdio route serves the session generation
			// and answers a sessionless 2026-07-28 request with 400 and
			// -32022 listing the versions it supports, by design, so every
			// 2026-07-28 scenario would only measure that refusal.
			// The suite opens a session per scenario and never DELETEs it;
			// each stdio session is a process until its idle timeout, so
			// the default cap of 16 would turn later scenarios into 503s.
			route: gatewayRoute{Path: "/mcp/conformance-stdio", Upstream: confStdio, MaxProcesses: 128}},
		{name: "server-everything HTTP", direct: everything, sets: []string{suiteActive},
			route: gatewayRoute{Path: "/mcp/everything", Upstream: everything}},
		{name: "server-everything SSE", direct: everything, sets: []string{suiteActive},
			// An open bridge session holds an upstream SSE connection and
			// one of the caller's stream slots; the suite leaves a session
			// open per scenario, so the default cap of 16 would refuse later
			// scenarios with 429.
			route: gatewayRoute{Path: "/mcp/everything-sse", Upstream: everythingSSE, Transport: "sse", MaxStreams: 128}},
	}
}

// conformanceFront is `mcp-gateway serve` with routes, behind a local
// reverse proxy that adds each route's bearer token: the suite has no option
// to send an Authorization header.
type conformanceFront struct {
	env *upstreamEnv
	// URL is the proxy's base URL: URL + route path is what the suite gets.
	URL string
}

// startConformanceFront starts oidc-provider, the gateway with routes, and
// the token-injecting proxy. The proxy forwards everything else unchanged,
// responses unbuffered, Host and Origin included, so that the suite's DNS
// rebinding scenario still reaches the gateway's Origin check; its own
// origin is in the gateway's allowed_origins, as a deployment's own origin
// would be.
func startConformanceFront(t *testing.T, routes []gatewayRoute, env ...string) *conformanceFront {
	t.Helper()
	// The proxy's address must be known before the gateway starts (it is an
	// allowed origin); it serves only once the tokens are in place.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	proxyURL := "http://" + ln.Addr().String()
	// The suite drives every scenario as one user from one address, faster
	// than a person would: the per-user and per-IP rate limits are a
	// deployment's choice, not part of what conformance checks.
	genv := startUpstreamGateway(t, routes, append([]string{"MCPGW_ALLOWED_ORIGINS=" + proxyURL,
		"MCPGW_RATE_LIMIT_PER_PRINCIPAL=-1", "MCPGW_RATE_LIMIT_PER_IP=-1"}, env...))
	tokens := map[string]string{} // route path -> bearer token
	for _, r := range routes {
		tok, err := getScopedToken(t, genv.op.Issuer, genv.resource(r.Path), "mcp:tools", "")
		if err != nil {
			t.Fatal(err)
		}
		tokens[r.Path] = tok
	}
	target, err := url.Parse(genv.gateway.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64 // several suite runs at once
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // keep Host as sent (DNS rebinding scenario)
			if tok := tokenFor(tokens, r.In.URL.Path); tok != "" {
				r.Out.Header.Set("Authorization", "Bearer "+tok)
			}
		},
		Transport:     transport,
		FlushInterval: -1, // stream SSE event by event
	}
	// The proxy reads each request body whole before forwarding it (same
	// bytes, same framing). Handing the server's live request body to the
	// Transport loses responses: once the gateway answers, ReverseProxy
	// writes the response header, on which net/http's server drains and
	// closes the inbound request body; when the Transport's write loop has
	// not yet made its last read of that body (it reads once more after
	// Content-Length bytes, to check for excess), that read fails with
	// "http: invalid Read on closed Body", the Transport closes its
	// connection to the gateway in the middle of the response, and
	// ReverseProxy aborts the client's connection (golang/go#40747). The
	// gateway then sees its client go away a few milliseconds after the
	// POST, and the suite waits out its timeout or reads a cut stream: the
	// intermittent losses of ping on the SSE bridge, tools-call-with-progress
	// and server-sse-polling (make soak-conformance repeats them).
	proxy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, "front proxy: reading the request body: "+err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rp.ServeHTTP(w, r)
	}))
	_ = proxy.Listener.Close()
	proxy.Listener = ln
	proxy.Start()
	t.Cleanup(proxy.Close)
	return &conformanceFront{env: genv, URL: proxyURL}
}

// conformanceOutcome is one run of the suite: its results or why it has none.
type conformanceOutcome struct {
	results map[string]testenv.ConformanceResult
	err     error
	took    time.Duration
}

// TestConformanceThroughGateway runs the MCP conformance suite
// (@modelcontextprotocol/conformance) against real upstreams, directly and
// through `mcp-gateway serve` with OAuth (see startConformanceFront): the
// 2025-11-25 and 2026-07-28 requirement sets against the Go SDK's
// conformance server (its scenarios call that server's tools,
// test_simple_text and so on), stateful and stateless over Streamable
// HTTP; 2025-11-25 against the same server over stdio; and the suite's
// active selection against server-everything over Streamable HTTP and the
// legacy 2024-11-05 HTTP+SSE transport (the suite speaks Streamable HTTP
// only, so the legacy route's baseline is the same server over Streamable
// HTTP; server-everything lacks the suite's tools, so many scenarios fail
// directly too: these runs still prove the gateway adds no failure). The
// runs go conformanceParallel at once; the whole test takes about a minute.
//
// It requires, per upstream and set, that every scenario failing through the
// gateway also fails directly or is listed, with a comment, in
// test/conformance/expected-failures.yml, and that every listed scenario
// explains at least one such failure (else the entry is stale). Each run
// counts once: a failure is not retried.
func TestConformanceThroughGateway(t *testing.T) {
	testenv.EverythingModules(t)
	testenv.ConformanceModules(t)
	testenv.BuildGateway(t)
	expected := readExpectedFailures(t, filepath.Join(testenv.Root(t), expectedFailuresFile))
	began := time.Now()

	upstreams := conformanceUpstreams(t)
	var routes []gatewayRoute
	for _, u := range upstreams {
		routes = append(routes, u.route)
	}
	front := startConformanceFront(t, routes)

	// Every run, direct baselines once per (upstream URL, set),
	// conformanceParallel at once.
	type job struct{ url, set string }
	var jobs []job
	seen := map[job]bool{}
	add := func(j job) {
		if !seen[j] {
			seen[j] = true
			jobs = append(jobs, j)
		}
	}
	for _, u := range upstreams {
		for _, set := range u.sets {
			add(job{u.direct, set})
			add(job{front.URL + u.route.Path, set})
		}
	}
	outcomes := make(map[job]*conformanceOutcome, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, conformanceParallel)
	for _, j := range jobs {
		o := &conformanceOutcome{}
		outcomes[j] = o
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			o.results, o.err = testenv.RunConformance(t, j.url, t.TempDir(), conformanceTimeout, conformanceArgs(j.set)...)
			o.took = time.Since(start)
		}()
	}
	wg.Wait()
	t.Logf("%d conformance runs, %d at once, done %v after the test began", len(jobs), conformanceParallel,
		time.Since(began).Round(time.Second))

	used := map[string]bool{} // expected entries that explained a failure
	var table []string
	for _, u := range upstreams {
		for _, set := range u.sets {
			base, via := outcomes[job{u.direct, set}], outcomes[job{front.URL + u.route.Path, set}]
			t.Run(u.name+"/"+set, func(t *testing.T) {
				if base.err != nil {
					t.Fatalf("direct run: %v", base.err)
				}
				if via.err != nil {
					t.Fatalf("run through the gateway: %v", via.err)
				}
				t.Logf("direct %v, through the gateway %v", base.took.Round(time.Second), via.took.Round(time.Second))
				var gatewayOnly []string
				for _, name := range slices.Sorted(maps.Keys(via.results)) {
					r := via.results[name]
					d, ran := base.results[name]
					switch {
					case r.Failed == 0:
						t.Logf("pass     %s", name)
					case ran && d.Failed > 0:
						t.Logf("fail     %s (fails directly too: %q)", name, d.Failures)
					case expected[name] != "":
						used[name] = true
						gatewayOnly = append(gatewayOnly, name+" (expected)")
						t.Logf("expected %s: %q (%s)", name, r.Failures, expected[name])
					default:
						gatewayOnly = append(gatewayOnly, name)
						t.Errorf("scenario %s fails through the gateway but not directly, and is not in %s: %q",
							name, expectedFailuresFile, r.Failures)
					}
				}
				for name := range base.results {
					if _, ok := via.results[name]; !ok {
						t.Errorf("scenario %s ran directly but not through the gateway", name)
					}
				}
				table = append(table, fmt.Sprintf("| %s | %s | %s | %s | %s |", u.name, set,
					scoreOf(base.results), scoreOf(via.results), strings.Join(gatewayOnly, ", ")))
			})
		}
	}
	t.Logf("conformance, passed/total scored scenarios (+ unscored ones that fail):\n"+
		"| upstream | set | direct | through the gateway | fails only through the gateway |\n"+
		"| --- | --- | --- | --- | --- |\n%s", strings.Join(table, "\n"))
	if !t.Failed() {
		for name := range expected {
			if !used[name] {
				t.Errorf("%s lists %s, which fails through the gateway nowhere that it passes directly: remove the entry", expectedFailuresFile, name)
			}
		}
	}
	t.Logf("TestConformanceThroughGateway wall time: %v", time.Since(began).Round(time.Second))
}

// scoreOf summarizes a run: "36/37" scored scenarios passed, plus the
// unscored ones that failed ("+ 9 unscored failing").
func scoreOf(results map[string]testenv.ConformanceResult) string {
	var pass, total, unscoredFail int
	for _, r := range results {
		switch {
		case r.Scored:
			total++
			if r.Failed == 0 {
				pass++
			}
		case r.Failed > 0:
			unscoredFail++
		}
	}
	s := fmt.Sprintf("%d/%d", pass, total)
	if unscoredFail > 0 {
		s += fmt.Sprintf(" (+%d unscored failing)", unscoredFail)
	}
	return s
}

// tokenFor returns the token of the route whose path is p or a prefix of p.
func tokenFor(tokens map[string]string, p string) string {
	for path, tok := range tokens {
		if p == path || strings.HasPrefix(p, path+"/") {
			return tok
		}
	}
	return ""
}

// readExpectedFailures parses the "server:" list of an expected-failures file
// and returns scenario -> its explanation. Every entry must carry a comment:
// on its line ("- name  # why") or on the line just above it.
func readExpectedFailures(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	section, lastComment := "", ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			lastComment = ""
		case strings.HasPrefix(line, "#"):
			lastComment = strings.TrimSpace(strings.TrimPrefix(line, "#"))
		case !strings.HasPrefix(line, "-"):
			key, rest, _ := strings.Cut(line, ":")
			if v := strings.TrimSpace(rest); v != "" && v != "[]" && !strings.HasPrefix(v, "#") {
				t.Fatalf("%s:%d: %q: write the list one entry per line", path, n, line)
			}
			section, lastComment = key, ""
		default:
			name, comment, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "-")), "#")
			name, comment = strings.TrimSpace(name), strings.TrimSpace(comment)
			if comment == "" {
				comment = lastComment
			}
			if comment == "" {
				t.Errorf("%s:%d: entry %q has no comment explaining it", path, n, name)
			}
			if section == "server" {
				out[name] = comment
			}
			lastComment = ""
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExpectedFailuresFileFormat checks the parser on the rules the file must
// follow, so that a badly written entry cannot slip through unexplained.
func TestExpectedFailuresFileFormat(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    map[string]string
	}{
		{name: "empty list", content: "# header\nserver: []\n", want: map[string]string{}},
		{name: "comment above", content: "server:\n  # upstream X lacks Y\n  - tools-call-image\n",
			want: map[string]string{"tools-call-image": "upstream X lacks Y"}},
		{name: "inline comment", content: "server:\n  - ping  # because\nclient:\n  # n/a\n  - initialize\n",
			want: map[string]string{"ping": "because"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f.yml")
			if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := readExpectedFailures(t, p); !maps.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// The checked-in file itself parses, and every entry is explained.
	readExpectedFailures(t, filepath.Join(testenv.Root(t), expectedFailuresFile))
}
