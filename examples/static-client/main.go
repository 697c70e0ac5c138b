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
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"

	"github.com/mcp-gateway/mcp-gateway/examples/internal/oauthcli"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// version is reported as clientInfo.version.
var version = "dev"

// secretEnv is the environment variable read when --client-secret is not given.
const secretEnv = "MCP_CLIENT_SECRET"

// options are the command-line flags.
type options struct {
	oauthcli.Flags
	issuer, clientID, clientSecret string
	resource, audience             string
	redirectHost                   string
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// realMain runs the command and returns its exit status.
func realMain(argv []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseFlags(argv, getenv, stderr)
	if err != nil {
		return oauthcli.UsageStatus("static-client", stderr, err)
	}
	return oauthcli.Run("static-client", stderr, o.Timeout, nil, func(ctx context.Context) error {
		return run(ctx, o, stdout, stderr)
	})
}

// parseFlags reads argv (and the secret from the environment) into options.
func parseFlags(argv []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := o.FlagSet("static-client", stderr, oauthcli.FlagHelp{
		URL:          "MCP URL of the gateway route, e.g. https://gateway.example.com/mcp (required)",
		Scopes:       "scopes, space or comma separated (default: openid + the gateway's scopes_supported)",
		RedirectPort: "loopback port of the redirect URI http://<host>:<port>/callback (0: any free port)",
		DefaultPort:  8765,
	})
	fs.StringVar(&o.issuer, "issuer", "", "OpenID issuer URL (required), e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>")
	fs.StringVar(&o.clientID, "client-id", "", "client id of the pre-registered app (required)")
	fs.StringVar(&o.clientSecret, "client-secret", "", "client secret (default: $"+secretEnv+"; none: a public client, PKCE only)")
	fs.StringVar(&o.resource, "resource", "", "RFC 8707 resource (default: --url; --resource= to send none, e.g. for Entra ID or Auth0)")
	fs.StringVar(&o.audience, "audience", "", "audience parameter (Auth0: the API identifier)")
	fs.StringVar(&o.redirectHost, "redirect-host", "127.0.0.1", "host in the redirect URI: 127.0.0.1 or localhost (the app must list the exact URI)")
	if err := oauthcli.Parse(fs, argv); err != nil {
		return o, err
	}
	resourceSet := false
	fs.Visit(func(f *flag.Flag) { resourceSet = resourceSet || f.Name == "resource" })
	if !resourceSet {
		o.resource = o.URL
	}
	if o.clientSecret == "" {
		o.clientSecret = getenv(secretEnv)
	}
	var missing []string
	for name, v := range map[string]string{"--issuer": o.issuer, "--client-id": o.clientID, "--url": o.URL} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return o, fmt.Errorf("%s required", strings.Join(missing, ", "))
	}
	if err := o.Check(); err != nil {
		return o, err
	}
	if o.redirectHost != "127.0.0.1" && o.redirectHost != "localhost" {
		return o, fmt.Errorf("--redirect-host %q: want 127.0.0.1 or localhost", o.redirectHost)
	}
	return o, nil
}

