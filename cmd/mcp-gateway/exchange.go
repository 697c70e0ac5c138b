package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/tokenexchange"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/identity"
)

// upstreamIdentity builds an HTTP route's injector: signed headers, a
// static credential or none (identity.FromConfig), or a token exchange.
// audience is what signed identities are bound to (the route's resource).
func upstreamIdentity(cfg *config.Config, rc config.Route, audience string, getenv func(string) string) (identity.Injector, error) {
	if !config.Exchanges(rc.Identity) {
		return identity.FromConfig(rc.Identity, rc.IdentityKeyEnv, rc.StaticCredentialEnv, audience, getenv)
	}
	ex, err := exchanger(cfg, rc, getenv)
	if err != nil {
		return nil, err
	}
	return identity.NewExchange(ex, tokenexchange.NewCache(0, nil)), nil
}

// exchanger builds a route's token exchange client: its grant, the token
// endpoint (token_exchange_endpoint, or read from the issuer's metadata on
// first use), the gateway's client and its credential from the variable
// the route names. Error messages name variables, never their values.
func exchanger(cfg *config.Config, rc config.Route, getenv func(string) string) (*tokenexchange.Exchanger, error) {
	t := rc.TokenExchange
	var (
		auth tokenexchange.ClientAuth
		err  error
	)
	if t.TokenExchangePrivateKeyEnv != "" {
		pemText := getenv(t.TokenExchangePrivateKeyEnv)
		if pemText == "" {
			return nil, fmt.Errorf("%s: environment variable $%s is not set", rc.Identity, t.TokenExchangePrivateKeyEnv)
		}
		if auth, err = tokenexchange.KeyAuth([]byte(pemText), t.TokenExchangeKeyID); err != nil {
			return nil, fmt.Errorf("%s: $%s: %w", rc.Identity, t.TokenExchangePrivateKeyEnv, err)
		}
	} else {
		secret := getenv(t.TokenExchangeClientSecretEnv)
		if secret == "" {
			return nil, fmt.Errorf("%s: environment variable $%s is not set", rc.Identity, t.TokenExchangeClientSecretEnv)
		}
		if auth, err = tokenexchange.SecretAuth(t.TokenExchangeAuthMethod, secret); err != nil {
			return nil, fmt.Errorf("%s: %w", rc.Identity, err)
		}
	}
	endpoint := func(context.Context) (string, error) { return t.TokenExchangeEndpoint, nil }
	if t.TokenExchangeEndpoint == "" {
		client := &http.Client{Timeout: tokenexchange.DefaultTimeout}
		endpoint = func(ctx context.Context) (string, error) {
			return authn.DiscoverTokenEndpoint(ctx, client, cfg.Issuer, cfg.DiscoveryURL, authn.DefaultMaxResponseBytes)
		}
	}
	return tokenexchange.New(tokenexchange.Options{
		Grant: rc.Identity, Endpoint: endpoint,
		ClientID: t.TokenExchangeClientID, Auth: auth,
		Audience: t.UpstreamAudience, Resource: t.UpstreamResource, Scopes: t.UpstreamScopes,
		SubjectTokenType: t.TokenExchangeSubjectTokenType, RequestedTokenType: t.TokenExchangeRequestedTokenType,
		AssertionAudience: t.TokenExchangeAssertionAudience,
		// The exchange runs detached from the request that started it (others
		// may wait for it): it is bounded by itself.
		Timeout: min(rc.Timeout, tokenexchange.DefaultTimeout),
	})
}
