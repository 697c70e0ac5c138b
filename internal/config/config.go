// Package config loads mcp-gateway's configuration from a YAML file, a .env
// file and MCPGW_* environment variables (and mcp-dcr's, MCPDCR_*);
// everything else receives the typed [Config]. Load reports every problem
// at once as [Problems], each with its source: unknown keys at any depth and
// unknown variables with a "did you mean", values that do not decode, and
// Validate's rules.
//
// The file is read with yaml.v3 (keeping line numbers) and decoded with
// mapstructure, viper's decoder, but not through viper: viper lower-cases
// the keys of maps and splits them on dots, which would turn the
// scope_implies entry Files.ReadWrite into files -> readwrite. The only
// package that decodes configuration is this one.
package config

import (
	"maps"
	"slices"
	"time"
)

// Config is the gateway's whole configuration. Key names are the interface
// contract of ../shared/DESIGN.md: YAML keys as tagged, environment variables
// MCPGW_<KEY> upper-cased with "." replaced by "_", lists comma-separated.
type Config struct {
	// Listen is the address to bind (default 127.0.0.1:8080).
	Listen string `mapstructure:"listen"`
	// PublicURL is the external base URL clients use; resource identifiers
	// and metadata URLs derive from it.
	PublicURL string `mapstructure:"public_url"`
	// Issuer is the expected iss of access tokens.
	Issuer string `mapstructure:"issuer"`
	// DiscoveryURL is where issuer metadata is read when it is not under the
	// issuer's own well-known paths.
	DiscoveryURL string `mapstructure:"discovery_url"`
	// JWKSURI, when set, skips discovery.
	JWKSURI string `mapstructure:"jwks_uri"`
	// Provider names the IdP profile (internal/authn/idp owns the list:
	// cognito, okta, auth0, entra, keycloak, generic).
	Provider string `mapstructure:"provider"`
	// AuthorizationServers is what PRM advertises (default [issuer]).
	AuthorizationServers []string `mapstructure:"authorization_servers"`
	// Audiences are accepted aud values (default: each route's resource URL).
	Audiences []string `mapstructure:"audiences"`
	// AllowedClientIDs are accepted client ids; when set (or with
	// ClientIDsTable) every token's client id must be accepted.
	AllowedClientIDs []string `mapstructure:"allowed_client_ids"`
	// ClientIDsTable is a DynamoDB table of mcp-dcr registrations; when set,
	// a token's client id is accepted if it is registered there (and not
	// expired) or listed in AllowedClientIDs.
	ClientIDsTable string `mapstructure:"client_ids_table"`
	// ClientIDsCacheTTL is how long an answer from ClientIDsTable is
	// remembered (default 60s): a deleted client's tokens stop being
	// accepted within this time.
	ClientIDsCacheTTL time.Duration `mapstructure:"client_ids_cache_ttl"`
	// AWSRegion and AWSEndpoint locate ClientIDsTable; AWSEndpoint overrides
	// the endpoint for emulators such as moto.
	AWSRegion   string `mapstructure:"aws_region"`
	AWSEndpoint string `mapstructure:"aws_endpoint"`
	// RequiredScopes are needed by every call on every route.
	RequiredScopes []string `mapstructure:"required_scopes"`
	// ScopesSupported, when set, is what every route's PRM advertises
	// after the route's required scopes: one list everywhere. Empty (the
	// default): each route advertises its own scopes (see RouteScopes).
	ScopesSupported []string `mapstructure:"scopes_supported"`
	// ScopeImplies maps a broader scope to the narrower scopes it implies
	// (MCP 2026-07-28 authorization: "a broader scope implies narrower
	// ones"), for example mcp:admin: [mcp:write, mcp:read]. Implication is
	// transitive. A token granted the broader scope passes every check of an
	// implied one: required scopes, tool/resource/prompt scopes and list
	// filtering. Empty: scopes compare exactly (RFC 6749 §3.3).
	ScopeImplies map[string][]string `mapstructure:"scope_implies"`
	// Routes are the protected MCP endpoints (default one builtin route at /mcp).
	Routes []Route `mapstructure:"routes"`
	// AllowedOrigins are the browser origins accepted on MCP routes, besides
	// the public URL's own origin. "*" is refused; loopback origins are
	// accepted only with InsecureAllowLoopbackOrigins.
	AllowedOrigins []string `mapstructure:"allowed_origins"`
	// ResourceName is PRM's resource_name.
	ResourceName string `mapstructure:"resource_name"`

	// Leeway is the clock skew tolerated for exp/nbf/iat (default 60s, max 5m).
	Leeway time.Duration `mapstructure:"leeway"`
	// MaxTokenBytes caps the size of an access token (default 16384).
	MaxTokenBytes int `mapstructure:"max_token_bytes"`
	// TokenCacheTTL is how long a verified token is remembered (default
	// 30s; negative disables). A token signed by a key the IdP removed stays
	// accepted for at most this long.
	TokenCacheTTL time.Duration `mapstructure:"token_cache_ttl"`
	// MaxBodyBytes caps request bodies on MCP routes (default 4 MiB).
	MaxBodyBytes int64 `mapstructure:"max_body_bytes"`
	// JWKSMinRefresh is the least time between two JWKS fetches (default 10s).
	JWKSMinRefresh time.Duration `mapstructure:"jwks_min_refresh"`
	// JWKSRefresh is the periodic JWKS refresh interval (default 15m).
	JWKSRefresh time.Duration `mapstructure:"jwks_refresh"`
	// ReadHeaderTimeout, IdleTimeout and ShutdownTimeout bound the HTTP server.
	ReadHeaderTimeout time.Duration `mapstructure:"read_header_timeout"`
	IdleTimeout       time.Duration `mapstructure:"idle_timeout"`
	ShutdownTimeout   time.Duration `mapstructure:"shutdown_timeout"`
	// StreamKeepalive is how long an MCP event stream (a text/event-stream
	// response on any route) may stay silent before the gateway writes an
	// SSE comment (": keep-alive") on it, so that a load balancer or CDN in
	// front does not cut it as idle (default 25s, below CloudFront's 30 s
	// origin read timeout and the ALB's 60 s idle timeout; 0 disables). Keep
	// it below the shortest idle timeout in front. Nil until ApplyDefaults.
	StreamKeepalive *time.Duration `mapstructure:"stream_keepalive"`
	// SessionSecret keys the HMAC that binds gateway session ids to their
	// upstream session and principal (at least 32 bytes). Replicas that share
	// it can serve each other's sessions with HTTP upstreams; empty means a
	// random key per process (sessions then need sticky routing).
	SessionSecret string `mapstructure:"session_secret"`
	// LogLevel is debug, info, warn or error; LogFormat is text or json.
	LogLevel  string `mapstructure:"log_level"`
	LogFormat string `mapstructure:"log_format"`

	// Operations: metrics, audit, TLS and the limits that hold per caller
	// (ops.go documents and checks them).

	// MetricsListen, when set (host:port), serves Prometheus /metrics on
	// its own listener and not on Listen; empty: /metrics on Listen.
	MetricsListen string `mapstructure:"metrics_listen"`
	// AuditLog is where the audit trail goes: one JSON line per tool,
	// resource or prompt call and per refusal. "stderr" (default), "off",
	// or a file path (appended to, created 0600).
	AuditLog string `mapstructure:"audit_log"`
	// BodyReadTimeout bounds reading one request body (default 30s); a
	// body still arriving then gets 408. The body phase counts against
	// the route's max_streams_per_principal.
	BodyReadTimeout time.Duration `mapstructure:"body_read_timeout"`
	// RateLimitPerIP is requests per second from one client IP, checked
	// before the token (default 50; negative disables), with bursts of
	// RateLimitPerIPBurst (default 100). Over it: 429 with Retry-After.
	RateLimitPerIP      float64 `mapstructure:"rate_limit_per_ip"`
	RateLimitPerIPBurst int     `mapstructure:"rate_limit_per_ip_burst"`
	// RateLimitPerPrincipal is requests per second of one caller (issuer
	// and subject), across routes (default 20; negative disables), with
	// bursts of RateLimitPerPrincipalBurst (default 40).
	RateLimitPerPrincipal      float64 `mapstructure:"rate_limit_per_principal"`
	RateLimitPerPrincipalBurst int     `mapstructure:"rate_limit_per_principal_burst"`
	// TrustedProxies are the CIDRs of proxies (load balancers) whose
	// X-Forwarded-For is believed: the client IP is the rightmost address
	// not in them. Empty: the TCP peer is the client.
	TrustedProxies []string `mapstructure:"trusted_proxies"`
	// TLSCertFile and TLSKeyFile make the gateway serve HTTPS itself (TLS
	// 1.2 minimum); the files are reloaded when they change.
	TLSCertFile string `mapstructure:"tls_cert_file"`
	TLSKeyFile  string `mapstructure:"tls_key_file"`

	// InsecureAllowHTTPPublicURL admits an http:// public_url outside
	// loopback (a lab without TLS). Never set it in production.
	InsecureAllowHTTPPublicURL bool `mapstructure:"insecure_allow_http_public_url"`
	// InsecureAllowHTTPIssuer admits an http:// issuer, discovery or JWKS URL
	// outside loopback. Never set it in production.
	InsecureAllowHTTPIssuer bool `mapstructure:"insecure_allow_http_issuer"`
	// InsecureAllowLoopbackOrigins accepts any http://localhost, 127.0.0.1 or
	// [::1] Origin (used by dev mode for browser tools such as the Inspector).
	InsecureAllowLoopbackOrigins bool `mapstructure:"insecure_allow_loopback_origins"`
	// InsecureAllowMissingAudience accepts access tokens without aud from
	// allow-listed clients (AllowedClientIDs or ClientIDsTable), for a
	// provider that issues such tokens (Cognito without RFC 8707 resource
	// binding: Lite plan, classic hosted UI, clients that omit resource).
	// Such tokens are not bound to the gateway. Tokens with aud must still
	// name the route's resource (or one of Audiences).
	InsecureAllowMissingAudience bool `mapstructure:"insecure_allow_missing_audience"`
}

