//go:build unix

package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// gatewayRoute is one entry of MCPGW_ROUTES (internal/config.Route).
type gatewayRoute struct {
	Path                string              `json:"path"`
	Upstream            string              `json:"upstream"`
	Transport           string              `json:"transport,omitempty"`
	Env                 map[string]string   `json:"env,omitempty"`
	RequiredScopes      []string            `json:"required_scopes,omitempty"`
	ToolScopes          map[string][]string `json:"tool_scopes,omitempty"`
	Identity            string              `json:"identity,omitempty"`
	IdentityKeyEnv      string              `json:"identity_key_env,omitempty"`
	StaticCredentialEnv string              `json:"static_credential_env,omitempty"`
	Timeout             string              `json:"timeout,omitempty"`
	MaxProcesses        int                 `json:"max_processes,omitempty"`
	MaxStreams          int                 `json:"max_streams_per_principal,omitempty"`
}

// upstreamEnv is a gateway fronting upstream routes, with its authorization server.
type upstreamEnv struct {
	op      *testenv.OIDCProvider
	gateway *testenv.Gateway
}

// resource is a route's resource identifier (public_url + path).
func (e *upstreamEnv) resource(path string) string { return e.gateway.BaseURL + path }

// startUpstreamGateway starts oidc-provider (scopes mcp:tools and mcp:admin,
// every route's resource) and `mcp-gateway serve` with the routes in
// MCPGW_ROUTES, requiring mcp:tools everywhere.
func startUpstreamGateway(t *testing.T, routes []gatewayRoute, env []string) *upstreamEnv {
	t.Helper()
	testenv.NodeModules(t)
	testenv.BuildGateway(t)
	port := testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	var resources []string
	for _, r := range routes {
		resources = append(resources, base+r.Path)
	}
	js, err := json.Marshal(routes)
	if err != nil {
		t.Fatal(err)
	}
	op := testenv.StartOIDCProvider(t, resources, "mcp:tools", "mcp:admin")
	gw := testenv.StartGatewayServe(t, testenv.ServeConfig{
		Port: port, Issuer: op.Issuer,
		Env: append([]string{"MCPGW_ROUTES=" + string(js)}, env...),
	})
	return &upstreamEnv{op: op, gateway: gw}
}

// getScopedToken runs get-token.mjs for resource with scope.
func getScopedToken(t *testing.T, issuer, resource, scope, loginHint string) (string, error) {
	t.Helper()
	args := []string{"--issuer", issuer, "--resource", resource, "--scope", scope}
	if loginHint != "" {
		args = append(args, "--login-hint", loginHint)
	}
	out, err := testenv.RunNode(t, "get-token.mjs", args...)
	return lastLine(out), err
}

// sdkOutput is mcp-oauth-client.mjs's output line, with the fields of its
// newer flags.
type sdkOutput struct {
	clientOutput
	Resources []string `json:"resources"`
	Resource  *struct {
		Contents []struct {
			URI  string `json:"uri"`
			Text string `json:"text"`
		} `json:"contents"`
	} `json:"resource"`
	Progress   []struct{ Progress, Total float64 } `json:"progress"`
	ToolsAfter []string                            `json:"tools_after"`
	HTTPErrors []struct {
		Method          string `json:"method"`
		Status          int    `json:"status"`
		WWWAuthenticate string `json:"www_authenticate"`
	} `json:"http_errors"`
	Authorizations int `json:"authorizations"`
}

// runSDK runs mcp-oauth-client.mjs and decodes its output line.
func runSDK(t *testing.T, args ...string) sdkOutput {
	t.Helper()
	out, err := testenv.RunNodeTimeout(t, 90*time.Second, "mcp-oauth-client.mjs", append(args, "--timeout", "80000")...)
	if err != nil {
		t.Fatalf("mcp-oauth-client.mjs %s: %v", strings.Join(args, " "), err)
	}
	var o sdkOutput
	if err := json.Unmarshal([]byte(lastLine(out)), &o); err != nil {
		t.Fatalf("mcp-oauth-client.mjs output is not JSON: %v\n%s", err, out)
	}
	return o
}

// everythingDoc is a static resource of server-everything.
const everythingDoc = "demo://resource/static/document/architecture.md"

