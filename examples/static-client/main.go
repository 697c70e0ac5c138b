// Command static-client logs in with a pre-registered confidential client
// (a Cognito, Okta, Entra ID, Auth0 or Keycloak app with a client secret),
// shows who logged in, and calls tools through mcp-gateway with the access
// token.
//
//	MCP_CLIENT_SECRET=... go run ./examples/static-client \
//	  --issuer https://login.example.com --client-id abc \
//	  --url https://gateway.example.com/mcp --tool whoami
//
// Steps: OpenID discovery of --issuer with github.com/coreos/go-oidc/v3;
// the gateway's Protected Resource Metadata for the scopes (unless
// --scopes); authorization code + PKCE S256 (RFC 7636) with state, nonce
// and the resource indicator (RFC 8707) or Auth0's audience; the loopback
// redirect (state and RFC 9207 iss checked); the token request; the ID
// token verified by go-oidc (signature, issuer, audience, expiry) and here
// (nonce, at_hash); then an MCP session (official go-sdk) whose transport
// adds the access token, tools/list, and tools/call. Each step is printed
// on stderr; tokens, codes and the secret never are. The tool result is
// JSON on stdout. Exit status 0 on success, 1 on failure, 2 on bad flags.
//
// NOT done: refresh (see examples/auto-client), token storage, private_key_jwt.
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
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// version is reported as clientInfo.version.
var version = "dev"

// secretEnv is the environment variable read when --client-secret is not given.
const secretEnv = "MCP_CLIENT_SECRET"

// options are the command-line flags.
type options struct {
	issuer, clientID, clientSecret string
	url, tool                      string
	args                           map[string]any
	scopes                         []string
	resource, audience             string
	noBrowser                      bool
	redirectHost                   string
	redirectPort                   int
	timeout                        time.Duration
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// realMain runs the command and returns its exit status.
func realMain(argv []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseFlags(argv, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "static-client: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "static-client: FAILED: %v\n", err)
		return 1
	}
	return 0
}

// parseFlags reads argv (and the secret from the environment) into options.
func parseFlags(argv []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	var args, scopes string
	fs := flag.NewFlagSet("static-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.issuer, "issuer", "", "OpenID issuer URL (required), e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>")
	fs.StringVar(&o.clientID, "client-id", "", "client id of the pre-registered app (required)")
	fs.StringVar(&o.clientSecret, "client-secret", "", "client secret (default: $"+secretEnv+"; none: a public client, PKCE only)")
	fs.StringVar(&o.url, "url", "", "MCP URL of the gateway route, e.g. https://gateway.example.com/mcp (required)")
	fs.StringVar(&o.tool, "tool", "", "tool to call after tools/list (none: print the tool list)")
	fs.StringVar(&args, "args", "{}", "tool arguments, a JSON object")
	fs.StringVar(&scopes, "scopes", "", "scopes, space or comma separated (default: openid + the gateway's scopes_supported)")
	fs.StringVar(&o.resource, "resource", "", "RFC 8707 resource (default: --url; --resource= to send none, e.g. for Entra ID or Auth0)")
	fs.StringVar(&o.audience, "audience", "", "audience parameter (Auth0: the API identifier)")
	fs.BoolVar(&o.noBrowser, "no-browser", false, "do not start a browser: print the URL as \"open: <url>\" and wait for the redirect")
	fs.StringVar(&o.redirectHost, "redirect-host", "127.0.0.1", "host in the redirect URI: 127.0.0.1 or localhost (the app must list the exact URI)")
	fs.IntVar(&o.redirectPort, "redirect-port", 8765, "loopback port of the redirect URI http://<host>:<port>/callback (0: any free port)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(argv); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	resourceSet := false
	fs.Visit(func(f *flag.Flag) { resourceSet = resourceSet || f.Name == "resource" })
	if !resourceSet {
		o.resource = o.url
	}
	if o.clientSecret == "" {
		o.clientSecret = getenv(secretEnv)
	}
	var missing []string
	for name, v := range map[string]string{"--issuer": o.issuer, "--client-id": o.clientID, "--url": o.url} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return o, fmt.Errorf("%s required", strings.Join(missing, ", "))
	}
	if err := json.Unmarshal([]byte(args), &o.args); err != nil || o.args == nil {
		return o, fmt.Errorf("--args %q: want a JSON object", args)
	}
	o.scopes = strings.FieldsFunc(scopes, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	for _, s := range o.scopes {
		if !oauthmeta.ValidScopeToken(s) {
			return o, fmt.Errorf("--scopes: %q is not a valid scope (RFC 6749 §3.3)", s)
		}
	}
	if o.redirectHost != "127.0.0.1" && o.redirectHost != "localhost" {
		return o, fmt.Errorf("--redirect-host %q: want 127.0.0.1 or localhost", o.redirectHost)
	}
	if o.redirectPort < 0 || o.redirectPort > 65535 {
		return o, fmt.Errorf("--redirect-port %d: out of range", o.redirectPort)
	}
	return o, nil
}

// run is the whole flow.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	steps := &stepLog{w: stderr}
	logged := &loggingTransport{log: steps, base: http.DefaultTransport}
	hc := &http.Client{Transport: logged, Timeout: 30 * time.Second}
	ctx = oidc.ClientContext(ctx, hc) // go-oidc and golang.org/x/oauth2 both read it

	provider, err := oidc.NewProvider(ctx, o.issuer)
	if err != nil {
		return fmt.Errorf("OpenID discovery of %s: %w", o.issuer, err)
	}
	var md issuerMetadata
	_ = provider.Claims(&md)
	ep := provider.Endpoint()
	steps.detail("issuer %s: authorization_endpoint=%s token_endpoint=%s code_challenge_methods_supported=%v",
		o.issuer, ep.AuthURL, ep.TokenURL, md.CodeChallengeMethods)
	if !slices.Contains(md.CodeChallengeMethods, "S256") {
		steps.detail("note: S256 is not advertised (Cognito does not advertise it but supports it); sending PKCE S256 anyway")
	}
	scopes := o.scopes
	if len(scopes) == 0 {
		if scopes, err = scopesFromPRM(ctx, hc, o.url, o.issuer, steps); err != nil {
			return fmt.Errorf("%w (or pass --scopes)", err)
		}
	}

	state, nonce, verifier := randomValue(), randomValue(), oauth2.GenerateVerifier()
	cb, err := listenCallback(o.redirectHost, o.redirectPort, state)
	if err != nil {
		return err
	}
	defer cb.srv.Close()
	ep.AuthStyle = authStyle(md.TokenAuthMethods)
	cfg := &oauth2.Config{ClientID: o.clientID, ClientSecret: o.clientSecret, Endpoint: ep, RedirectURL: cb.redirectURI, Scopes: scopes}
	extra := []oauth2.AuthCodeOption{}
	if o.resource != "" {
		extra = append(extra, oauth2.SetAuthURLParam("resource", o.resource))
	}
	if o.audience != "" {
		extra = append(extra, oauth2.SetAuthURLParam("audience", o.audience))
	}
	authURL := cfg.AuthCodeURL(state, append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}, extra...)...)
	steps.step("authorization request: client_id=%s, PKCE S256, nonce, scope=%q, resource=%s, audience=%s, redirect_uri=%s",
		o.clientID, strings.Join(scopes, " "), orNone(o.resource), orNone(o.audience), cb.redirectURI)
	steps.line("open: %s", authURL)
	if !o.noBrowser {
		if err := openBrowser(authURL); err != nil {
			steps.detail("could not start a browser (%v): open the URL above yourself", err)
		}
	}
	res, err := cb.wait(ctx)
	if err != nil {
		return err
	}
	if err := checkIss(res.iss, o.issuer, md.IssParameter); err != nil {
		return err
	}
	steps.step("redirect to %s: code received, state matches, iss=%s", cb.redirectURI, orNone(res.iss))

	tok, err := cfg.Exchange(ctx, res.code, append([]oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}, extra...)...)
	if err != nil {
		return fmt.Errorf("token request: %w", err)
	}
	steps.detail("token response: token_type=%s scope=%v refresh_token=%t", tok.Type(), tok.Extra("scope"), tok.RefreshToken != "")
	id, err := verifyIDToken(ctx, provider, o.clientID, nonce, tok)
	if err != nil {
		return err
	}
	steps.step("logged in: sub=%s email=%s name=%s username=%s (ID token verified: signature, iss, aud, exp, nonce)",
		id.Subject, orNone(id.Email), orNone(id.Name), orNone(firstNonEmpty(id.PreferredUsername, id.Username)))

	result, err := callTools(ctx, o, steps, &oauth2.Transport{Source: oauth2.StaticTokenSource(tok), Base: logged})
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(result, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", b)
	if r, ok := result.(*mcp.CallToolResult); ok && r.IsError {
		return fmt.Errorf("tool %s returned an error result (see stdout)", o.tool)
	}
	return nil
}

