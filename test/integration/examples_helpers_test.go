//go:build unix

package integration

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// Example client packages the tests build.
const (
	autoClientPackage   = "./examples/auto-client"
	staticClientPackage = "./examples/static-client"
)

// exampleTimeout bounds one example run (authorization, tools, refresh).
const exampleTimeout = 30 * time.Second

// exampleRun is a running example client that printed its authorization URL.
type exampleRun struct {
	*testenv.Process
	// AuthURL is what followed "open: " on stderr.
	AuthURL string
}

// startExample builds pkg and runs it with args (plus --no-browser and a
// --timeout), waiting until it prints "open: <url>" on stderr.
func startExample(t *testing.T, pkg string, env []string, args ...string) *exampleRun {
	t.Helper()
	bin := testenv.Build(t, pkg)
	args = append(args, "--no-browser", "--timeout", exampleTimeout.String())
	p := testenv.Start(t, testenv.ProcessSpec{
		Name:    filepath.Base(pkg),
		Path:    bin,
		Args:    args,
		Env:     env,
		Ready:   func(line string) bool { return strings.HasPrefix(line, "open: ") },
		Timeout: exampleTimeout,
	})
	return &exampleRun{Process: p, AuthURL: strings.TrimSpace(strings.TrimPrefix(p.ReadyLine, "open: "))}
}

// browse plays the user's browser: it GETs the authorization URL and
// follows redirects, keeping cookies, until the authorization server sends
// it to the client's loopback redirect URI, and returns the last response
// (the client's page) with its URL. The dev AS approves at once;
// oidc-provider.mjs completes login and consent at /interaction/<uid>.
func browse(t *testing.T, authURL string) (*http.Response, string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{
		Jar:     jar,
		Timeout: testkit.DefaultTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 20 {
				return fmt.Errorf("more than 20 redirects")
			}
			return nil
		},
	}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatalf("following the authorization URL: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	final := resp.Request.URL
	t.Logf("browser landed on %s://%s%s -> %s", final.Scheme, final.Host, final.Path, resp.Status)
	if (final.Hostname() != "127.0.0.1" && final.Hostname() != "localhost") || final.Path != "/callback" {
		t.Fatalf("the browser ended at %s (%s), not on the client's loopback redirect\n%s", final.Redacted(), resp.Status, body)
	}
	return resp, string(body)
}

// waitSuccess waits for the example to exit and fails the test unless it
// exited 0.
func (r *exampleRun) waitSuccess(t *testing.T) {
	t.Helper()
	err := r.wait(t)
	if err != nil {
		t.Fatalf("%s exited with %v\n%s", r.Name, err, r.Output())
	}
}

// wait waits for the example to exit and returns its Wait error.
func (r *exampleRun) wait(t *testing.T) error {
	t.Helper()
	testkit.WaitFor(t, exampleTimeout, func() bool { done, _ := r.Exited(); return done }, r.Name+" to exit")
	_, err := r.Exited()
	return err
}

// toolResult decodes the example's stdout: one CallToolResult as JSON.
func (r *exampleRun) toolResult(t *testing.T) *callToolResult {
	t.Helper()
	var res callToolResult
	if err := json.Unmarshal([]byte(r.Stdout()), &res); err != nil {
		t.Fatalf("%s stdout is not a tool result: %v\n%s", r.Name, err, r.Output())
	}
	if res.IsError {
		t.Fatalf("%s: tool result isError\n%s", r.Name, r.Stdout())
	}
	return &res
}

// whoamiResult reads the built-in whoami tool's result from the example's stdout.
func (r *exampleRun) whoamiResult(t *testing.T) whoami {
	t.Helper()
	return whoamiOf(t, clientOutput{Result: r.toolResult(t)})
}

// requireStderr fails the test unless the example's stderr contains each of want.
func (r *exampleRun) requireStderr(t *testing.T, want ...string) {
	t.Helper()
	stderr := r.Stderr()
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("%s stderr lacks %q", r.Name, w)
		}
	}
}

// cimdHost is a loopback https server serving one client ID metadata document.
type cimdHost struct {
	// URL is the document's URL, also its client_id.
	URL string
	// CAFile holds the server's certificate (PEM), to trust it.
	CAFile string
	hits   atomic.Int64
}

// startCIMDHost serves a document shaped like Claude Code's published one
// (portless loopback redirect URIs, public client) from an
// httptest.NewTLSServer, and writes its certificate to a file.
func startCIMDHost(t *testing.T) *cimdHost {
	t.Helper()
	h := &cimdHost{}
	const path = "/oauth/mcp-client-metadata.json"
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		h.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"client_id":                  "https://" + r.Host + path, // = h.URL
			"client_name":                "Claude Code (test double)",
			"client_uri":                 "https://claude.ai",
			"redirect_uris":              []string{"http://localhost/callback", "http://127.0.0.1/callback"},
			"grant_types":                []string{"authorization_code", "refresh_token"},
			"response_types":             []string{"code"},
			"token_endpoint_auth_method": "none",
		})
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL + path
	h.CAFile = filepath.Join(t.TempDir(), "cimd-ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(h.CAFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return h
}

// devCIMDFlags are the dev command's flags that let its AS fetch client ID
// metadata documents from a loopback https host with a test CA.
var devCIMDFlags = []string{"--insecure-cimd-allow-loopback", "--insecure-cimd-root-ca"}

// startGatewayDevCIMD starts `mcp-gateway dev` with CIMD allowed from a
// loopback host whose certificate is in caFile. If this build's dev command
// lacks the flags, the test is skipped locally and fails under CI.
func startGatewayDevCIMD(t *testing.T, caFile string) *testenv.Gateway {
	t.Helper()
	bin := testenv.BuildGateway(t)
	help, _ := exec.Command(bin, "dev", "--help").CombinedOutput()
	for _, f := range devCIMDFlags {
		if !strings.Contains(string(help), f) {
			testenv.SkipOrFail(t, "mcp-gateway dev has no "+f+" flag yet")
		}
	}
	gw, idp := testenv.FreePort(t), testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", gw)
	idpURL := fmt.Sprintf("http://127.0.0.1:%d", idp)
	p := testenv.Start(t, testenv.ProcessSpec{
		Name: "mcp-gateway-dev-cimd",
		Path: bin,
		Args: []string{"dev",
			"--listen", fmt.Sprintf("127.0.0.1:%d", gw),
			"--idp-listen", fmt.Sprintf("127.0.0.1:%d", idp),
			"--exchange-demo-listen", "127.0.0.1:0",
			devCIMDFlags[0], devCIMDFlags[1], caFile},
		ReadyURL: base + "/readyz",
	})
	testenv.WaitURL(t, idpURL+"/.well-known/oauth-authorization-server", 10*time.Second)
	return &testenv.Gateway{Process: p, BaseURL: base, MCPURL: base + "/mcp", IdPURL: idpURL}
}
