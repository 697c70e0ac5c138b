//go:build unix

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/devidp"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// mcpRemoteVersion is the mcp-remote pinned in test/node/package.json; the
// README's "Connecting clients" states what this version does on step-up.
const mcpRemoteVersion = "0.15.1"

// headlessBrowser stands in for the user's browser: mcp-remote opens the
// authorization URL with the `open` package, whose xdg-open runs $BROWSER
// when there is no desktop. It follows the redirects (the dev AS
// auto-approves, so the last hop is mcp-remote's loopback callback) and
// appends "<authorization URL>\t<final status>\t<last URL>" to the file in
// argv[3].
// A person needs seconds to log in, so the callback listener is up when the
// IdP redirects to it; the dev AS redirects at once, so while the loopback
// callback refuses connections this browser tries again (bounded), as a
// person reloading the page would.
const headlessBrowser = `import { appendFileSync } from 'node:fs';
const [start, log] = process.argv.slice(2);
const deadline = Date.now() + 30000;
const jar = new Map(); // origin -> Map(name -> value): enough for oidc-provider's interaction
let url = start, status = 'error';
try {
  for (let hop = 0; hop < 20; hop++) {
    const origin = new URL(url).origin;
    const cookies = [...(jar.get(origin) ?? new Map())].map(([k, v]) => k + '=' + v).join('; ');
    let res;
    for (;;) {
      try {
        res = await fetch(url, { redirect: 'manual', headers: cookies ? { cookie: cookies } : {}, signal: AbortSignal.timeout(20000) });
        break;
      } catch (e) {
        const loopbackCallback = new URL(url).hostname === 'localhost';
        if (!loopbackCallback || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    for (const c of res.headers.getSetCookie()) {
      const [kv] = c.split(';');
      const eq = kv.indexOf('=');
      if (!jar.has(origin)) jar.set(origin, new Map());
      jar.get(origin).set(kv.slice(0, eq).trim(), kv.slice(eq + 1).trim());
    }
    status = String(res.status);
    await res.text();
    const next = res.headers.get('location');
    if (res.status < 300 || res.status > 399 || !next) break;
    url = new URL(next, url).toString();
  }
} catch (e) { status = 'error ' + (e.cause?.code ?? e.message); }
appendFileSync(log, [start, status, url].join('\t') + '\n');
`

// mcpRemote is mcp-remote with the go-sdk client on its stdio.
type mcpRemote struct {
	cmd        *exec.Cmd
	session    *mcp.ClientSession // after connect
	stderr     *testkit.SafeBuffer
	browserLog string
	configDir  string // MCP_REMOTE_CONFIG_DIR
}

// startMCPRemote runs the pinned mcp-remote against mcpURL (see
// newMCPRemote) and connects a go-sdk client to its stdio: that initialize
// is what makes mcp-remote register and log in. extra are more mcp-remote
// flags.
func startMCPRemote(t *testing.T, mcpURL string, extra ...string) *mcpRemote {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	m := newMCPRemote(ctx, t, mcpURL, extra...)
	if err := m.connect(ctx); err != nil {
		t.Fatalf("initialize through mcp-remote: %v", err)
	}
	t.Cleanup(m.close)
	return m
}

