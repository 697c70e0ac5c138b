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
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/mcp-gateway/mcp-gateway/examples/internal/oauthcli"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// version is reported as clientInfo.version.
var version = "dev"

// options are the command-line flags.
type options struct {
	oauthcli.Flags
	cimdURL string
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// realMain runs the command and returns its exit status.
func realMain(argv []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(argv, stderr)
	if err != nil {
		return oauthcli.UsageStatus("auto-client", stderr, err)
	}
	return oauthcli.Run("auto-client", stderr, o.Timeout, hintFor, func(ctx context.Context) error {
		return run(ctx, o, stdout, stderr)
	})
}

// parseFlags reads argv into options.
func parseFlags(argv []string, stderr io.Writer) (options, error) {
	var o options
	fs := o.FlagSet("auto-client", stderr, oauthcli.FlagHelp{
		URL:          "MCP server URL, e.g. http://127.0.0.1:8080/mcp (required)",
		Scopes:       "scopes to request, space or comma separated (default: what the challenge or PRM says)",
		RedirectPort: "loopback port for the redirect (0: any free port)",
	})
	fs.StringVar(&o.cimdURL, "client-id-metadata", "", "https URL of a client ID metadata document, used as client_id when the authorization server supports CIMD (else DCR)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: auto-client --url MCP_URL [--tool NAME --args JSON] [--scopes S] [--client-id-metadata URL] [--no-browser]\n")
		fs.PrintDefaults()
	}
	if err := oauthcli.Parse(fs, argv); err != nil {
		return o, err
	}
	if o.URL == "" {
		return o, errors.New("--url is required")
	}
	return o, o.Check()
}

// run is the whole flow.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	steps := oauthcli.NewSteps(stderr)
	logged := newTransport(steps, o.URL, http.DefaultTransport)
	// OAuth requests are short; MCP requests may stream (bounded by ctx).
	oauthClient := &http.Client{Transport: logged, Timeout: 30 * time.Second}
	mcpClient := &http.Client{Transport: logged}

	plan := defaultRedirect(o.RedirectPort)
	var doc *clientMetadataDocument
	if o.cimdURL != "" {
		var err error
		if doc, err = fetchClientMetadata(ctx, oauthClient, o.cimdURL); err != nil {
			steps.Detail("could not read the client ID metadata document (%v); the redirect URI will be %s://%s:<port>%s", err, "http", plan.host, plan.path)
		} else if plan, err = redirectFromDocument(doc.RedirectURIs, o.RedirectPort); err != nil {
			return err
		}
	}
	cb, err := oauthcli.ListenCallback(plan.host, plan.port, plan.path)
	if err != nil {
		return err
	}
	defer cb.Close()
	if doc != nil {
		if !oauthmeta.RedirectURIListed(doc.RedirectURIs, cb.RedirectURI()) {
			return fmt.Errorf("redirect URI %s is not listed in %s", cb.RedirectURI(), o.cimdURL)
		}
		steps.Detail("redirect URI %s is listed in the document (a portless loopback URI matches any port, RFC 8252 §7.3)", cb.RedirectURI())
	}

	g := &grant{}
	cfg := &auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs:            []string{cb.RedirectURI()},
			TokenEndpointAuthMethod: "none",
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			ResponseTypes:           []string{"code"},
			ClientName:              "mcp-gateway auto-client",
			SoftwareID:              "github.com/mcp-gateway/mcp-gateway/examples/auto-client",
			SoftwareVersion:         version,
		}},
		RedirectURL:              cb.RedirectURI(),
		AuthorizationCodeFetcher: fetcher(cb, steps, o.NoBrowser, o.cimdURL, g),
		ScopeFilter: func(discovered []string) []string {
			if len(o.Scopes) == 0 {
				steps.Step("scopes: %v (from the challenge or PRM)", discovered)
				return discovered
			}
			steps.Step("scopes: %v (--scopes; the challenge or PRM said %v)", o.Scopes, discovered)
			return o.Scopes
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

	cs, err := connect(ctx, o.URL, mcpClient, h)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", o.URL, err)
	}
	result, err := useSession(ctx, cs, steps, o)
	_ = cs.Close()
	if err != nil {
		return err
	}
	if err := oauthcli.WriteResult(stdout, result, o.Tool); err != nil {
		return err
	}
	return refreshAndReuse(ctx, steps, g, oauthClient, mcpClient, o.URL)
}

// connect opens an MCP session. With h, a 401 starts the go-sdk's OAuth flow.
func connect(ctx context.Context, endpoint string, hc *http.Client, h auth.OAuthHandler) (*mcp.ClientSession, error) {
	return oauthcli.Connect(ctx, &mcp.Implementation{Name: "mcp-gateway-auto-client", Version: version}, endpoint, hc, h)
}

// useSession reports the server, lists the tools and calls o.Tool; it
// returns what goes to stdout (see oauthcli.UseTools).
func useSession(ctx context.Context, cs *mcp.ClientSession, steps *oauthcli.Steps, o options) (any, error) {
	if ir := cs.InitializeResult(); ir != nil && ir.ServerInfo != nil {
		steps.Step("connected: server %s %s, protocol %s", ir.ServerInfo.Name, ir.ServerInfo.Version, ir.ProtocolVersion)
	}
	return oauthcli.UseTools(ctx, cs, steps, o.Tool, o.Args)
}

// refreshAndReuse redeems the refresh token, then opens a new session with
// only the refreshed access token (no OAuth handler: if the gateway
// refused it, the run fails instead of logging in again) and lists tools.
func refreshAndReuse(ctx context.Context, steps *oauthcli.Steps, g *grant, oauthClient, mcpClient *http.Client, endpoint string) error {
	cfg, tok, resource := g.get()
	if cfg == nil || tok == nil {
		steps.Step("refresh: skipped: the server asked for no authorization")
		return nil
	}
	if tok.RefreshToken == "" {
		steps.Step("refresh: skipped: the authorization server issued no refresh token (it may need the offline_access scope or the refresh_token grant enabled for the client)")
		return nil
	}
	steps.Step("refresh: grant_type=refresh_token with resource=%s", oauthcli.OrNone(resource))
	tr, err := refresh(ctx, oauthClient, cfg, tok.RefreshToken, resource)
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	steps.Detail("new access token: %s; refresh token rotated: %s",
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
	_, names, err := oauthcli.ListTools(ctx, cs)
	if err != nil {
		return fmt.Errorf("tools/list with the refreshed access token: %w", err)
	}
	steps.Step("refresh OK: tools/list with the refreshed access token: %d tools", len(names))
	return nil
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
