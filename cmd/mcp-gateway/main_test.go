package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	cmd := rootCmd()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"version"})
	if err := cmd.Execute(); err != nil || !strings.HasPrefix(out.String(), "mcp-gateway ") {
		t.Fatalf("version: %q %v", out.String(), err)
	}
}

func TestLoopbackListen(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.1.2.3:0", "example.com:0", "[::]:0"} {
		if ln, err := loopbackListen("listen", addr); err == nil {
			ln.Close()
			t.Errorf("%s: bound, want refusal", addr)
		} else if !strings.Contains(err.Error(), "loopback") && !strings.Contains(err.Error(), "missing port") {
			t.Errorf("%s: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		ln, err := loopbackListen("listen", addr)
		if err != nil {
			t.Errorf("%s: %v", addr, err)
			continue
		}
		ln.Close()
	}
}

func TestServeReportsEveryProblemAtOnce(t *testing.T) {
	t.Chdir(t.TempDir()) // no stray .env
	t.Setenv("MCPGW_PROVIDER", "bogus")
	t.Setenv("MCPGW_ISSUER", "")
	t.Setenv("MCPGW_PUBLIC_URL", "")
	cmd := rootCmd()
	cmd.SetArgs([]string{"serve"})
	err := cmd.Execute()
	for _, key := range []string{"issuer:", "public_url:", "provider:"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}

// TestDevBannerCurlLineWorks runs dev mode and executes the banner's
// ready-made request: the printed token must call whoami successfully.
func TestDevBannerCurlLineWorks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &testkit.SafeBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runDev(ctx, out, devOptions{listen: "127.0.0.1:0", idpListen: "127.0.0.1:0", demoListen: "127.0.0.1:0", logLevel: "error"})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev returned %v", err)
		}
	})
	// The banner is one write, so once its curl line shows, all of it has.
	banner := testkit.WaitContains(t, out, "curl -s http", testkit.DefaultTimeout)
	token := regexp.MustCompile(`TOKEN=(\S+)`).FindStringSubmatch(banner)
	curl := regexp.MustCompile(`curl -s (http://\S+/mcp) (.*) -d '(.*)'`).FindStringSubmatch(banner)
	if token == nil || curl == nil {
		t.Fatalf("banner lacks a token or curl line:\n%s", banner)
	}
	req, _ := http.NewRequest(http.MethodPost, curl[1], strings.NewReader(curl[3]))
	for _, h := range regexp.MustCompile(`-H ["']([^:]+): ([^"']+)["']`).FindAllStringSubmatch(curl[2], -1) {
		req.Header.Set(h[1], strings.ReplaceAll(h[2], "$TOKEN", token[1]))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `\"subject\":\"dev-user\"`) {
		t.Fatalf("banner request: %d %s", resp.StatusCode, body)
	}
	if _, err := loopbackListen("listen", "0.0.0.0:8080"); err == nil {
		t.Fatal("dev must refuse a non-loopback bind")
	}
}

// TestDevFrontsAnUpstreamRoute: `dev --route PATH=URL` fronts an MCP server
// as its own resource; the dev authorization server issues tokens for it and
// a token for /mcp is refused there (audience).
func TestDevFrontsAnUpstreamRoute(t *testing.T) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "up", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "ping_up"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, struct{}, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "pong"}}}, struct{}{}, nil
	})
	up := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	defer up.Close()
	routes, err := parseDevRoutes([]string{"/mcp/up=" + up.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseDevRoutes([]string{"/mcp/up"}); err == nil {
		t.Fatal("a --route without = was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &testkit.SafeBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runDev(ctx, out, devOptions{listen: "127.0.0.1:0", idpListen: "127.0.0.1:0", demoListen: "127.0.0.1:0", logLevel: "error", routes: routes})
	}()
	defer func() { cancel(); <-done }()
	// The route lines follow the banner, so once one shows, the banner has.
	banner := testkit.WaitContains(t, out, "Upstream route", testkit.DefaultTimeout)
	m := regexp.MustCompile(`curl -s -u '([^:]+):([^']+)' -d grant_type=client_credentials -d resource=(\S+)/mcp (\S+)/token`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner lacks the client-credentials line:\n%s", banner)
	}
	id, secret, public, issuer := m[1], m[2], m[3], m[4]
	tokenFor := func(resource string) string {
		req, _ := http.NewRequest(http.MethodPost, issuer+"/token", strings.NewReader(url.Values{
			"grant_type": {"client_credentials"}, "resource": {resource}}.Encode()))
		req.SetBasicAuth(id, secret)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
			t.Fatalf("token for %s: %s %v", resource, resp.Status, err)
		}
		return tok.AccessToken
	}
	call := func(token string) error {
		c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
		cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: public + "/mcp/up",
			HTTPClient: &http.Client{Transport: tokenTransport{token: token, base: http.DefaultTransport}}}, nil)
		if err != nil {
			return err
		}
		defer cs.Close()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "ping_up"})
		if err == nil && res.Content[0].(*mcp.TextContent).Text != "pong" {
			err = fmt.Errorf("unexpected result %+v", res)
		}
		return err
	}
	if err := call(tokenFor(public + "/mcp/up")); err != nil {
		t.Fatalf("through the upstream route: %v", err)
	}
	if err := call(tokenFor(public + "/mcp")); err == nil {
		t.Fatal("a token for /mcp was accepted on /mcp/up")
	}
}
