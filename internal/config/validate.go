package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// Validate reports every problem at once, each naming its key, as
// [Problems] (without sources: Load adds them). It does not contact the
// issuer; `mcp-gateway doctor` does that.
func (c *Config) Validate() error { return c.check().err() }

// check is Validate's list of problems.
func (c *Config) check() problems {
	var errs problems
	bad := errs.add
	checkServer(bad, c.Listen, c.PublicURL, "the external base URL clients use", c.InsecureAllowHTTPPublicURL)
	if c.Issuer == "" {
		bad("issuer", "is required (the iss of access tokens)")
	} else {
		c.checkIssuerURL(bad, "issuer", c.Issuer)
	}
	if c.DiscoveryURL != "" {
		c.checkIssuerURL(bad, "discovery_url", c.DiscoveryURL)
	}
	if c.JWKSURI != "" {
		c.checkIssuerURL(bad, "jwks_uri", c.JWKSURI)
	}
	profile, known := idp.Lookup(c.Provider)
	if !known {
		bad("provider", "%q is not one of %s", c.Provider, strings.Join(idp.Names(), ", "))
	}
	for i, as := range c.AuthorizationServers {
		if u, err := url.Parse(as); err != nil || !u.IsAbs() || u.Host == "" {
			bad(fmt.Sprintf("authorization_servers[%d]", i), "%q is not an absolute URL", as)
		}
	}
	if c.InsecureAllowMissingAudience && known && !profile.MayOmitAudience {
		bad("insecure_allow_missing_audience", "provider %s always puts aud in access tokens: remove the switch", c.Provider)
	}
	if c.InsecureAllowMissingAudience && !c.HasClientAllowlist() {
		bad("insecure_allow_missing_audience", "needs allowed_client_ids or client_ids_table: a token without aud is accepted only from a listed client")
	}
	if c.ClientIDsTable != "" {
		if c.AWSRegion == "" {
			bad("aws_region", "is required with client_ids_table")
		}
		if c.ClientIDsCacheTTL < time.Second || c.ClientIDsCacheTTL > 10*time.Minute {
			bad("client_ids_cache_ttl", "%s is outside 1s..10m", c.ClientIDsCacheTTL)
		}
	}
	if c.AWSEndpoint != "" {
		c.checkIssuerURL(bad, "aws_endpoint", c.AWSEndpoint)
	}
	checkScopes(bad, "required_scopes", c.RequiredScopes)
	checkScopes(bad, "scopes_supported", c.ScopesSupported)
	c.validateScopeImplies(bad)
	for _, o := range c.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			bad("allowed_origins", "%v", err)
		}
	}
	if c.Leeway < 0 || c.Leeway > MaxLeeway {
		bad("leeway", "%s is outside 0..%s", c.Leeway, MaxLeeway)
	}
	if c.MaxTokenBytes < 1024 || c.MaxTokenBytes > 1<<20 {
		bad("max_token_bytes", "%d is outside 1024..1048576", c.MaxTokenBytes)
	}
	if c.TokenCacheTTL > 10*time.Minute {
		bad("token_cache_ttl", "%s is above 10m", c.TokenCacheTTL)
	}
	if c.MaxBodyBytes < 1024 {
		bad("max_body_bytes", "%d is below 1024", c.MaxBodyBytes)
	}
	if c.JWKSMinRefresh < 0 || c.JWKSRefresh < c.JWKSMinRefresh {
		bad("jwks_refresh", "%s must be at least jwks_min_refresh (%s)", c.JWKSRefresh, c.JWKSMinRefresh)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		bad("log_level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log_format", "%q is not text or json", c.LogFormat)
	}
	if c.StreamKeepalive != nil && *c.StreamKeepalive < 0 {
		bad("stream_keepalive", "%s is negative (0 disables keep-alives)", *c.StreamKeepalive)
	}
	if c.SessionSecret != "" && len(c.SessionSecret) < 32 {
		bad("session_secret", "must be at least 32 bytes")
	}
	c.checkOps(bad)
	c.validateRoutes(bad)
	return errs
}

// HasClientAllowlist reports whether a token's client id is checked against
// an allowlist: allowed_client_ids, client_ids_table (mcp-dcr registrations)
// or both. insecure_allow_missing_audience needs one; Validate and
// `mcp-gateway doctor` both ask here.
func (c *Config) HasClientAllowlist() bool {
	return len(c.AllowedClientIDs) > 0 || c.ClientIDsTable != ""
}

// checkScopes reports, as key[i], each entry of list that is not an RFC 6749
// §3.3 scope-token (the rule is oauthmeta.ValidScopeToken).
func checkScopes(bad func(key, format string, args ...any), key string, list []string) {
	for i, s := range list {
		if !oauthmeta.ValidScopeToken(s) {
			bad(fmt.Sprintf("%s[%d]", key, i), "%q is not a valid scope token (RFC 6749 section 3.3)", s)
		}
	}
}

// checkServer checks listen and public_url, which both services have.
// An http public_url outside loopback needs insecureHTTP
// (insecure_allow_http_public_url).
func checkServer(bad func(key, format string, args ...any), listen, publicURL, what string, insecureHTTP bool) {
	if _, _, err := net.SplitHostPort(listen); err != nil {
		bad("listen", "%q is not host:port: %v", listen, err)
	}
	if publicURL == "" {
		bad("public_url", "is required (%s)", what)
	} else if err := checkPublicURL(publicURL, insecureHTTP); err != nil {
		bad("public_url", "%v", err)
	}
}

func checkPublicURL(raw string, insecureHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("%q must be an absolute http(s) URL", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%q must not contain a fragment", raw)
	}
	if u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%q must not contain a query or user information", raw)
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) && !insecureHTTP {
		return fmt.Errorf("%q: http is allowed only on loopback; use https (tls_cert_file/tls_key_file, or a TLS proxy in front), or set insecure_allow_http_public_url for a lab", raw)
	}
	return nil
}

func (c *Config) checkIssuerURL(bad func(key, format string, args ...any), key, raw string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		bad(key, "%q must be an absolute URL", raw)
	case u.Fragment != "" || u.RawQuery != "":
		bad(key, "%q must not contain a query or fragment", raw)
	case u.Scheme == "https":
	case u.Scheme == "http" && (IsLoopbackHost(u.Hostname()) || c.InsecureAllowHTTPIssuer):
	case u.Scheme == "http":
		bad(key, "%q uses http outside loopback; use https (or set insecure_allow_http_issuer for a lab)", raw)
	default:
		bad(key, "%q must use https", raw)
	}
}

func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if o == "*" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an origin (scheme://host[:port])", o)
	}
	return nil
}

// IsLoopbackHost reports whether host (without port) is localhost or a
// loopback IP literal; see oauthmeta.IsLoopbackHost.
func IsLoopbackHost(host string) bool { return oauthmeta.IsLoopbackHost(host) }