// newMCPRemote prepares the pinned mcp-remote (on the Node 22 it requires)
// against mcpURL, with its OAuth state in a temporary config directory and
// the headless browser; ctx ends the process.
func newMCPRemote(ctx context.Context, t *testing.T, mcpURL string, extra ...string) *mcpRemote {
	t.Helper()
	dir := testenv.NodeModules(t)
	node22, _ := testenv.ConformanceModules(t)
	proxy := filepath.Join(dir, "node_modules", "mcp-remote", "dist", "proxy.js")
	pj, err := os.ReadFile(filepath.Join(dir, "node_modules", "mcp-remote", "package.json"))
	if err != nil {
		testenv.SkipOrFail(t, "test/node/node_modules lacks mcp-remote: run `"+testenv.NodeInstallCommand+"` from the repository root")
	}
	var meta struct{ Version string }
	if err := json.Unmarshal(pj, &meta); err != nil || meta.Version != mcpRemoteVersion {
		t.Fatalf("mcp-remote %q installed, want %s (run `%s`)", meta.Version, mcpRemoteVersion, testenv.NodeInstallCommand)
	}

	tmp := t.TempDir()
	m := &mcpRemote{stderr: &testkit.SafeBuffer{}, browserLog: filepath.Join(tmp, "browser.log"), configDir: filepath.Join(tmp, "mcp-auth")}
	script := filepath.Join(tmp, "browser.mjs")
	launcher := filepath.Join(tmp, "browser.sh")
	if err := os.WriteFile(script, []byte(headlessBrowser), 0o600); err != nil {
		t.Fatal(err)
	}
	sh := fmt.Sprintf("#!/bin/sh\nexec %q %q \"$1\" %q\n", node22, script, m.browserLog)
	if err := os.WriteFile(launcher, []byte(sh), 0o700); err != nil {
		t.Fatal(err)
	}

	// An explicit callback port: mcp-remote otherwise derives one from the
	// server URL, and parallel runs could meet on it.
	args := append([]string{proxy, mcpURL, fmt.Sprint(testenv.FreePort(t)),
		"--allow-http", "--transport", "http-only", "--auth-timeout", "60"}, extra...)
	m.cmd = exec.CommandContext(ctx, node22, args...)
	m.cmd.Dir = tmp
	var env []string
	for _, kv := range testenv.CleanEnv() {
		// No desktop (xdg-open's detection): xdg-open then runs $BROWSER,
		// never a developer's real browser.
		if k, _, _ := strings.Cut(kv, "="); !desktopVar(k) {
			env = append(env, kv)
		}
	}
	m.cmd.Env = append(env, "BROWSER="+launcher, "HOME="+tmp, "MCP_REMOTE_CONFIG_DIR="+m.configDir)
	m.cmd.Stderr = m.stderr
	m.cmd.WaitDelay = 2 * time.Second
	t.Cleanup(func() {
		for _, line := range strings.Split(strings.TrimRight(m.stderr.String(), "\n"), "\n") {
			t.Logf("[mcp-remote] %s", line)
		}
	})
	return m
}

// desktopVar reports whether k is one of the variables by which xdg-open
// (bundled with the open package) finds a desktop or a browser, or HOME
// (mcp-remote's default config directory).
func desktopVar(k string) bool {
	switch k {
	case "DISPLAY", "WAYLAND_DISPLAY", "BROWSER", "HOME", "DE", "DESKTOP_SESSION", "DBUS_SESSION_BUS_ADDRESS",
		"GNOME_DESKTOP_SESSION_ID", "KDE_FULL_SESSION", "LXQT_SESSION_CONFIG", "MATE_DESKTOP_SESSION_ID":
		return true
	}
	return strings.HasPrefix(k, "XDG_")
}

// connect starts mcp-remote and initializes an MCP session through it.
func (m *mcpRemote) connect(ctx context.Context) error {
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpremote-test", Version: "0.0.0"}, nil)
	session, err := client.Connect(ctx, &mcp.CommandTransport{Command: m.cmd, TerminateDuration: 2 * time.Second}, nil)
	if err != nil {
		return err
	}
	m.session = session
	return nil
}

// close ends the session (mcp-remote exits when its stdin closes).
func (m *mcpRemote) close() {
	if m.session != nil {
		_ = m.session.Close()
	}
}

// registeredScope is the scope member of the registration mcp-remote
// stored (without offline_access): the authorization server's RFC 7591
// response, which echoes the scope mcp-remote asked to register with.
func (m *mcpRemote) registeredScope(t *testing.T) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(m.configDir, "*", "*_client_info.json"))
	if len(files) != 1 {
		t.Fatalf("mcp-remote stored %d client registrations (%q), want 1", len(files), files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var info struct{ Scope string }
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatalf("%s: %v", files[0], err)
	}
	return withoutOfflineAccess(info.Scope)
}

// authorization is one visit of the headless browser.
type authorization struct {
	URL    string // the authorization request mcp-remote opened
	Status string // the HTTP status the redirect chain ended on
	Last   string // the last URL visited: mcp-remote's callback, with code or error
}

// authorizations is every authorization URL the headless browser opened.
func (m *mcpRemote) authorizations(t *testing.T) []authorization {
	t.Helper()
	b, err := os.ReadFile(m.browserLog)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []authorization
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Split(line, "\t"); len(f) == 3 {
			out = append(out, authorization{URL: f[0], Status: f[1], Last: f[2]})
		}
	}
	return out
}

// waitAuthorizations waits until the headless browser has finished at least
// n authorizations (it logs one when its last redirect is answered, which
// can be after mcp-remote has moved on) and returns them all.
func (m *mcpRemote) waitAuthorizations(t *testing.T, n int) []authorization {
	t.Helper()
	var auths []authorization
	testkit.WaitFor(t, 30*time.Second, func() bool {
		auths = m.authorizations(t)
		return len(auths) >= n
	}, fmt.Sprintf("%d authorizations by the headless browser", n))
	return auths
}

// Authorization servers for startStepUp.
const (
	devAS        = "dev"           // internal/devidp: does not limit a client to its registered scope
	oidcProvider = "oidc-provider" // test/node/oidc-provider.mjs: does
)

