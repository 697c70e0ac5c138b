// Command auto-client is an MCP client that finds its own way in, from the
// MCP URL alone, the way Claude Code, VS Code or Cursor do: the 401
// challenge, Protected Resource Metadata (RFC 9728), authorization server
// metadata (RFC 8414 / OpenID discovery, every URL form the MCP spec
// orders), a Client ID Metadata Document or Dynamic Client Registration
// (RFC 7591), authorization code + PKCE S256 (RFC 7636) with a resource
// indicator (RFC 8707), the token, tools/list, tools/call, and a refresh.
// Every HTTP exchange is printed on stderr as a numbered step, so you see
// where discovery breaks; tokens, codes and secrets are never printed.
//
//	go run ./examples/auto-client --url http://127.0.0.1:8080/mcp --tool whoami
//
// It uses the official go-sdk (its auth.AuthorizationCodeHandler does the
// discovery, registration and PKCE) and golang.org/x/oauth2. The tool
// result is printed on stdout as JSON. Exit status: 0 on success, 1 when a
// step fails (with the reason and, when known, a hint), 2 on bad flags.
//
// NOT done: step-up on 403 insufficient_scope beyond what the go-sdk does
// (it re-authorizes once), token storage between runs, DPoP.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// version is reported as clientInfo.version.
var version = "dev"

