//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cognito/cognitotest"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

func run(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	root := rootCmd()
	root.SetOut(&out)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("mcp-dcr %s: %v", strings.Join(args, " "), err)
	}
	return out.String()
}

// TestCommandsAgainstMoto runs the real commands, wired through the real
// aws-sdk-go-v2 to moto_server: table create, serve (metadata with the
// pool's resource-server scopes, register, RFC 7592 read and delete, the
// app client really created and removed in Cognito), gc --dry-run, and a
// graceful stop on context cancellation.
func TestCommandsAgainstMoto(t *testing.T) {
	endpoint := testenv.StartMoto(t)
	api := cognitotest.NewAPI(t, endpoint)
	pool := cognitotest.NewPool(t, api)
	port := testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cfgFile := filepath.Join(t.TempDir(), "dcr.yaml")
	yaml := fmt.Sprintf(`listen: 127.0.0.1:%d
public_url: %s
region: %s
user_pool_id: %s
table: mcp-dcr-test
aws_endpoint: %s
cognito_domain: http://localhost:1
managed_login_branding: false
default_scopes: [mcp/tools]
allow_client_credentials: true
loopback_callback_limit: 5
log_level: warn
`, port, base, cognitotest.Region, pool, endpoint)
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}

	if out := run(t, "table", "create", "--config", cfgFile); !strings.Contains(out, "mcp-dcr-test is ready") {
		t.Fatalf("table create: %q", out)
	}

	ctx := t.Context()
	srv := startServe(t, cfgFile)
	testenv.WaitURL(t, base+"/.well-known/oauth-authorization-server", testkit.DefaultTimeout)

	var meta map[string]any
	getJSON(t, "GET", base+"/.well-known/oauth-authorization-server", "", "", http.StatusOK, &meta)
	if meta["issuer"] != base || fmt.Sprint(meta["scopes_supported"]) != "[openid mcp/tools]" ||
		meta["client_id_metadata_document_supported"] != true || meta["authorization_endpoint"] != base+"/authorize" ||
		fmt.Sprint(meta["grant_types_supported"]) != "[authorization_code refresh_token client_credentials]" {
		t.Fatalf("metadata: %v", meta)
	}
	authorizeAgainstMoto(t, base, api, pool)

	var reg map[string]any
	getJSON(t, "POST", base+"/register", `{"redirect_uris":["http://localhost:3334/callback"],"client_name":"Claude Code",`+
		`"token_endpoint_auth_method":"none","scope":"mcp/tools"}`, "", http.StatusCreated, &reg)
	id, rat := reg["client_id"].(string), reg["registration_access_token"].(string)
	d, err := api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(pool), ClientId: aws.String(id)})
	if err != nil || aws.ToString(d.UserPoolClient.ClientName) != "mcp-Claude Code" {
		t.Fatalf("app client in Cognito: %+v %v", d, err)
	}

	var read map[string]any
	getJSON(t, "GET", base+"/register/"+id, "", rat, http.StatusOK, &read)
	if read["client_id"] != id {
		t.Fatalf("read: %v", read)
	}
	getJSON(t, "DELETE", base+"/register/"+id, "", rat, http.StatusNoContent, nil)
	wantMetrics(t, base+"/metrics",
		`mcpdcr_registrations_total{reason="none",result="created"} 2`, // authorizeAgainstMoto registered one
		`mcpdcr_cognito_calls_total{op="CreateUserPoolClient",result="ok"}`,
		`mcpdcr_cognito_calls_total{op="DeleteUserPoolClient",result="ok"} 1`,
		`mcpdcr_requests_total{endpoint="register_manage",status="204"} 1`)
	_, err = api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(pool), ClientId: aws.String(id)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("app client survived DELETE: %v", err)
	}

	if out := run(t, "gc", "--dry-run", "--config", cfgFile); !strings.HasPrefix(out, "expired 0, deleted 0, failed 0 (dry run") {
		t.Fatalf("gc: %q", out)
	}

	if err := srv.stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if !strings.Contains(srv.out.String(), "mcp-dcr listening on http://127.0.0.1:") {
		t.Fatalf("no ready line: %q", srv.out.String())
	}
}

// serving is `mcp-dcr serve` run in the test's process.
type serving struct {
	out  *testkit.SafeBuffer // what the command printed
	stop func() error        // cancels it and returns what it returned
}

// startServe runs `mcp-dcr serve --config cfgFile` until stop or the end
// of the test.
func startServe(t *testing.T, cfgFile string) serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &testkit.SafeBuffer{}
	done := make(chan error, 1)
	go func() {
		root := rootCmd()
		root.SetOut(out)
		root.SetArgs([]string{"serve", "--config", cfgFile})
		done <- root.ExecuteContext(ctx)
	}()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			err = testkit.Recv(t, done, testkit.DefaultTimeout, "serve to stop after cancellation")
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return serving{out: out, stop: stop}
}

func getJSON(t *testing.T, method, url, body, token string, status int, v any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, raw)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("%s %s: %q: %v", method, url, raw, err)
		}
	}
}

// authorizeAgainstMoto drives the served /authorize for a client registered
// with a portless loopback redirect URI (Claude Code's form): a request
// without PKCE is redirected back with invalid_request; a valid one on an
// ephemeral port without scope goes to Cognito with default_scopes and the
// exact URI, which the app client in Cognito now lists.
func authorizeAgainstMoto(t *testing.T, base string, api *cip.Client, pool string) {
	t.Helper()
	var reg map[string]any
	getJSON(t, "POST", base+"/register", `{"redirect_uris":["http://localhost/callback"],"client_name":"Claude Code",`+
		`"token_endpoint_auth_method":"none"}`, "", http.StatusCreated, &reg)
	id := reg["client_id"].(string)
	if reg["application_type"] != "native" {
		t.Fatalf("registration: %v", reg)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(q url.Values) *url.URL {
		t.Helper()
		resp, err := client.Get(base + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || err != nil {
			t.Fatalf("authorize: %d %v", resp.StatusCode, err)
		}
		return loc
	}
	ru := "http://localhost:43210/callback"
	q := url.Values{"client_id": {id}, "redirect_uri": {ru}, "response_type": {"code"}, "state": {"s1"}}
	if loc := get(q); !strings.HasPrefix(loc.String(), ru+"?") || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "s1" {
		t.Fatalf("without PKCE: %s", loc)
	}
	q.Set("code_challenge", "E9Melhoe2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	q.Set("code_challenge_method", "S256")
	loc := get(q)
	if loc.Host != "localhost:1" || loc.Query().Get("scope") != "mcp/tools" || loc.Query().Get("redirect_uri") != ru {
		t.Fatalf("to Cognito: %s", loc)
	}
	d, err := api.DescribeUserPoolClient(context.Background(), &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(pool), ClientId: aws.String(id)})
	if err != nil || fmt.Sprint(d.UserPoolClient.CallbackURLs) != "[http://localhost/callback "+ru+"]" {
		t.Fatalf("Cognito callback URLs: %v %v", d.UserPoolClient.CallbackURLs, err)
	}
}

// wantMetrics scrapes url until its text has every series in want (the
// request counter is written as the handler returns, possibly just after
// the client has its answer).
func wantMetrics(t *testing.T, url string, want ...string) {
	t.Helper()
	var text string
	ok := testkit.Poll(testkit.DefaultTimeout, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		text = string(b)
		for _, w := range want {
			if !strings.Contains(text, w) {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("%s lacks one of %q:\n%s", url, want, text)
	}
}