// scopesFromPRM reads the gateway's Protected Resource Metadata (RFC 9728)
// for mcpURL and returns openid plus its scopes_supported. It warns when
// the document does not list issuer (the gateway would not trust its tokens).
func scopesFromPRM(ctx context.Context, hc *http.Client, mcpURL, issuer string, steps *stepLog) ([]string, error) {
	prmURL, err := oauthmeta.ProtectedResourceMetadataURL(mcpURL)
	if err != nil {
		return nil, fmt.Errorf("--url %q: %w", mcpURL, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, prmURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("protected resource metadata: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("protected resource metadata %s: %s", prmURL, resp.Status)
	}
	var prm oauthmeta.ProtectedResourceMetadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&prm); err != nil {
		return nil, fmt.Errorf("protected resource metadata %s: %w", prmURL, err)
	}
	steps.detail("protected resource metadata: resource=%s authorization_servers=%v scopes_supported=%v", prm.Resource, prm.AuthorizationServers, prm.ScopesSupported)
	if !slices.ContainsFunc(prm.AuthorizationServers, func(s string) bool { return strings.TrimSuffix(s, "/") == strings.TrimSuffix(issuer, "/") }) {
		steps.detail("WARNING: the gateway lists authorization_servers %v, not %s: it may refuse these tokens", prm.AuthorizationServers, issuer)
	}
	return append([]string{oidc.ScopeOpenID}, prm.ScopesSupported...), nil
}

// callTools opens an MCP session whose HTTP transport adds the access token
// (no OAuth handler: a refused token fails the run), lists the tools and
// calls o.tool. It returns the CallToolResult, or the tools when no tool
// was named.
func callTools(ctx context.Context, o options, steps *stepLog, rt http.RoundTripper) (any, error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "mcp-gateway-static-client", Version: version}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: o.url, HTTPClient: &http.Client{Transport: rt}, DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s with the access token: %w", o.url, err)
	}
	defer cs.Close()
	var tools []*mcp.Tool
	var names []string
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("tools/list: %w", err)
		}
		tools = append(tools, t)
		names = append(names, t.Name)
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

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
