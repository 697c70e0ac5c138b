package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cimd"
	"github.com/mcp-gateway/mcp-gateway/internal/devidp"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
)

// devScope is the scope dev mode requires and the dev IdP grants by default.
const devScope = "mcp:tools"

func devCmd() *cobra.Command {
	var listen, idpListen, demoListen, logLevel, cimdRootCA string
	var routes []string
	var cimdLoopback bool
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the gateway with built-in tools and a development authorization server (loopback only, no cloud)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			extra, err := parseDevRoutes(routes)
			if err != nil {
				return err
			}
			return runDev(cmd.Context(), cmd.OutOrStdout(), devOptions{listen: listen, idpListen: idpListen, demoListen: demoListen, logLevel: logLevel, routes: extra,
				cimdAllowLoopback: cimdLoopback, cimdRootCA: cimdRootCA})
		},
	}
	cmd.Flags().StringVar(&listen, "listen", config.DefaultListen, "gateway address (loopback only)")
	cmd.Flags().StringVar(&idpListen, "idp-listen", "127.0.0.1:8081", "development authorization server address (loopback only)")
	cmd.Flags().StringVar(&demoListen, "exchange-demo-listen", "127.0.0.1:8082", "token exchange demo upstream address (loopback only), behind the route "+exchangeDemoPath)
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	cmd.Flags().BoolVar(&cimdLoopback, "insecure-cimd-allow-loopback", false,
		"TESTS ONLY: let the development authorization server fetch Client ID Metadata Documents from loopback https hosts (https://127.0.0.1:PORT/...)")
	cmd.Flags().StringVar(&cimdRootCA, "insecure-cimd-root-ca", "",
		"TESTS ONLY: PEM file of CA certificates trusted, besides the system roots, for Client ID Metadata Document hosts")
	cmd.Flags().StringArrayVar(&routes, "route", nil, `extra route PATH=UPSTREAM (an http(s) MCP URL or a stdio command), repeatable; e.g. --route '/mcp/everything=npx -y @modelcontextprotocol/server-everything stdio'`)
	return cmd
}

// loopbackListen binds addr after checking that its host is a loopback
// literal or localhost: dev mode auto-approves logins and must never be
// reachable from another machine.
func loopbackListen(flag, addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--%s %q: %w", flag, addr, err)
	}
	if !config.IsLoopbackHost(host) {
		return nil, fmt.Errorf("--%s %q: dev mode binds only to loopback (127.0.0.1, [::1] or localhost)", flag, addr)
	}
	return net.Listen("tcp", addr)
}

// devOptions are the dev command's flags.
type devOptions struct {
	listen, idpListen, demoListen, logLevel string
	routes                                  []config.Route
	// cimdAllowLoopback and cimdRootCA are the test-mode switches of the
	// Client ID Metadata Document fetcher (cimd.FetcherOptions
	// InsecureAllowLoopback and RootCAs).
	cimdAllowLoopback bool
	cimdRootCA        string
}

