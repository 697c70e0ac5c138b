//go:build unix

package testenv

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// OIDCProvider is a running test/node/oidc-provider.mjs.
type OIDCProvider struct {
	*Process
	// Issuer is the authorization server's issuer, http://127.0.0.1:<port>.
	Issuer string
}

// StartOIDCProvider starts the real third-party authorization server
// (test/node/oidc-provider.mjs) on a free loopback port. It accepts only the
// given resource indicators and grants scopes on them (default mcp:tools).
func StartOIDCProvider(t testing.TB, resources []string, scopes ...string) *OIDCProvider {
	t.Helper()
	return StartOIDCProviderWith(t, OIDCProviderOptions{Resources: resources, Scopes: scopes})
}

// OIDCProviderOptions configures StartOIDCProviderWith.
type OIDCProviderOptions struct {
	// Resources are the only accepted resource indicators (RFC 8707); none
	// means every resource parameter is refused with invalid_target, as a
	// default oidc-provider does.
	Resources []string
	// Scopes are granted on the resources (default mcp:tools).
	Scopes []string
	// Clients are pre-registered clients' metadata (oidc-provider's clients
	// option: client_id, client_secret, redirect_uris, grant_types,
	// token_endpoint_auth_method, ...).
	Clients []map[string]any
}

// StartOIDCProviderWith is StartOIDCProvider with pre-registered clients.
func StartOIDCProviderWith(t testing.TB, o OIDCProviderOptions) *OIDCProvider {
	t.Helper()
	dir := NodeModules(t)
	resources, scopes := o.Resources, o.Scopes
	if len(scopes) == 0 {
		scopes = []string{"mcp:tools"}
	}
	clients := []byte("[]")
	if len(o.Clients) > 0 {
		var err error
		if clients, err = json.Marshal(o.Clients); err != nil {
			t.Fatalf("oidc-provider clients: %v", err)
		}
	}
	p := Start(t, ProcessSpec{
		Name: "oidc-provider",
		Path: "node",
		Args: []string{filepath.Join(dir, "oidc-provider.mjs")},
		Env: []string{
			fmt.Sprintf("PORT=%d", FreePort(t)),
			"RESOURCES=" + strings.Join(resources, ","),
			"SCOPES=" + strings.Join(scopes, ","),
			"CLIENTS=" + string(clients),
		},
		Dir:     dir,
		Ready:   func(line string) bool { return strings.HasPrefix(line, "READY http://127.0.0.1:") },
		Timeout: 30 * time.Second,
	})
	return &OIDCProvider{Process: p, Issuer: strings.TrimSpace(strings.TrimPrefix(p.ReadyLine, "READY "))}
}

// Gateway is a running mcp-gateway (serve or dev).
type Gateway struct {
	*Process
	// BaseURL is the public URL, http://127.0.0.1:<port>.
	BaseURL string
	// MCPURL is the default route's resource identifier, BaseURL + "/mcp".
	MCPURL string
	// IdPURL is the development authorization server's URL (dev only).
	IdPURL string
}

// ServeConfig configures StartGatewayServe; it becomes MCPGW_* environment
// variables.
type ServeConfig struct {
	// Port to listen on; zero picks a free one.
	Port int
	// Issuer is MCPGW_ISSUER (required).
	Issuer string
	// Provider is MCPGW_PROVIDER; default "generic".
	Provider string
	// RequiredScopes is MCPGW_REQUIRED_SCOPES; default mcp:tools.
	RequiredScopes []string
	// Audiences is MCPGW_AUDIENCES when set.
	Audiences []string
	// JWKSURI is MCPGW_JWKS_URI when set.
	JWKSURI string
	// Env holds any further K=V entries.
	Env []string
}

// StartGatewayServe builds and starts `mcp-gateway serve` configured through
// the environment, and waits for GET /readyz to answer 200.
func StartGatewayServe(t testing.TB, cfg ServeConfig) *Gateway {
	t.Helper()
	bin := BuildGateway(t)
	if cfg.Port == 0 {
		cfg.Port = FreePort(t)
	}
	if cfg.Provider == "" {
		cfg.Provider = "generic"
	}
	if cfg.RequiredScopes == nil {
		cfg.RequiredScopes = []string{"mcp:tools"}
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", cfg.Port)
	env := []string{
		fmt.Sprintf("MCPGW_LISTEN=127.0.0.1:%d", cfg.Port),
		"MCPGW_PUBLIC_URL=" + base,
		"MCPGW_ISSUER=" + cfg.Issuer,
		"MCPGW_PROVIDER=" + cfg.Provider,
		"MCPGW_REQUIRED_SCOPES=" + strings.Join(cfg.RequiredScopes, ","),
	}
	if len(cfg.Audiences) > 0 {
		env = append(env, "MCPGW_AUDIENCES="+strings.Join(cfg.Audiences, ","))
	}
	if cfg.JWKSURI != "" {
		env = append(env, "MCPGW_JWKS_URI="+cfg.JWKSURI)
	}
	p := Start(t, ProcessSpec{
		Name:     "mcp-gateway",
		Path:     bin,
		Args:     []string{"serve"},
		Env:      append(env, cfg.Env...),
		ReadyURL: base + "/readyz",
	})
	return &Gateway{Process: p, BaseURL: base, MCPURL: base + "/mcp"}
}

// StartGatewayDev builds and starts `mcp-gateway dev` on two free loopback
// ports, and waits for the gateway's /readyz and the development authorization
// server's metadata.
func StartGatewayDev(t testing.TB) *Gateway {
	t.Helper()
	bin := BuildGateway(t)
	gw, idp := FreePort(t), FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", gw)
	idpURL := fmt.Sprintf("http://127.0.0.1:%d", idp)
	p := Start(t, ProcessSpec{
		Name: "mcp-gateway-dev",
		Path: bin,
		Args: []string{"dev",
			"--listen", fmt.Sprintf("127.0.0.1:%d", gw),
			"--idp-listen", fmt.Sprintf("127.0.0.1:%d", idp)},
		ReadyURL: base + "/readyz",
	})
	WaitURL(t, idpURL+"/.well-known/oauth-authorization-server", 10*time.Second)
	return &Gateway{Process: p, BaseURL: base, MCPURL: base + "/mcp", IdPURL: idpURL}
}
