package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// claudeCodeDocument is shaped like Claude Code's published Client ID
// Metadata Document; {{URL}} is the document's own URL.
const claudeCodeDocument = `{"client_id":"{{URL}}","client_name":"Claude Code","redirect_uris":["http://localhost/callback","http://127.0.0.1/callback"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"}`

// startDocHost serves claudeCodeDocument at /client.json over https on
// loopback and writes its certificate to a PEM file, as a test CA.
func startDocHost(t *testing.T) (docURL, caFile string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, strings.ReplaceAll(claudeCodeDocument, "{{URL}}", "https://"+r.Host+r.URL.Path))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL + "/client.json", caFile
}

// runDevBanner runs `mcp-gateway dev` in process on free loopback ports
// with extra flags until the test ends, and returns its banner once the
// token exchange demo's part, written last before serving, has shown.
func runDevBanner(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &testkit.SafeBuffer{}
	cmd := rootCmd()
	cmd.SetOut(out)
	cmd.SetArgs(append([]string{"dev", "--listen", "127.0.0.1:0", "--idp-listen", "127.0.0.1:0", "--exchange-demo-listen", "127.0.0.1:0", "--log-level", "error"}, args...))
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev returned %v", err)
		}
	})
	return testkit.WaitContains(t, out, `"Authorization: Bearer $EXCHANGE_TOKEN"`, testkit.DefaultTimeout)
}

// startDev runs `mcp-gateway dev` in process with extra flags and returns
// its MCP URL and issuer, read from the banner.
func startDev(t *testing.T, args ...string) (mcpURL, issuer string) {
	t.Helper()
	banner := runDevBanner(t, args...)
	m := regexp.MustCompile(`MCP server URL\s+(\S+)`).FindStringSubmatch(banner)
	i := regexp.MustCompile(`Authorization server\s+(\S+)`).FindStringSubmatch(banner)
	if m == nil || i == nil {
		t.Fatalf("banner:\n%s", banner)
	}
	return m[1], i[1]
}

// noRedirect is a client that returns redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestDevCIMDTestSwitches: with --insecure-cimd-allow-loopback and
// --insecure-cimd-root-ca, the dev authorization server takes a loopback
// https document URL as client_id (Claude Code's shape, ephemeral port),
// issues a token the gateway accepts, and refreshes it; without either
// switch the same document host is refused.
func TestDevCIMDTestSwitches(t *testing.T) {
	docURL, caFile := startDocHost(t)
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	redirect := "http://localhost:54321/callback"

	tests := []struct {
		name     string
		args     []string
		wantDesc string // "" means success
	}{
		{"both switches", []string{"--insecure-cimd-allow-loopback", "--insecure-cimd-root-ca", caFile}, ""},
		{"no loopback switch", []string{"--insecure-cimd-root-ca", caFile}, "not a public address"},
		{"no CA switch", []string{"--insecure-cimd-allow-loopback"}, "could not be fetched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mcpURL, issuer := startDev(t, tt.args...)
			var meta map[string]any
			getJSON(t, issuer+"/.well-known/oauth-authorization-server", &meta)
			if meta["client_id_metadata_document_supported"] != true {
				t.Fatalf("metadata does not advertise CIMD: %v", meta)
			}
			q := url.Values{"response_type": {"code"}, "client_id": {docURL}, "redirect_uri": {redirect},
				"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "resource": {mcpURL}, "state": {"s"}}
			resp, err := noRedirect.Get(issuer + "/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tt.wantDesc != "" {
				if resp.StatusCode != 400 || !strings.Contains(string(body), tt.wantDesc) {
					t.Fatalf("authorize: %d %s, want 400 with %q", resp.StatusCode, body, tt.wantDesc)
				}
				return
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" || !strings.HasPrefix(loc.String(), redirect+"?") {
				t.Fatalf("authorize: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
			tok := postToken(t, issuer, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
				"redirect_uri": {redirect}, "code_verifier": {verifier}, "client_id": {docURL}, "resource": {mcpURL}})
			callWhoami(t, mcpURL, tok["access_token"])
			refreshed := postToken(t, issuer, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"]}, "client_id": {docURL}})
			callWhoami(t, mcpURL, refreshed["access_token"])
		})
	}
}

func TestDevCIMDRootCAFileErrors(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{notPEM, filepath.Join(t.TempDir(), "missing.pem")} {
		if _, err := (devOptions{cimdRootCA: f}).cimdOptions(); err == nil || !strings.Contains(err.Error(), "--insecure-cimd-root-ca") {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", u, err)
	}
}

// postToken posts to the token endpoint and returns the string members of
// a successful answer.
func postToken(t *testing.T, issuer string, form url.Values) map[string]string {
	t.Helper()
	resp, err := http.PostForm(issuer+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	out := map[string]string{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	if resp.StatusCode != 200 || out["access_token"] == "" || out["refresh_token"] == "" {
		t.Fatalf("token (%s): %d %s", form.Get("grant_type"), resp.StatusCode, body)
	}
	return out
}

// callWhoami calls the built-in whoami tool through the gateway with token.
func callWhoami(t *testing.T, mcpURL, token string) {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	cs, err := c.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: mcpURL,
		HTTPClient: &http.Client{Transport: tokenTransport{token: token, base: http.DefaultTransport}}}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer cs.Close()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil || res.IsError {
		t.Fatalf("whoami: %v %+v", err, res)
	}
}
