// Package authnconfig turns the gateway's configuration into its token
// verifiers: one key set for the issuer and one verifier per route. Both
// `mcp-gateway serve` and `mcp-gateway doctor --token` build them here, so
// doctor's verdict on a token is the one serve would give.
package authnconfig

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// Options are what the configuration does not say.
type Options struct {
	// ClientIDs is the client-id allowlist (built by the caller: it may need
	// AWS for client_ids_table); nil accepts any client.
	ClientIDs authn.ClientIDAllower
	// CacheTTL overrides token_cache_ttl when not zero (doctor: -1, no cache).
	CacheTTL time.Duration
	// HTTPClient fetches discovery and JWKS; nil means the key set's default.
	HTTPClient *http.Client
	// Logger gets the key set's messages; nil discards them.
	Logger *slog.Logger
	// Now is the verifiers' clock; nil means time.Now.
	Now func() time.Time
}

// Route is one configured route's verifier and what it was built from.
type Route struct {
	// Config is the route as configured.
	Config config.Route
	// Resource is the route's resource identifier (RFC 9728 §3, RFC 8707):
	// public_url + path.
	Resource string
	// Audiences are the accepted aud values: audiences, or [Resource].
	Audiences []string
	// RequiredScopes are required_scopes then the route's required_scopes.
	RequiredScopes []string
	// Verifier verifies access tokens for this route.
	Verifier *authn.Verifier
}

// Build makes the issuer's key set (it does no network I/O: keys load on
// first use) and one verifier per route of cfg, which must have passed
// Validate: provider profile, issuer, audiences or the route's resource,
// client allowlist, leeway, max_token_bytes, token_cache_ttl, scope_implies
// (one transitive closure shared by every route) and
// insecure_allow_missing_audience.
func Build(cfg *config.Config, o Options) (*authn.KeySet, []Route, error) {
	provider := cfg.Provider
	if provider == "" {
		provider = config.DefaultProvider
	}
	profile, ok := idp.Lookup(provider)
	if !ok {
		return nil, nil, fmt.Errorf("provider %q has no profile", provider)
	}
	keys, err := authn.NewKeySet(authn.KeySetOptions{
		Issuer:             cfg.Issuer,
		DiscoveryURL:       cfg.DiscoveryURL,
		JWKSURI:            cfg.JWKSURI,
		HTTPClient:         o.HTTPClient,
		MinRefreshInterval: cfg.JWKSMinRefresh,
		RefreshInterval:    cfg.JWKSRefresh,
		Logger:             o.Logger,
	})
	if err != nil {
		return nil, nil, err
	}
	cacheTTL := cfg.TokenCacheTTL
	if o.CacheTTL != 0 {
		cacheTTL = o.CacheTTL
	}
	implies := authn.NewScopeImplications(cfg.ScopeImplies)
	routes := cfg.Routes
	if len(routes) == 0 {
		routes = []config.Route{{Path: "/mcp", Upstream: config.BuiltinUpstream}}
	}
	out := make([]Route, 0, len(routes))
	for _, rc := range routes {
		resource := oauthmeta.ResourceURL(cfg.PublicURL, rc.Path)
		audiences := cfg.Audiences
		if len(audiences) == 0 {
			audiences = []string{resource}
		}
		v, err := authn.NewVerifier(keys, authn.Policy{
			Issuer:                       cfg.Issuer,
			Audiences:                    audiences,
			ClientIDs:                    o.ClientIDs,
			Profile:                      profile,
			Leeway:                       cfg.Leeway,
			MaxTokenBytes:                cfg.MaxTokenBytes,
			CacheTTL:                     cacheTTL,
			Now:                          o.Now,
			ScopeImplications:            implies,
			InsecureAllowMissingAudience: cfg.InsecureAllowMissingAudience,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("route %s: %w", rc.Path, err)
		}
		out = append(out, Route{Config: rc, Resource: resource, Audiences: audiences,
			RequiredScopes: cfg.RouteRequiredScopes(rc), Verifier: v})
	}
	return keys, out, nil
}
