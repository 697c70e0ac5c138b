//go:build unix

package testenv

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"golang.org/x/oauth2"
)

// OIDCProvider is a running test/node/oidc-provider.mjs.
type OIDCProvider struct {
	*Process
	// Issuer is the authorization server's issuer, http://127.0.0.1:<port>.
	Issuer string
	// Scopes are the scopes it grants on its resources.
	Scopes []string
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
	// token_endpoint_auth_method, ...). ExchangeClient.Metadata builds one
	// for the token-exchange grant.
	Clients []map[string]any
	// ExchangeTargets are the only audience/resource values the RFC 8693
	// token-exchange grant issues tokens for (EXCHANGE_TARGETS); others, and
	// every target when empty, get invalid_target.
	ExchangeTargets []string
	// ExchangeTTL is the lifetime of exchanged access tokens (EXCHANGE_TTL),
	// rounded up to whole seconds; zero means 10 minutes.
	ExchangeTTL time.Duration
}

// StartOIDCProviderWith is StartOIDCProvider with pre-registered clients.
func StartOIDCProviderWith(t testing.TB, o OIDCProviderOptions) *OIDCProvider {
	t.Helper()
	dir := NodeModules(t)
	resources, scopes := o.Resources, o.Scopes
	if len(scopes) == 0 {
		scopes = []string{"mcp:tools"}
	}
	clients, err := json.Marshal(append(slices.Clip(o.Clients), userTokenClient()))
	if err != nil {
		t.Fatalf("oidc-provider clients: %v", err)
	}
	exchangeTTL := int64(600)
	if o.ExchangeTTL > 0 {
		exchangeTTL = int64((o.ExchangeTTL + time.Second - 1) / time.Second)
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
			"EXCHANGE_TARGETS=" + strings.Join(o.ExchangeTargets, ","),
			fmt.Sprintf("EXCHANGE_TTL=%d", exchangeTTL),
		},
		Dir:     dir,
		Ready:   func(line string) bool { return strings.HasPrefix(line, "READY http://127.0.0.1:") },
		Timeout: 30 * time.Second,
	})
	return &OIDCProvider{
		Process: p,
		Issuer:  strings.TrimSpace(strings.TrimPrefix(p.ReadyLine, "READY ")),
		Scopes:  scopes,
	}
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
			"--idp-listen", fmt.Sprintf("127.0.0.1:%d", idp),
			"--exchange-demo-listen", "127.0.0.1:0"},
		ReadyURL: base + "/readyz",
	})
	WaitURL(t, idpURL+"/.well-known/oauth-authorization-server", 10*time.Second)
	return &Gateway{Process: p, BaseURL: base, MCPURL: base + "/mcp", IdPURL: idpURL}
}

// RFC 8693 identifiers used by oidc-provider.mjs's token-exchange grant.
const (
	// TokenExchangeGrantType is the RFC 8693 grant_type (section 2.1).
	TokenExchangeGrantType = "urn:ietf:params:oauth:grant-type:token-exchange"
	// AccessTokenType is the RFC 8693 token type URI of an access token
	// (section 3): the only subject_token_type and issued_token_type.
	AccessTokenType = "urn:ietf:params:oauth:token-type:access_token"
)

// UserTokenClientID is the public client StartOIDCProviderWith registers
// beside the options' Clients for UserToken (authorization code + PKCE,
// token_endpoint_auth_method none, redirect URI userTokenRedirect).
const UserTokenClientID = "testenv-user-token"

// userTokenRedirect is UserTokenClientID's redirect URI. Nothing listens
// there: UserToken stops at the redirect and reads the code from it.
const userTokenRedirect = "http://127.0.0.1/testenv/user-token/callback"

// oidcHTTPTimeout bounds one HTTP exchange with oidc-provider in the helpers.
const oidcHTTPTimeout = 30 * time.Second