// options are the command-line flags.
type options struct {
	url          string
	tool         string
	args         map[string]any
	scopes       []string
	cimdURL      string
	noBrowser    bool
	redirectPort int
	timeout      time.Duration
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// realMain runs the command and returns its exit status.
func realMain(argv []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(argv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "auto-client: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "auto-client: FAILED: %v\n", err)
		if h := hintFor(err); h != "" {
			fmt.Fprintf(stderr, "auto-client: hint: %s\n", h)
		}
		return 1
	}
	return 0
}

// parseFlags reads argv into options.
func parseFlags(argv []string, stderr io.Writer) (options, error) {
	var o options
	var args, scopes string
	fs := flag.NewFlagSet("auto-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "", "MCP server URL, e.g. http://127.0.0.1:8080/mcp (required)")
	fs.StringVar(&o.tool, "tool", "", "tool to call after tools/list (none: print the tool list)")
	fs.StringVar(&args, "args", "{}", "tool arguments, a JSON object")
	fs.StringVar(&scopes, "scopes", "", "scopes to request, space or comma separated (default: what the challenge or PRM says)")
	fs.StringVar(&o.cimdURL, "client-id-metadata", "", "https URL of a client ID metadata document, used as client_id when the authorization server supports CIMD (else DCR)")
	fs.BoolVar(&o.noBrowser, "no-browser", false, "do not start a browser: print the URL as \"open: <url>\" and wait for the redirect")
	fs.IntVar(&o.redirectPort, "redirect-port", 0, "loopback port for the redirect (0: any free port)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: auto-client --url MCP_URL [--tool NAME --args JSON] [--scopes S] [--client-id-metadata URL] [--no-browser]\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(argv); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.url == "" {
		return o, errors.New("--url is required")
	}
	if err := json.Unmarshal([]byte(args), &o.args); err != nil || o.args == nil {
		return o, fmt.Errorf("--args %q: want a JSON object", args)
	}
	o.scopes = splitScopes(scopes)
	for _, s := range o.scopes {
		if !oauthmeta.ValidScopeToken(s) {
			return o, fmt.Errorf("--scopes: %q is not a valid scope (RFC 6749 §3.3)", s)
		}
	}
	if o.redirectPort < 0 || o.redirectPort > 65535 {
		return o, fmt.Errorf("--redirect-port %d: out of range", o.redirectPort)
	}
	return o, nil
}

// splitScopes splits a space- or comma-separated list.
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

// run is the whole flow.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	steps := newStepLog(stderr, o.url)
	logged := steps.transport(http.DefaultTransport)
	// OAuth requests are short; MCP requests may stream (bounded by ctx).
	oauthClient := &http.Client{Transport: logged, Timeout: 30 * time.Second}
	mcpClient := &http.Client{Transport: logged}

	plan := defaultRedirect(o.redirectPort)
	var doc *clientMetadataDocument
	if o.cimdURL != "" {
		var err error
		if doc, err = fetchClientMetadata(ctx, oauthClient, o.cimdURL); err != nil {
			steps.detail("could not read the client ID metadata document (%v); the redirect URI will be %s://%s:<port>%s", err, "http", plan.host, plan.path)
		} else if plan, err = redirectFromDocument(doc.RedirectURIs, o.redirectPort); err != nil {
			return err
		}
	}
	cb, err := listenCallback(plan.host, plan.port, plan.path)
	if err != nil {
		return err
	}
	defer cb.Close()
	if doc != nil {
		if !oauthmeta.RedirectURIListed(doc.RedirectURIs, cb.redirectURI) {
			return fmt.Errorf("redirect URI %s is not listed in %s", cb.redirectURI, o.cimdURL)
		}
		steps.detail("redirect URI %s is listed in the document (a portless loopback URI matches any port, RFC 8252 §7.3)", cb.redirectURI)
	}

	g := &grant{}
	cfg := &auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs:            []string{cb.redirectURI},
			TokenEndpointAuthMethod: "none",
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			ResponseTypes:           []string{"code"},
			ClientName:              "mcp-gateway auto-client",
			SoftwareID:              "github.com/mcp-gateway/mcp-gateway/examples/auto-client",
			SoftwareVersion:         version,
		}},
		RedirectURL:              cb.redirectURI,
		AuthorizationCodeFetcher: fetcher(cb, steps, o.noBrowser, o.cimdURL, g),
		ScopeFilter: func(discovered []string) []string {
			if len(o.scopes) == 0 {
				steps.step("scopes: %v (from the challenge or PRM)", discovered)
				return discovered
			}
			steps.step("scopes: %v (--scopes; the challenge or PRM said %v)", o.scopes, discovered)
			return o.scopes
		},
		RequestRefreshToken:   true,
		AcceptUnadvertisedIss: true,
		Client:                oauthClient,
		NewTokenSource:        g.newTokenSource,
	}
	if o.cimdURL != "" {
		cfg.ClientIDMetadataDocumentConfig = &auth.ClientIDMetadataDocumentConfig{URL: o.cimdURL}
	}
	h, err := auth.NewAuthorizationCodeHandler(cfg)
	if err != nil {
		return err
	}

	cs, err := connect(ctx, o.url, mcpClient, h)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", o.url, err)
	}
	result, err := useSession(ctx, cs, steps, o)
	_ = cs.Close()
	if err != nil {
		return err
	}
	if err := writeJSON(stdout, result); err != nil {
		return err
	}
	if r, ok := result.(*mcp.CallToolResult); ok && r.IsError {
		return fmt.Errorf("tool %s returned an error result (see stdout)", o.tool)
	}
	return refreshAndReuse(ctx, steps, g, oauthClient, mcpClient, o.url)
}

// connect opens an MCP session. With h, a 401 starts the go-sdk's OAuth flow.
func connect(ctx context.Context, endpoint string, hc *http.Client, h auth.OAuthHandler) (*mcp.ClientSession, error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "mcp-gateway-auto-client", Version: version}, nil)
	return client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: endpoint, HTTPClient: hc, OAuthHandler: h,
		// Only request/response is needed here: no GET stream.
		DisableStandaloneSSE: true,
	}, nil)
}

// useSession lists the tools and calls o.tool; it returns what goes to
// stdout: the CallToolResult, or the tool list when no tool was named.
func useSession(ctx context.Context, cs *mcp.ClientSession, steps *stepLog, o options) (any, error) {
	if ir := cs.InitializeResult(); ir != nil && ir.ServerInfo != nil {
		steps.step("connected: server %s %s, protocol %s", ir.ServerInfo.Name, ir.ServerInfo.Version, ir.ProtocolVersion)
	}
	tools, names, err := listTools(ctx, cs)
	if err != nil {
		return nil, fmt.Errorf("tools/list: %w", err)
	}
	steps.step("tools/list: %d tools: %s", len(names), strings.Join(names, ", "))
	if o.tool == "" {
		return tools, nil
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: o.tool, Arguments: o.args})
	if err != nil {
		return nil, fmt.Errorf("tools/call %s: %w", o.tool, err)
	}
	steps.step("tools/call %s: isError=%t", o.tool, res.IsError)
	return res, nil
}

