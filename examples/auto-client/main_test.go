package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/mcp-gateway/mcp-gateway/examples/internal/oauthcli"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// TestParseFlags checks auto-client's own flag and rules, and that the
// shared flags (tested in examples/internal/oauthcli) are read and checked.
func TestParseFlags(t *testing.T) {
	argv := []string{"--url", "http://127.0.0.1:8080/mcp", "--args", `{"message":"hi"}`,
		"--scopes", "mcp:tools, offline_access", "--client-id-metadata", "https://app.example/c.json"}
	o, err := parseFlags(argv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.URL != "http://127.0.0.1:8080/mcp" || o.Args["message"] != "hi" || !slices.Equal(o.Scopes, []string{"mcp:tools", "offline_access"}) ||
		o.cimdURL != "https://app.example/c.json" || o.RedirectPort != 0 {
		t.Errorf("options = %+v", o)
	}
	for _, tc := range []struct {
		argv    []string
		wantErr string
	}{
		{argv: []string{"--tool", "whoami"}, wantErr: "--url is required"},
		{argv: []string{"--url", "u", "--args", `[1]`}, wantErr: "want a JSON object"},
		{argv: []string{"--url", "u", "--scopes", `a"b`}, wantErr: "not a valid scope"},
		{argv: []string{"--url", "u", "extra"}, wantErr: "unexpected arguments"},
	} {
		if _, err := parseFlags(tc.argv, io.Discard); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("parseFlags(%q) = %v, want %q", tc.argv, err, tc.wantErr)
		}
	}
}

func TestRealMainExitCodes(t *testing.T) {
	var stderr bytes.Buffer
	if code := realMain([]string{"--bogus"}, io.Discard, &stderr); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens: connecting fails
	stderr.Reset()
	if code := realMain([]string{"--url", srv.URL + "/mcp", "--no-browser", "--timeout", "10s"}, io.Discard, &stderr); code != 1 {
		t.Errorf("unreachable server: exit %d, want 1\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "auto-client: FAILED:") || !strings.Contains(stderr.String(), "hint: nothing listens there") {
		t.Errorf("stderr lacks the failure and its hint:\n%s", stderr.String())
	}
}

// TestStepLogNeverPrintsSecrets sends token, registration and MCP
// exchanges through the logging transport and checks that no token, code
// or secret reaches the log while the summaries do.
func TestStepLogNeverPrintsSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/token":
			io.WriteString(w, `{"access_token":"AT-SECRET","token_type":"Bearer","expires_in":3600,"refresh_token":"RT-SECRET","id_token":"IDT-SECRET","scope":"mcp:tools"}`)
		case "/register":
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"client_id":"cid","client_secret":"CS-SECRET","redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"client_secret_basic"}`)
		case "/mcp":
			io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"secret":"MCP-BODY-SECRET"}}`)
		}
	}))
	defer srv.Close()
	var log bytes.Buffer
	hc := &http.Client{Transport: newTransport(oauthcli.NewSteps(&log), srv.URL+"/mcp", http.DefaultTransport)}
	do := func(method, path, body string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer HDR-SECRET")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(b) == 0 {
			t.Errorf("%s %s: the body did not reach the caller", method, path)
		}
	}
	do(http.MethodPost, "/token?code=CODE-SECRET", "grant_type=authorization_code&code=CODE-SECRET&code_verifier=VERIFIER-SECRET")
	do(http.MethodPost, "/register", `{"redirect_uris":["http://127.0.0.1/cb"]}`)
	do(http.MethodPost, "/mcp", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"password":"ARG-SECRET"}}}`)
	out := log.String()
	for _, secret := range []string{"AT-SECRET", "RT-SECRET", "IDT-SECRET", "CS-SECRET", "HDR-SECRET", "CODE-SECRET", "VERIFIER-SECRET", "ARG-SECRET", "MCP-BODY-SECRET"} {
		if strings.Contains(out, secret) {
			t.Errorf("step log shows %s:\n%s", secret, out)
		}
	}
	for _, want := range []string{"refresh_token=yes", "id_token=yes", "client_id=cid", "client_secret=yes", "[tools/call] -> 200 OK", "step 3:"} {
		if !strings.Contains(out, want) {
			t.Errorf("step log lacks %q:\n%s", want, out)
		}
	}
}

func TestSummarizeWarnings(t *testing.T) {
	const mcpURL = "https://gw.example/mcp"
	prmReq := httptest.NewRequest(http.MethodGet, "https://gw.example/.well-known/oauth-protected-resource/mcp", nil)
	asReq := httptest.NewRequest(http.MethodGet, "https://as.example/.well-known/oauth-authorization-server", nil)
	tests := []struct {
		name, body string
		req        *http.Request
		want       string // "" : no WARNING
	}{
		{name: "PRM matches", req: prmReq, body: `{"resource":"https://gw.example/mcp","authorization_servers":["https://as.example"]}`},
		{name: "PRM resource differs", req: prmReq, body: `{"resource":"https://gw.example/","authorization_servers":["https://as.example"]}`, want: "is not the MCP URL"},
		{name: "PRM without servers", req: prmReq, body: `{"resource":"https://gw.example/mcp"}`, want: "no authorization_servers"},
		{name: "AS fine", req: asReq, body: `{"issuer":"https://as.example","authorization_endpoint":"a","registration_endpoint":"r","code_challenge_methods_supported":["S256"]}`},
		{name: "AS without PKCE (Cognito)", req: asReq, body: `{"issuer":"https://as.example","authorization_endpoint":"a","registration_endpoint":"r"}`, want: "S256 is not in code_challenge_methods_supported"},
		{name: "AS without registration", req: asReq, body: `{"issuer":"https://as.example","authorization_endpoint":"a","code_challenge_methods_supported":["S256"]}`, want: "neither DCR"},
		{name: "OAuth error", req: asReq, body: `{"error":"invalid_target","error_description":"no such resource"}`, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(summarize(tc.req, []byte(tc.body), mcpURL), "\n")
			if tc.want == "" && strings.Contains(got, "WARNING") {
				t.Errorf("unexpected warning:\n%s", got)
			}
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("summary lacks %q:\n%s", tc.want, got)
			}
		})
	}
}