func userTokenClient() map[string]any {
	return map[string]any{
		"client_id":                  UserTokenClientID,
		"redirect_uris":              []string{userTokenRedirect},
		"grant_types":                []string{"authorization_code"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	}
}

// ExchangeClient describes a confidential client of oidc-provider.mjs
// allowed the RFC 8693 token-exchange grant only (no redirect URIs, no
// response types). Put its Metadata in OIDCProviderOptions.Clients.
type ExchangeClient struct {
	// ID is the client_id.
	ID string
	// AuthMethod is the token_endpoint_auth_method: client_secret_basic
	// (default), client_secret_post or private_key_jwt.
	AuthMethod string
	// Secret is the client_secret (client_secret_* methods).
	Secret string
	// PublicKey (*rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey)
	// verifies the client's private_key_jwt assertions (RFC 7523); it is
	// registered as the client's jwks.
	PublicKey crypto.PublicKey
	// KeyID is the registered key's kid; default: its RFC 7638 SHA-256
	// thumbprint, base64url.
	KeyID string
}

// Metadata returns the client's oidc-provider metadata. It panics on a
// PublicKey jwx cannot represent as a JWK (a test setup error).
func (c ExchangeClient) Metadata() map[string]any {
	method := c.AuthMethod
	if method == "" {
		method = "client_secret_basic"
	}
	m := map[string]any{
		"client_id":                  c.ID,
		"grant_types":                []string{TokenExchangeGrantType},
		"response_types":             []string{},
		"redirect_uris":              []string{},
		"token_endpoint_auth_method": method,
	}
	if c.Secret != "" {
		m["client_secret"] = c.Secret
	}
	if c.PublicKey != nil {
		key, err := jwk.FromRaw(c.PublicKey)
		if err != nil {
			panic(fmt.Sprintf("testenv.ExchangeClient %s: public key: %v", c.ID, err))
		}
		kid := c.KeyID
		if kid == "" {
			tp, err := key.Thumbprint(crypto.SHA256)
			if err != nil {
				panic(fmt.Sprintf("testenv.ExchangeClient %s: thumbprint: %v", c.ID, err))
			}
			kid = base64.RawURLEncoding.EncodeToString(tp)
		}
		if err := key.Set(jwk.KeyIDKey, kid); err != nil {
			panic(err)
		}
		if err := key.Set(jwk.KeyUsageKey, "sig"); err != nil {
			panic(err)
		}
		m["jwks"] = map[string]any{"keys": []jwk.Key{key}}
	}
	return m
}

// Endpoint returns the provider's authorization and token endpoints, read
// from its OpenID Connect discovery document.
func (p *OIDCProvider) Endpoint(t testing.TB) oauth2.Endpoint {
	t.Helper()
	client := &http.Client{Timeout: oidcHTTPTimeout}
	resp, err := client.Get(p.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("oidc-provider discovery: %v", err)
	}
	defer resp.Body.Close()
	var meta struct {
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("oidc-provider discovery: %s", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&meta); err != nil {
		t.Fatalf("oidc-provider discovery: %v", err)
	}
	if meta.AuthorizationEndpoint == "" || meta.TokenEndpoint == "" {
		t.Fatalf("oidc-provider discovery lacks authorization_endpoint or token_endpoint: %+v", meta)
	}
	return oauth2.Endpoint{AuthURL: meta.AuthorizationEndpoint, TokenURL: meta.TokenEndpoint}
}

// UserToken signs account in at the provider as the public client
// UserTokenClientID (authorization code + PKCE S256 with an RFC 8707
// resource, login_hint = account, through the headless login and consent)
// and returns the access token: an RS256 JWT with sub = account, aud =
// resource and the granted scopes (default: p.Scopes), valid 10 minutes.
// resource must be one of the provider's Resources, and account must match
// [A-Za-z0-9._@+-]{1,64} (else oidc-provider.mjs signs in its default
// account, alice). It fails t on any error.
func (p *OIDCProvider) UserToken(t testing.TB, account, resource string, scopes ...string) string {
	t.Helper()
	if len(scopes) == 0 {
		scopes = p.Scopes
	}
	ep := p.Endpoint(t)
	ep.AuthStyle = oauth2.AuthStyleInParams
	cfg := oauth2.Config{ClientID: UserTokenClientID, Endpoint: ep, RedirectURL: userTokenRedirect, Scopes: scopes}
	verifier, state := oauth2.GenerateVerifier(), rand.Text()
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("resource", resource), oauth2.SetAuthURLParam("login_hint", account))

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{
		Jar:     jar,
		Timeout: oidcHTTPTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), userTokenRedirect) {
				return http.ErrUseLastResponse
			}
			if len(via) >= 20 {
				return errors.New("more than 20 redirects")
			}
			return nil
		},
	}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatalf("oidc-provider authorization for %s: %v", account, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), userTokenRedirect) {
		t.Fatalf("oidc-provider authorization for %s ended at %s with %s, not at the redirect URI\n%s",
			account, resp.Request.URL.Redacted(), resp.Status, body)
	}
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		t.Fatalf("oidc-provider authorization for %s: %s: %s", account, e, q.Get("error_description"))
	}
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("oidc-provider authorization for %s: redirect without the state or a code: %s", account, loc.Redacted())
	}

	ctx, cancel := context.WithTimeout(context.Background(), oidcHTTPTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Timeout: oidcHTTPTimeout})
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("resource", resource))
	if err != nil {
		t.Fatalf("oidc-provider token request for %s: %v", account, err)
	}
	return tok.AccessToken
}