// listTools returns every page of tools/list and the tools' names.
func listTools(ctx context.Context, cs *mcp.ClientSession) ([]*mcp.Tool, []string, error) {
	var tools []*mcp.Tool
	var names []string
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return nil, nil, err
		}
		tools = append(tools, t)
		names = append(names, t.Name)
	}
	return tools, names, nil
}

// refreshAndReuse redeems the refresh token, then opens a new session with
// only the refreshed access token (no OAuth handler: if the gateway
// refused it, the run fails instead of logging in again) and lists tools.
func refreshAndReuse(ctx context.Context, steps *stepLog, g *grant, oauthClient, mcpClient *http.Client, endpoint string) error {
	cfg, tok, resource := g.get()
	if cfg == nil || tok == nil {
		steps.step("refresh: skipped: the server asked for no authorization")
		return nil
	}
	if tok.RefreshToken == "" {
		steps.step("refresh: skipped: the authorization server issued no refresh token (it may need the offline_access scope or the refresh_token grant enabled for the client)")
		return nil
	}
	steps.step("refresh: grant_type=refresh_token with resource=%s", orNone(resource))
	tr, err := refresh(ctx, oauthClient, cfg, tok.RefreshToken, resource)
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	steps.detail("new access token: %s; refresh token rotated: %s",
		map[bool]string{true: "differs from the first", false: "SAME as the first"}[tr.AccessToken != tok.AccessToken],
		yesNo(tr.RefreshToken != "" && tr.RefreshToken != tok.RefreshToken))
	bearer := &http.Client{Transport: &oauth2.Transport{
		Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tr.AccessToken, TokenType: "Bearer"}),
		Base:   mcpClient.Transport,
	}}
	cs, err := connect(ctx, endpoint, bearer, nil)
	if err != nil {
		return fmt.Errorf("connecting with the refreshed access token: %w", err)
	}
	defer cs.Close()
	_, names, err := listTools(ctx, cs)
	if err != nil {
		return fmt.Errorf("tools/list with the refreshed access token: %w", err)
	}
	steps.step("refresh OK: tools/list with the refreshed access token: %d tools", len(names))
	return nil
}

// writeJSON prints v indented, with a final newline.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// hints map error texts to what usually causes them.
var hints = []struct{ substr, hint string }{
	{"does not implement PKCE", "the authorization server metadata has no code_challenge_methods_supported (Cognito's own discovery lacks it): point the gateway's authorization_servers at mcp-dcr"},
	{"no configured client registration methods", "the authorization server offers neither DCR (registration_endpoint) nor CIMD: register an app and use examples/static-client"},
	{"invalid_target", "the authorization server refused the resource parameter (RFC 8707): enable resource indicators there, or check that the resource is the gateway's public URL + path"},
	{"invalid_scope", "the authorization server refused the scopes: pass --scopes with ones it knows"},
	{"redirect_uri", "the authorization server refused the redirect URI: a pre-registered or CIMD client must list http://127.0.0.1/callback (any port) or the exact URI"},
	{"metadata issuer", "the authorization server's metadata names another issuer than the one the protected resource metadata lists"},
	{"Unauthorized", "the gateway refused the token: run `mcp-gateway doctor --token -` with it, or check audiences/issuer in the gateway config"},
	{"Service Unavailable", "the gateway could not verify tokens yet (it loads the issuer's keys at start and retries): check that the gateway reaches its issuer, and its log"},
	{"connection refused", "nothing listens there: is the gateway (make run) up, and is --url right?"},
}

// hintFor returns the hint for err, or "".
func hintFor(err error) string {
	msg := err.Error()
	for _, h := range hints {
		if strings.Contains(msg, h.substr) {
			return h.hint
		}
	}
	return ""
}