// Defaults.
const (
	DefaultListen                = "127.0.0.1:8080"
	DefaultProvider              = "generic"
	DefaultLeeway                = 60 * time.Second
	MaxLeeway                    = 5 * time.Minute
	DefaultMaxTokenBytes         = 16 << 10
	DefaultMaxBodyBytes          = 4 << 20
	DefaultTokenCacheTTL         = 30 * time.Second
	DefaultClientIDsCacheTTL     = 60 * time.Second
	DefaultJWKSMinRefresh        = 10 * time.Second
	DefaultJWKSRefresh           = 15 * time.Minute
	DefaultReadHeaderTimeout     = 10 * time.Second
	DefaultIdleTimeout           = 120 * time.Second
	DefaultShutdownTimeout       = 15 * time.Second
	DefaultStreamKeepalive       = 25 * time.Second
	DefaultBodyReadTimeout       = 30 * time.Second
	DefaultAuditLog              = "stderr"
	DefaultRateLimitPerIP        = 50
	DefaultRateLimitPerPrincipal = 20
	BuiltinUpstream              = "builtin"
)

// ApplyDefaults fills unset fields; it is called by Load and may be called on
// a Config built in code (dev mode).
func (c *Config) ApplyDefaults() {
	setDefault(&c.Listen, DefaultListen)
	setDefault(&c.Provider, DefaultProvider)
	setDefault(&c.LogLevel, "info")
	setDefault(&c.LogFormat, "text")
	setDefault(&c.ResourceName, "MCP Gateway")
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.MaxTokenBytes == 0 {
		c.MaxTokenBytes = DefaultMaxTokenBytes
	}
	if c.ClientIDsCacheTTL == 0 {
		c.ClientIDsCacheTTL = DefaultClientIDsCacheTTL
	}
	if c.TokenCacheTTL == 0 {
		c.TokenCacheTTL = DefaultTokenCacheTTL
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.JWKSMinRefresh == 0 {
		c.JWKSMinRefresh = DefaultJWKSMinRefresh
	}
	if c.JWKSRefresh == 0 {
		c.JWKSRefresh = DefaultJWKSRefresh
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.StreamKeepalive == nil {
		c.StreamKeepalive = ptr(DefaultStreamKeepalive)
	}
	c.applyOpsDefaults()
	if len(c.AuthorizationServers) == 0 && c.Issuer != "" {
		c.AuthorizationServers = []string{c.Issuer}
	}
	if len(c.Routes) == 0 {
		c.Routes = []Route{{Path: "/mcp", Upstream: BuiltinUpstream}}
	}
	for i := range c.Routes {
		c.Routes[i].applyDefaults()
	}
	// ScopesSupported stays empty unless configured: each route then
	// advertises its own scopes (RouteScopes).
}

// RouteScopes is what route r's Protected Resource Metadata advertises as
// scopes_supported (RFC 9728 §2) when scopes_supported is not configured:
// the global required_scopes, then r's required_scopes, then its tool,
// resource and prompt scopes (patterns in sorted order), each once, in
// first-seen order. offline_access is left out (MCP: a client asks for it
// on its own). Scopes are listed as the route names them: scope_implies
// adds neither the scopes they imply nor the broader scopes implying them
// (a route needing mcp:read lists mcp:read, not mcp:admin), so a client
// asking for everything advertised asks for no more than the route uses.
func (c *Config) RouteScopes(r Route) []string {
	var out []string
	add := func(ss []string) {
		for _, s := range ss {
			if s != "" && s != "offline_access" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	add(c.RequiredScopes)
	add(r.RequiredScopes)
	for _, m := range []map[string][]string{r.ToolScopes, r.ResourceScopes, r.PromptScopes} {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			add(m[k])
		}
	}
	return out
}

// RouteRequiredScopes is what every call on route r needs: the global
// required_scopes, then r's required_scopes, each once. Its 401 challenge
// names them.
func (c *Config) RouteRequiredScopes(r Route) []string {
	return union(c.RequiredScopes, r.RequiredScopes)
}

// RouteScopesSupported is route r's PRM scopes_supported (RFC 9728 §2): a
// configured scopes_supported after the route's required scopes (one list
// for every route, yet a client can always ask for what the route
// requires), or by default [Config.RouteScopes].
func (c *Config) RouteScopesSupported(r Route) []string {
	if len(c.ScopesSupported) > 0 {
		return union(c.RouteRequiredScopes(r), c.ScopesSupported)
	}
	return c.RouteScopes(r)
}

// union returns a followed by the members of b not in a.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func setDefault(p *string, v string) {
	if *p == "" {
		*p = v
	}
}