func TestRedirectFromDocument(t *testing.T) {
	tests := []struct {
		name    string
		uris    []string
		port    int
		want    redirectPlan
		wantErr string
	}{
		{name: "Claude Code shape prefers 127.0.0.1", uris: []string{"http://localhost/callback", "http://127.0.0.1/callback"},
			want: redirectPlan{host: "127.0.0.1", path: "/callback"}},
		{name: "portless with --redirect-port", uris: []string{"http://127.0.0.1/callback"}, port: 9999,
			want: redirectPlan{host: "127.0.0.1", port: 9999, path: "/callback"}},
		{name: "localhost only", uris: []string{"https://app.example/cb", "http://localhost/cb"},
			want: redirectPlan{host: "localhost", path: "/cb"}},
		{name: "fixed port used as is (VS Code shape)", uris: []string{"http://127.0.0.1:33418"},
			want: redirectPlan{host: "127.0.0.1", port: 33418, path: "/"}},
		{name: "fixed port conflicts", uris: []string{"http://127.0.0.1:33418/"}, port: 1, wantErr: "fixed port"},
		{name: "no loopback", uris: []string{"https://claude.ai/api/mcp/auth_callback", "http://[::1]/cb"}, wantErr: "no http://127.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := redirectFromDocument(tc.uris, tc.port)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestFetchClientMetadata(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	docURL := srv.URL + "/client.json"
	tests := []struct{ name, body, wantErr string }{
		{name: "valid", body: `{"client_id":"` + docURL + `","redirect_uris":["http://127.0.0.1/callback"]}`},
		{name: "client_id is another URL", body: `{"client_id":"https://evil.example/c.json"}`, wantErr: "is not the document's URL"},
		{name: "not JSON", body: `<html>`, wantErr: "not a JSON client metadata document"},
		{name: "too large", body: `{"client_id":"` + docURL + `","x":"` + strings.Repeat("a", maxCIMDBytes) + `"}`, wantErr: "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body = tc.body
			doc, err := fetchClientMetadata(context.Background(), srv.Client(), docURL)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || doc.RedirectURIs[0] != "http://127.0.0.1/callback" {
				t.Fatalf("doc = %+v, err = %v", doc, err)
			}
		})
	}
}

func TestHintFor(t *testing.T) {
	tests := []struct{ err, want string }{
		{"failed to get authorization server metadata: authorization server at https://x does not implement PKCE", "mcp-dcr"},
		{"no configured client registration methods are supported by the authorization server", "static-client"},
		{"authorization refused: invalid_target resource unknown", "RFC 8707"},
		{"something else", ""},
	}
	for _, tc := range tests {
		if got := hintFor(errors.New(tc.err)); (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("hintFor(%q) = %q, want it to mention %q", tc.err, got, tc.want)
		}
	}
}

// TestFetcher drives the go-sdk fetcher through the loopback receiver: it
// prints "open: <url>" (with prompt=consent added for offline_access),
// records the resource for the refresh, and returns code, state and iss.
// (The receiver's state checks are tested in examples/internal/oauthcli.)
func TestFetcher(t *testing.T) {
	cb, err := oauthcli.ListenCallback("127.0.0.1", 0, "/callback")
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	var log testkit.SafeBuffer
	g := &grant{}
	f := fetcher(cb, oauthcli.NewSteps(&log), true, "", g)
	authURL := "https://as.example/authorize?client_id=c&state=S1&scope=mcp%3Atools+offline_access&resource=https%3A%2F%2Fgw%2Fmcp&code_challenge_method=S256"
	type out struct {
		res *auth.AuthorizationResult
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := f(context.Background(), &auth.AuthorizationArgs{URL: authURL})
		done <- out{res, err}
	}()
	line := testkit.WaitContains(t, &log, "open: ", testkit.DefaultTimeout)
	if !strings.Contains(line, "prompt=consent") {
		t.Errorf("open line lacks prompt=consent for offline_access:\n%s", line)
	}
	resp, err := http.Get(cb.RedirectURI() + "?code=C1&state=S1&iss=https%3A%2F%2Fas.example")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	o := testkit.Recv(t, done, testkit.DefaultTimeout, "fetcher result")
	if o.err != nil || o.res.Code != "C1" || o.res.State != "S1" || o.res.Iss != "https://as.example" {
		t.Fatalf("fetcher = %+v, %v", o.res, o.err)
	}
	if _, _, r := g.get(); r != "https://gw/mcp" {
		t.Errorf("recorded resource = %q", r)
	}
	if !strings.Contains(log.String(), "code received, state matches, iss=https://as.example") {
		t.Errorf("log lacks the redirect step:\n%s", log.String())
	}
}