// stepUpRoute is the built-in route where echo needs mcp:admin and whoami
// only the global mcp:tools.
const stepUpRoute = `{"path":"/mcp","upstream":"builtin","tool_scopes":{"echo":["mcp:admin"]}}`

// adminRoute is the per-route workaround: the same tools on a route that
// requires mcp:admin for every call, so the 401 challenge asks for it.
const adminRoute = `{"path":"/mcp/admin","upstream":"builtin","required_scopes":["mcp:admin"]}`

// startStepUp starts an authorization server with scopes mcp:tools and
// mcp:admin and `mcp-gateway serve` trusting it, requiring mcp:tools on
// every route, with the given routes (JSON objects, paths listed in paths).
// The dev AS is the one `mcp-gateway dev` runs (internal/devidp), served here
// on its own loopback port: `mcp-gateway dev` has one scope and no per-tool
// scopes, so it cannot put a client in front of a step-up.
func startStepUp(t *testing.T, as string, paths []string, routes ...string) *testenv.Gateway {
	t.Helper()
	testenv.NodeModules(t)
	port := testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	var resources []string
	for _, p := range paths {
		resources = append(resources, base+p)
	}
	var issuer string
	switch as {
	case devAS:
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		issuer = "http://" + ln.Addr().String()
		s, err := devidp.New(devidp.Options{
			Issuer: issuer, Resources: resources, Scopes: []string{"mcp:tools", "mcp:admin"},
		})
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
	case oidcProvider:
		issuer = testenv.StartOIDCProvider(t, resources, "mcp:tools", "mcp:admin").Issuer
	default:
		t.Fatalf("unknown authorization server %q", as)
	}
	gw := testenv.StartGatewayServe(t, testenv.ServeConfig{
		Port: port, Issuer: issuer,
		Env: []string{"MCPGW_ROUTES=[" + strings.Join(routes, ",") + "]"},
	})
	return gw
}

// TestMCPRemoteStepUp measures what the pinned mcp-remote does when a call
// needs a scope its token lacks. mcp-remote registers and logs in with the
// scope of the 401 challenge (mcp:tools), and whoami works. echo gets 403
// insufficient_scope naming "mcp:tools mcp:admin", and mcp-remote
// re-authorizes with the same registration; the call fails either way:
//
//   - dev AS: mcp-remote asks for mcp:tools again. It takes a scope to
//     request that equals the route's PRM scopes_supported for its own
//     default and replaces it with the 401 challenge's. The new token lacks
//     mcp:admin, the retry gets 403 again, and the local client gets the
//     JSON-RPC error "Unauthorized".
//   - oidc-provider (its token also grants offline_access, so the scope to
//     request differs from scopes_supported): mcp-remote asks for mcp:admin,
//     but it registered with mcp:tools only, and oidc-provider, which holds a
//     client to its registered scope, answers invalid_scope.
//
// The README's "Connecting clients" says so; when a new mcp-remote steps up,
// this test fails and both must change.
func TestMCPRemoteStepUp(t *testing.T) {
	cases := []struct {
		as           string
		wantStepUp   string // scope of the re-authorizations
		wantErr      string
		wantRefusals int // 403s at the gateway, at least
	}{
		{devAS, "mcp:tools", "Unauthorized", 2},
		{oidcProvider, "mcp:tools mcp:admin", "invalid_scope", 1},
	}
	for _, tc := range cases {
		t.Run(tc.as, func(t *testing.T) {
			gw := startStepUp(t, tc.as, []string{"/mcp"}, stepUpRoute)
			m := startMCPRemote(t, gw.MCPURL)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			if res, err := m.session.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{}}); err != nil || res.IsError {
				t.Fatalf("whoami through mcp-remote: %v %+v", err, res)
			}
			auths := m.waitAuthorizations(t, 1)
			if len(auths) != 1 || scopeOf(t, auths[0].URL) != "mcp:tools" {
				t.Fatalf("first login: authorizations %+v, want one with scope mcp:tools", auths)
			}
			if got := m.registeredScope(t); got != "mcp:tools" {
				t.Errorf("mcp-remote registered with scope %q, want the challenge's mcp:tools", got)
			}

			res, err := m.session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "stepped up"}})
			if err == nil {
				t.Fatalf("echo (needs mcp:admin) through mcp-remote %s succeeded (%+v): it steps up now; "+
					"update this test and the README's \"Connecting clients\"", mcpRemoteVersion, res)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("echo error = %v, want %s", err, tc.wantErr)
			}
			// The audit log (stderr by default) has one line per refusal.
			if n := strings.Count(gw.Output(), `"decision":"deny","reason":"scope"`); n < tc.wantRefusals {
				t.Errorf("the gateway refused %d calls for insufficient scope, want at least %d", n, tc.wantRefusals)
			}
			auths = m.waitAuthorizations(t, 2) // a re-authorization after the 403
			for _, a := range auths[1:] {
				if got := scopeOf(t, a.URL); got != tc.wantStepUp {
					t.Errorf("re-authorization asked for scope %q, want %q", got, tc.wantStepUp)
				}
				if clientOf(t, a.URL) != clientOf(t, auths[0].URL) {
					t.Errorf("re-authorization with another client id: %s", a.URL)
				}
			}
		})
	}
}