// TestUpstreamEverything puts the reference server-everything behind the
// gateway over stdio, Streamable HTTP and the legacy HTTP+SSE transport; the
// TypeScript SDK client, authorized by oidc-provider through the gateway's
// challenge, lists tools (get-env hidden: it needs mcp:admin), calls echo,
// lists and reads resources, and receives every progress notification of a
// long-running tool through the gateway.
func TestUpstreamEverything(t *testing.T) {
	stdio := strings.Join(testenv.EverythingStdioCommand(t), " ")
	admin := map[string][]string{"get-env": {"mcp:admin"}}
	routes := []gatewayRoute{
		{Path: "/mcp/stdio", Upstream: stdio, ToolScopes: admin},
		{Path: "/mcp/http", Upstream: testenv.StartEverything(t, testenv.EverythingStreamableHTTP), ToolScopes: admin},
		{Path: "/mcp/legacy", Upstream: testenv.StartEverything(t, testenv.EverythingSSE), Transport: "sse", ToolScopes: admin},
	}
	env := startUpstreamGateway(t, routes, nil)
	for _, r := range routes {
		t.Run(strings.TrimPrefix(r.Path, "/mcp/"), func(t *testing.T) {
			t.Parallel()
			url := env.resource(r.Path)
			o := runSDK(t, "--url", url, "--login-hint", "bob", "--list-tools", "--list-resources",
				"--read-resource", everythingDoc,
				"--tool", "trigger-long-running-operation", "--args", `{"duration":1.5,"steps":3}`, "--progress")
			for _, want := range []string{"echo", "get-sum", "trigger-long-running-operation"} {
				if !slices.Contains(o.Tools, want) {
					t.Errorf("tools/list through the gateway lacks %s: %q", want, o.Tools)
				}
			}
			if slices.Contains(o.Tools, "get-env") {
				t.Errorf("tools/list shows get-env to a token without mcp:admin: %q", o.Tools)
			}
			if !slices.Contains(o.Resources, everythingDoc) {
				t.Errorf("resources/list lacks %s: %q", everythingDoc, o.Resources)
			}
			if o.Resource == nil || len(o.Resource.Contents) == 0 || !strings.Contains(o.Resource.Contents[0].Text, "Architecture") {
				t.Errorf("resources/read %s: %+v", everythingDoc, o.Resource)
			}
			if len(o.Progress) != 3 || o.Progress[2].Progress != 3 || o.Progress[2].Total != 3 {
				t.Errorf("progress notifications = %+v, want 3 of total 3", o.Progress)
			}
			if o.Result == nil || len(o.Result.Content) == 0 || !strings.Contains(o.Result.Content[0].Text, "completed") {
				t.Errorf("long-running tool result = %+v", o.Result)
			}
			if aud := audiences(o.TokenClaims); !slices.Equal(aud, []string{url}) {
				t.Errorf("token aud = %q, want [%s] (each route is its own resource)", aud, url)
			}
			echo := runSDK(t, "--url", url, "--tool", "echo", "--args", `{"message":"through the gateway"}`)
			if echo.Result == nil || len(echo.Result.Content) == 0 || !strings.Contains(echo.Result.Content[0].Text, "through the gateway") {
				t.Errorf("echo result = %+v", echo.Result)
			}
		})
	}
}

// TestUpstreamStepUp proves per-tool authorization and step-up: with a token
// of scope mcp:tools the SDK client does not see get-env, its tools/call gets
// 403 insufficient_scope naming mcp:admin, the SDK re-authorizes with the
// broader scope (this client registers again when the authorization server
// refuses the broader scope for the first registration), and the call
// succeeds; afterwards tools/list shows get-env. The stdio upstream's
// environment proves the gateway passes the route's env and not its own.
func TestUpstreamStepUp(t *testing.T) {
	routes := []gatewayRoute{{
		Path: "/mcp/stdio", Upstream: strings.Join(testenv.EverythingStdioCommand(t), " "),
		Env:        map[string]string{"ROUTE_MARKER": "stdio-route-env"},
		ToolScopes: map[string][]string{"get-env": {"mcp:admin"}},
	}}
	env := startUpstreamGateway(t, routes, []string{"GATEWAY_SECRET_MARKER=must-not-reach-upstream"})
	o := runSDK(t, "--url", env.resource("/mcp/stdio"), "--list-tools", "--tool", "get-env", "--list-tools-after")
	if slices.Contains(o.Tools, "get-env") {
		t.Errorf("tools/list before step-up shows get-env: %q", o.Tools)
	}
	if !slices.Contains(o.ToolsAfter, "get-env") {
		t.Errorf("tools/list after step-up lacks get-env: %q", o.ToolsAfter)
	}
	var stepped bool
	for _, e := range o.HTTPErrors {
		if e.Status == http.StatusForbidden && e.Method == "tools/call" {
			stepped = true
			if !strings.Contains(e.WWWAuthenticate, `error="insufficient_scope"`) || !strings.Contains(e.WWWAuthenticate, "mcp:admin") {
				t.Errorf("403 challenge %q lacks insufficient_scope or mcp:admin", e.WWWAuthenticate)
			}
		}
	}
	if !stepped {
		t.Errorf("no 403 on tools/call get-env before step-up; HTTP errors: %+v", o.HTTPErrors)
	}
	if scope, _ := o.TokenClaims["scope"].(string); !slices.Contains(strings.Fields(scope), "mcp:admin") {
		t.Errorf("final token scope = %q, want mcp:admin", scope)
	}
	if o.Result == nil || len(o.Result.Content) == 0 {
		t.Fatalf("get-env after step-up: %+v", o.Result)
	}
	text := o.Result.Content[0].Text
	if !strings.Contains(text, "stdio-route-env") {
		t.Errorf("the stdio upstream lacks the route's env ROUTE_MARKER")
	}
	for _, leak := range []string{"must-not-reach-upstream", "MCPGW_ISSUER"} {
		if strings.Contains(text, leak) {
			t.Errorf("the gateway's own environment (%s) reached the stdio upstream", leak)
		}
	}
}
