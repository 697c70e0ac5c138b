package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/devidp"
	"github.com/mcp-gateway/mcp-gateway/internal/devupstream"
	"github.com/mcp-gateway/mcp-gateway/internal/gateway"
)

// Dev mode's token exchange demo: a route, /mcp/exchange, with identity
// exchange in front of a demo upstream (internal/devupstream) that accepts
// only tokens the dev authorization server minted for it by RFC 8693 token
// exchange; its whoami tool shows what it received.
const (
	exchangeDemoPath  = "/mcp/exchange"
	exchangeDemoScope = "demo:read"
	// exchangeDemoSecretEnv is the variable the demo route names for the
	// dev client's secret; dev mode answers it itself (exchangeDemo.getenv).
	exchangeDemoSecretEnv = "MCPGW_DEV_CLIENT_SECRET"
)

// exchangeDemo is the demo upstream's listener and identifier.
type exchangeDemo struct {
	ln  net.Listener
	url string // the upstream's MCP URL, also its audience
}

// listenExchangeDemo binds the demo upstream (loopback only).
func listenExchangeDemo(addr string) (*exchangeDemo, error) {
	ln, err := loopbackListen("exchange-demo-listen", addr)
	if err != nil {
		return nil, err
	}
	return &exchangeDemo{ln: ln, url: "http://" + ln.Addr().String() + "/mcp"}, nil
}

// route is the gateway route in front of the demo upstream: the gateway
// exchanges the caller's token, as the dev client, for one whose audience
// is the upstream and whose scope is demo:read. The token endpoint comes
// from the dev authorization server's metadata.
func (d *exchangeDemo) route(clientID string) config.Route {
	return config.Route{
		Path: exchangeDemoPath, Upstream: d.url, Identity: config.IdentityExchange,
		TokenExchange: config.TokenExchange{
			UpstreamAudience: d.url, UpstreamScopes: []string{exchangeDemoScope},
			TokenExchangeClientID: clientID, TokenExchangeClientSecretEnv: exchangeDemoSecretEnv,
		},
	}
}

// getenv answers the demo route's secret variable with the dev client's
// secret and every other name from the environment.
func (d *exchangeDemo) getenv(secret string) func(string) string {
	return func(name string) string {
		if name == exchangeDemoSecretEnv {
			return secret
		}
		return os.Getenv(name)
	}
}

// serve runs the demo upstream until the returned server is closed; it
// verifies tokens with keys (the gateway's key set for the same issuer).
func (d *exchangeDemo) serve(issuer string, keys authn.KeyLookup, log *slog.Logger) (*http.Server, error) {
	up, err := devupstream.New(devupstream.Options{
		Issuer: issuer, Audience: d.url, Keys: keys,
		RequiredScopes: []string{exchangeDemoScope}, Logger: log.With("component", "exchange-demo-upstream"),
	})
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: up.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(d.ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("exchange demo upstream stopped", "err", err)
		}
	}()
	return srv, nil
}

// printBanner tells how to try the demo: a token for the exchange route
// (its own resource, as every route's) and the whoami call through it.
func (d *exchangeDemo) printBanner(out io.Writer, as *devidp.Server, publicURL, clientID string) error {
	routeURL := gateway.ResourceURL(publicURL, exchangeDemoPath)
	token, err := as.MintAccessToken("dev-user", clientID, routeURL, []string{devScope}, time.Hour)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, `Token exchange demo (route identity: exchange, RFC 8693):
  %s -> demo upstream %s
  The gateway exchanges your token at the dev authorization server for one minted
  for the upstream (aud %s, scope %s, act = the gateway's client);
  the upstream's whoami shows what it received.
  EXCHANGE_TOKEN=%s
  %s

`, routeURL, d.url, d.url, exchangeDemoScope, token, whoamiCurl(routeURL, "EXCHANGE_TOKEN"))
	return nil
}