// run is the whole flow.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	steps := oauthcli.NewSteps(stderr)
	logged := &oauthcli.Transport{Steps: steps, Base: http.DefaultTransport, Explain: oauthcli.ExplainOAuthError}
	hc := &http.Client{Transport: logged, Timeout: 30 * time.Second}
	ctx = oidc.ClientContext(ctx, hc) // go-oidc and golang.org/x/oauth2 both read it

	provider, err := oidc.NewProvider(ctx, o.issuer)
	if err != nil {
		return fmt.Errorf("OpenID discovery of %s: %w", o.issuer, err)
	}
	var md issuerMetadata
	_ = provider.Claims(&md)
	ep := provider.Endpoint()
	steps.Detail("issuer %s: authorization_endpoint=%s token_endpoint=%s code_challenge_methods_supported=%v",
		o.issuer, ep.AuthURL, ep.TokenURL, md.CodeChallengeMethods)
	if !slices.Contains(md.CodeChallengeMethods, "S256") {
		steps.Detail("note: S256 is not advertised (Cognito does not advertise it but supports it); sending PKCE S256 anyway")
	}
	scopes := o.Scopes
	if len(scopes) == 0 {
		if scopes, err = scopesFromPRM(ctx, hc, o.URL, o.issuer, steps); err != nil {
			return fmt.Errorf("%w (or pass --scopes)", err)
		}
	}

	state, nonce, verifier := randomValue(), randomValue(), oauth2.GenerateVerifier()
	cb, err := oauthcli.ListenCallback(o.redirectHost, o.RedirectPort, "/callback")
	if err != nil {
		return err
	}
	defer cb.Close()
	cb.Expect(state)
	ep.AuthStyle = authStyle(md.TokenAuthMethods)
	cfg := &oauth2.Config{ClientID: o.clientID, ClientSecret: o.clientSecret, Endpoint: ep, RedirectURL: cb.RedirectURI(), Scopes: scopes}
	extra := []oauth2.AuthCodeOption{}
	if o.resource != "" {
		extra = append(extra, oauth2.SetAuthURLParam("resource", o.resource))
	}
	if o.audience != "" {
		extra = append(extra, oauth2.SetAuthURLParam("audience", o.audience))
	}
	authURL := cfg.AuthCodeURL(state, append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}, extra...)...)
	steps.Step("authorization request: client_id=%s, PKCE S256, nonce, scope=%q, resource=%s, audience=%s, redirect_uri=%s",
		o.clientID, strings.Join(scopes, " "), oauthcli.OrNone(o.resource), oauthcli.OrNone(o.audience), cb.RedirectURI())
	steps.Open(authURL, !o.NoBrowser)
	res, err := cb.Wait(ctx)
	if err != nil {
		return err
	}
	if err := checkIss(res.Iss, o.issuer, md.IssParameter); err != nil {
		return err
	}
	steps.Step("redirect to %s: code received, state matches, iss=%s", cb.RedirectURI(), oauthcli.OrNone(res.Iss))

	tok, err := cfg.Exchange(ctx, res.Code, append([]oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}, extra...)...)
	if err != nil {
		return fmt.Errorf("token request: %w", err)
	}
	steps.Detail("token response: token_type=%s scope=%v refresh_token=%t", tok.Type(), tok.Extra("scope"), tok.RefreshToken != "")
	id, err := verifyIDToken(ctx, provider, o.clientID, nonce, tok)
	if err != nil {
		return err
	}
	steps.Step("logged in: sub=%s email=%s name=%s username=%s (ID token verified: signature, iss, aud, exp, nonce)",
		id.Subject, oauthcli.OrNone(id.Email), oauthcli.OrNone(id.Name), oauthcli.OrNone(firstNonEmpty(id.PreferredUsername, id.Username)))

	result, err := callTools(ctx, o, steps, &oauth2.Transport{Source: oauth2.StaticTokenSource(tok), Base: logged})
	if err != nil {
		return err
	}
	return oauthcli.WriteResult(stdout, result, o.Tool)
}

// scopesFromPRM reads the gateway's Protected Resource Metadata (RFC 9728)
// for mcpURL and returns openid plus its scopes_supported. It warns when
// the document does not list issuer (the gateway would not trust its tokens).
func scopesFromPRM(ctx context.Context, hc *http.Client, mcpURL, issuer string, steps *oauthcli.Steps) ([]string, error) {
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
	steps.Detail("protected resource metadata: resource=%s authorization_servers=%v scopes_supported=%v", prm.Resource, prm.AuthorizationServers, prm.ScopesSupported)
	if !slices.ContainsFunc(prm.AuthorizationServers, func(s string) bool { return strings.TrimSuffix(s, "/") == strings.TrimSuffix(issuer, "/") }) {
		steps.Detail("WARNING: the gateway lists authorization_servers %v, not %s: it may refuse these tokens", prm.AuthorizationServers, issuer)
	}
	return append([]string{oidc.ScopeOpenID}, prm.ScopesSupported...), nil
}

// callTools opens an MCP session whose HTTP transport adds the access token
// (no OAuth handler: a refused token fails the run), lists the tools and
// calls o.Tool. It returns the CallToolResult, or the tools when no tool
// was named.
func callTools(ctx context.Context, o options, steps *oauthcli.Steps, rt http.RoundTripper) (any, error) {
	cs, err := oauthcli.Connect(ctx, &mcp.Implementation{Name: "mcp-gateway-static-client", Version: version}, o.URL, &http.Client{Transport: rt}, nil)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s with the access token: %w", o.URL, err)
	}
	defer cs.Close()
	return oauthcli.UseTools(ctx, cs, steps, o.Tool, o.Args)
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
