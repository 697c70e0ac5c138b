//go:build unix

// Package integration runs mcp-gateway against real peers: the oidc-provider
// authorization server and the MCP TypeScript SDK client (test/node), and the
// gateway's own `dev` command. Node prerequisites are installed with
// `npm ci --prefix test/node`; without them these tests skip locally and fail
// under CI=true.
package integration

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.CleanupBuilds()
	os.Exit(code)
}

// httpClient never follows redirects: tests look at what the gateway answers.
var httpClient = &http.Client{
	Timeout:       testkit.DefaultTimeout, // a bound on a hang, not an expected duration
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// initializeBody is a minimal MCP initialize request.
const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{` +
	`"protocolVersion":"2025-06-18","capabilities":{},` +
	`"clientInfo":{"name":"mcp-gateway-integration-go","version":"0.0.0"}}}`

// postMCP POSTs an MCP initialize to url, with a bearer token when token is
// not empty, and returns the response with its body read.
func postMCP(t *testing.T, url, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(initializeBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	t.Logf("POST %s -> %s; WWW-Authenticate: %q", url, resp.Status, resp.Header.Values("WWW-Authenticate"))
	return resp, string(body)
}

// getJSON GETs url and decodes a 200 JSON answer into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: decode: %v\n%s", url, err, body)
	}
}

// callToolResult is the part of an MCP CallToolResult the tests read.
type callToolResult struct {
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent"`
	IsError           bool            `json:"isError"`
}

// clientOutput is the JSON line mcp-oauth-client.mjs prints.
type clientOutput struct {
	Tool        string          `json:"tool"`
	Result      *callToolResult `json:"result"`
	Tools       []string        `json:"tools"`
	TokenClaims map[string]any  `json:"token_claims"`
}

// whoami is the built-in whoami tool's structured result.
type whoami struct {
	Subject   string   `json:"subject"`
	ClientID  string   `json:"client_id"`
	Username  string   `json:"username"`
	Scopes    []string `json:"scopes"`
	Issuer    string   `json:"issuer"`
	Audience  []string `json:"audience"`
	ExpiresAt any      `json:"expires_at"`
}

// runClient runs test/node/mcp-oauth-client.mjs and decodes its output line.
func runClient(t *testing.T, args ...string) clientOutput {
	t.Helper()
	out, err := testenv.RunNode(t, "mcp-oauth-client.mjs", args...)
	if err != nil {
		t.Fatalf("mcp-oauth-client.mjs %s: %v", strings.Join(args, " "), err)
	}
	line := lastLine(out)
	var co clientOutput
	if err := json.Unmarshal([]byte(line), &co); err != nil {
		t.Fatalf("mcp-oauth-client.mjs output is not JSON: %v\n%s", err, out)
	}
	t.Logf("mcp-oauth-client.mjs: %s", line)
	return co
}

// whoamiOf extracts whoami from a tool result: structuredContent, else the
// first text content.
func whoamiOf(t *testing.T, co clientOutput) whoami {
	t.Helper()
	if co.Result == nil {
		t.Fatal("client output has no tool result")
	}
	raw := []byte(co.Result.StructuredContent)
	if len(raw) == 0 || string(raw) == "null" {
		t.Log("whoami result has no structuredContent; reading its text content")
		if len(co.Result.Content) == 0 {
			t.Fatal("whoami result has neither structuredContent nor content")
		}
		raw = []byte(co.Result.Content[0].Text)
	}
	var w whoami
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatalf("whoami result: %v\n%s", err, raw)
	}
	return w
}

// getToken runs test/node/get-token.mjs and returns the access token.
func getToken(t *testing.T, issuer, resource, loginHint string) (string, error) {
	t.Helper()
	args := []string{"--issuer", issuer, "--resource", resource}
	if loginHint != "" {
		args = append(args, "--login-hint", loginHint)
	}
	out, err := testenv.RunNode(t, "get-token.mjs", args...)
	return lastLine(out), err
}

// jwtClaims decodes a JWT's payload without verifying it (for assertions on
// what the authorization server minted).
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT (%d parts)", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	var claims map[string]any
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&claims); err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return claims
}

// audiences returns the aud claim as a list (it may be a string or an array).
func audiences(claims map[string]any) []string {
	switch v := claims["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, a := range v {
			out = append(out, fmt.Sprint(a))
		}
		return out
	}
	return nil
}

// checkWhoami asserts the identity the gateway reports.
func checkWhoami(t *testing.T, w whoami, subject, issuer, resource string) {
	t.Helper()
	if w.Subject != subject {
		t.Errorf("whoami subject = %q, want %q", w.Subject, subject)
	}
	if strings.TrimSuffix(w.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		t.Errorf("whoami issuer = %q, want %q", w.Issuer, issuer)
	}
	if !slices.Contains(w.Audience, resource) {
		t.Errorf("whoami audience = %q, want it to contain %q", w.Audience, resource)
	}
	if !slices.Contains(w.Scopes, "mcp:tools") {
		t.Errorf("whoami scopes = %q, want mcp:tools among them", w.Scopes)
	}
	if w.ClientID == "" {
		t.Errorf("whoami client_id is empty (the client registered dynamically)")
	}
}

// lastLine returns the last non-empty line of s, trimmed.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