// TestMCPRemoteWorkarounds measures the README's workarounds for
// mcp-remote's step-up. Pinning the scope (--static-oauth-client-metadata
// '{"scope":"mcp:tools mcp:admin"}') makes mcp-remote ask for every scope at
// the first login, but it still registers with the 401 challenge's scope:
// the dev AS grants the call, while oidc-provider, which holds a client to
// its registered scope, redirects with invalid_scope and the login never
// completes. A route that requires mcp:admin itself puts it in the 401
// challenge, so mcp-remote registers with and asks for both scopes, and
// works on either authorization server.
func TestMCPRemoteWorkarounds(t *testing.T) {
	pin := []string{"--static-oauth-client-metadata", `{"scope":"mcp:tools mcp:admin"}`}
	cases := []struct {
		name, as, path string
		route          string
		flags          []string
		wantRegistered string
		wantOK         bool
	}{
		{"pinned scope/dev", devAS, "/mcp", stepUpRoute, pin, "mcp:tools", true},
		{"pinned scope/oidc-provider", oidcProvider, "/mcp", stepUpRoute, pin, "mcp:tools", false},
		{"admin route/dev", devAS, "/mcp/admin", adminRoute, nil, "mcp:tools mcp:admin", true},
		{"admin route/oidc-provider", oidcProvider, "/mcp/admin", adminRoute, nil, "mcp:tools mcp:admin", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gw := startStepUp(t, tc.as, []string{tc.path}, tc.route)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			m := newMCPRemote(ctx, t, gw.BaseURL+tc.path, tc.flags...)
			if !tc.wantOK {
				done := make(chan error, 1)
				go func() { done <- m.connect(ctx) }()
				// mcp-remote waits for a code that never comes (until
				// --auth-timeout): the refusal in the browser is the outcome.
				if a := m.waitAuthorizations(t, 1); !strings.Contains(a[0].Last, "error=invalid_scope") {
					t.Errorf("authorization ended at %s, want a redirect with error=invalid_scope", a[0].Last)
				}
				cancel()
				if err := <-done; err == nil {
					m.close()
					t.Fatalf("mcp-remote connected; want the login refused")
				}
				if got := m.registeredScope(t); got != tc.wantRegistered {
					t.Errorf("registered scope %q, want %q", got, tc.wantRegistered)
				}
				return
			}
			if err := m.connect(ctx); err != nil {
				t.Fatalf("initialize through mcp-remote: %v", err)
			}
			defer m.close()
			res, err := m.session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "all scopes"}})
			if err != nil || res.IsError || !strings.Contains(textOf(res), "all scopes") {
				t.Fatalf("echo through mcp-remote: %v %+v", err, res)
			}
			auths := m.waitAuthorizations(t, 1)
			if len(auths) != 1 || scopeOf(t, auths[0].URL) != "mcp:tools mcp:admin" {
				t.Errorf("authorizations %+v, want one with scope \"mcp:tools mcp:admin\"", auths)
			}
			if got := m.registeredScope(t); got != tc.wantRegistered {
				t.Errorf("registered scope %q, want %q", got, tc.wantRegistered)
			}
			if strings.Contains(gw.Output(), `"decision":"deny","reason":"scope"`) {
				t.Errorf("the gateway refused a call for insufficient scope although every scope was asked for")
			}
		})
	}
}

// scopeOf and clientOf read an authorization URL's scope (without
// offline_access, which mcp-remote adds when the authorization server
// advertises it) and client_id.
func scopeOf(t *testing.T, u string) string  { return withoutOfflineAccess(queryParam(t, u, "scope")) }
func clientOf(t *testing.T, u string) string { return queryParam(t, u, "client_id") }

func withoutOfflineAccess(scope string) string {
	return strings.Join(slices.DeleteFunc(strings.Fields(scope), func(s string) bool { return s == "offline_access" }), " ")
}

func queryParam(t *testing.T, raw, name string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("authorization URL %q: %v", raw, err)
	}
	return u.Query().Get(name)
}

// textOf joins a tool result's text content.
func textOf(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