// cimdOptions turns the --insecure-cimd-* switches into fetcher options.
// The CA file adds to the system roots, so public documents (Claude Code's)
// still verify; it must hold at least one PEM certificate.
func (o devOptions) cimdOptions() (cimd.FetcherOptions, error) {
	fo := cimd.FetcherOptions{InsecureAllowLoopback: o.cimdAllowLoopback}
	if o.cimdRootCA == "" {
		return fo, nil
	}
	pem, err := os.ReadFile(o.cimdRootCA)
	if err != nil {
		return fo, fmt.Errorf("--insecure-cimd-root-ca: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return fo, fmt.Errorf("--insecure-cimd-root-ca %s: no PEM certificate found", o.cimdRootCA)
	}
	fo.RootCAs = pool
	return fo, nil
}

// parseDevRoutes turns --route PATH=UPSTREAM flags into routes next to the
// built-in /mcp.
func parseDevRoutes(flags []string) ([]config.Route, error) {
	var out []config.Route
	for _, f := range flags {
		path, up, ok := strings.Cut(f, "=")
		if !ok || path == "" || strings.TrimSpace(up) == "" {
			return nil, fmt.Errorf("--route %q: want PATH=UPSTREAM", f)
		}
		out = append(out, config.Route{Path: path, Upstream: strings.TrimSpace(up)})
	}
	return out, nil
}

func runDev(ctx context.Context, out io.Writer, o devOptions) error {
	listen, idpListen, logLevel := o.listen, o.idpListen, o.logLevel
	fetchOpts, err := o.cimdOptions()
	if err != nil {
		return err
	}
	gwLn, err := loopbackListen("listen", listen)
	if err != nil {
		return err
	}
	defer gwLn.Close()
	idpLn, err := loopbackListen("idp-listen", idpListen)
	if err != nil {
		return err
	}
	defer idpLn.Close()
	demo, err := listenExchangeDemo(o.demoListen)
	if err != nil {
		return err
	}
	defer demo.ln.Close()
	publicURL := "http://" + gwLn.Addr().String()
	issuer := "http://" + idpLn.Addr().String()
	mcpURL := gateway.ResourceURL(publicURL, "/mcp")
	log := newLogger(logLevel, "text")
	routes := append([]config.Route{{Path: "/mcp", Upstream: config.BuiltinUpstream}}, o.routes...)
	routes = append(routes, demo.route(""))
	resources := make([]string, 0, len(routes))
	for _, r := range routes {
		resources = append(resources, gateway.ResourceURL(publicURL, r.Path))
	}
	as, err := devidp.New(devidp.Options{Issuer: issuer, Resources: resources, Scopes: []string{devScope}, Logger: log, CIMD: fetchOpts,
		ExchangeTargets: []string{demo.url}, ExchangeScopes: []string{exchangeDemoScope}})
	if err != nil {
		return err
	}
	id, secret := as.DevClient()
	routes[len(routes)-1].TokenExchangeClientID = id
	if o.cimdAllowLoopback || o.cimdRootCA != "" {
		log.Warn("dev authorization server: insecure Client ID Metadata Document test mode",
			"allow_loopback", o.cimdAllowLoopback, "extra_root_ca", o.cimdRootCA)
	}
	cfg := &config.Config{
		Listen: gwLn.Addr().String(), PublicURL: publicURL, Issuer: issuer, Provider: "generic",
		RequiredScopes: []string{devScope}, ResourceName: "MCP Gateway (dev)", Routes: routes,
		InsecureAllowLoopbackOrigins: true, LogLevel: logLevel,
		// The dev IdP's keys are local: refresh on unknown kid without delay.
		JWKSMinRefresh: time.Second,
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	a, err := wire(cfg, log, demo.getenv(secret))
	if err != nil {
		return err
	}
	idpSrv := &http.Server{Handler: as.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := idpSrv.Serve(idpLn); !errors.Is(err, http.ErrServerClosed) {
			log.Error("dev authorization server stopped", "err", err)
		}
	}()
	defer idpSrv.Close()
	if err := a.keys.Start(ctx); err != nil {
		return fmt.Errorf("loading the dev authorization server's keys: %w", err)
	}
	demoSrv, err := demo.serve(issuer, a.keys, log)
	if err != nil {
		return err
	}
	defer demoSrv.Close()
	token, err := as.MintAccessToken("dev-user", id, mcpURL, []string{devScope}, time.Hour)
	if err != nil {
		return err
	}
	printDevBanner(out, mcpURL, issuer, id, secret, token)
	if err := demo.printBanner(out, as, publicURL, id); err != nil {
		return err
	}
	for _, r := range o.routes {
		fmt.Fprintf(out, "  Upstream route         %s -> %s\n", gateway.ResourceURL(publicURL, r.Path), r.Upstream)
	}
	defer a.close()
	return a.server.Serve(ctx, gwLn, gateway.ServeOptions{
		ReadHeaderTimeout: cfg.ReadHeaderTimeout, IdleTimeout: cfg.IdleTimeout, ShutdownTimeout: cfg.ShutdownTimeout,
	})
}

func printDevBanner(out io.Writer, mcpURL, issuer, id, secret, token string) {
	fmt.Fprintf(out, `
mcp-gateway %s — development mode (loopback only; logins are auto-approved, do not expose)

  MCP server URL         %s
  Authorization server   %s   (discovery, DCR, CIMD, code + PKCE, refresh, client credentials)
                         local-only: loopback or app-scheme redirect URIs, loopback browser origins
  Dev client             id %s  secret %s
  Scope                  %s     (use login_hint=<name> in /authorize to choose the user)

Connect a client:
  MCP Inspector   npx @modelcontextprotocol/inspector   then Transport "Streamable HTTP", URL %s, "Open Auth Settings" -> Quick OAuth Flow
  Claude Code     claude mcp add --transport http gateway-dev %s   then /mcp -> Authenticate
  Client creds    curl -s -u '%s:%s' -d grant_type=client_credentials -d resource=%s %s/token

Try it now (token for dev-user, valid 1h):
  TOKEN=%s
  %s

`, version, mcpURL, issuer, id, secret, devScope, mcpURL, mcpURL, id, secret, mcpURL, issuer, token, whoamiCurl(mcpURL, "TOKEN"))
}

// whoamiCurl is a curl command calling the whoami tool at mcpURL with the
// bearer token in the shell variable tokenVar.
func whoamiCurl(mcpURL, tokenVar string) string {
	return fmt.Sprintf(`curl -s %s -H "Authorization: Bearer $%s" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: whoami' -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'`,
		mcpURL, tokenVar)
}
