package config

import (
	"fmt"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// DCREnvPrefix is the prefix of mcp-dcr's environment variables
// (MCPDCR_PUBLIC_URL, ...).
const DCREnvPrefix = "MCPDCR"

// DCR is the whole configuration of mcp-dcr, the RFC 7591/7592 registration
// service for Amazon Cognito. YAML keys are as tagged; environment variables
// are MCPDCR_<KEY> upper-cased, lists comma-separated, durations in Go syntax.
// Zero values of the policy keys mean "the policy's default"
// (dcr.DefaultPolicy); cmd/mcp-dcr applies them.
type DCR struct {
	// Listen is the address `mcp-dcr serve` binds (default 127.0.0.1:8090).
	Listen string `mapstructure:"listen"`
	// PublicURL is the service's issuer identifier (RFC 8414 §2) and the base
	// of its endpoints; a trailing slash is removed. The gateway's
	// authorization_servers must name exactly this value.
	PublicURL string `mapstructure:"public_url"`
	// Region is the AWS region of the user pool and the table.
	Region string `mapstructure:"region"`
	// UserPoolID is the Cognito user pool (<region>_<id>).
	UserPoolID string `mapstructure:"user_pool_id"`
	// Table is the DynamoDB table of registrations.
	Table string `mapstructure:"table"`
	// AWSEndpoint overrides every AWS endpoint (emulators such as moto).
	AWSEndpoint string `mapstructure:"aws_endpoint"`
	// CognitoDomain is the managed-login base URL
	// (https://auth.example.com or https://<prefix>.auth.<region>.amazoncognito.com).
	CognitoDomain string `mapstructure:"cognito_domain"`
	// JWKSURI overrides the pool's key set URL (default
	// https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json,
	// or <aws_endpoint>/<pool>/.well-known/jwks.json with an emulator).
	JWKSURI string `mapstructure:"jwks_uri"`
	// SupportedIdentityProviders are offered by managed login for every
	// registered client (default [COGNITO]; add federated corporate IdPs).
	SupportedIdentityProviders []string `mapstructure:"supported_identity_providers"`
	// ManagedLoginBranding calls CreateManagedLoginBranding for each new
	// client (default true; moto does not implement it).
	ManagedLoginBranding *bool `mapstructure:"managed_login_branding"`
	// Token lifetimes of registered clients (defaults 1h, 1h, 720h).
	AccessTokenValidity  time.Duration `mapstructure:"access_token_validity"`
	IDTokenValidity      time.Duration `mapstructure:"id_token_validity"`
	RefreshTokenValidity time.Duration `mapstructure:"refresh_token_validity"`
	// RefreshTokenRotation turns on Cognito refresh-token rotation for the
	// clients mcp-dcr creates: each refresh returns a new refresh token and
	// the old one stops working after RefreshTokenRotationGrace (0-60 s).
	RefreshTokenRotation      bool          `mapstructure:"refresh_token_rotation"`
	RefreshTokenRotationGrace time.Duration `mapstructure:"refresh_token_rotation_grace"`

	// AllowedScopes bound what a client may register (default: the pool's
	// resource-server scopes, read at start, plus openid).
	AllowedScopes []string `mapstructure:"allowed_scopes"`
	// DefaultScopes are given to clients that register no scope, and
	// replace a missing scope in authorization requests to the bridge's
	// /authorize (limited to the client's registered scopes when it is in
	// the store). Unset: registrations get all allowed scopes and
	// authorization requests go to Cognito without scope.
	DefaultScopes []string `mapstructure:"default_scopes"`
	// RedirectURIPatterns admit redirect URIs beyond the built-in defaults.
	RedirectURIPatterns []string `mapstructure:"redirect_uri_patterns"`
	// DisableDefaultRedirects drops the built-in patterns for known clients.
	DisableDefaultRedirects bool `mapstructure:"disable_default_redirects"`
	// PrivateUseSchemes are the RFC 8252 §7.1 schemes admitted (e.g. cursor).
	PrivateUseSchemes []string `mapstructure:"private_use_schemes"`
	// AllowClientCredentials admits confidential client_credentials clients.
	AllowClientCredentials bool `mapstructure:"allow_client_credentials"`
	// MaxRegistrations is the ceiling below the pool's app-client quota.
	MaxRegistrations int `mapstructure:"max_registrations"`
	// AppClientQuota is the pool's app-client quota (Cognito's default
	// 1,000); max_registrations must stay below it.
	AppClientQuota int `mapstructure:"app_client_quota"`
	// InsecureAnyHTTPSRedirect admits every https redirect URI (open
	// registration). Unsafe: managed login shows no consent screen.
	InsecureAnyHTTPSRedirect bool `mapstructure:"insecure_any_https_redirect"`
	// RegistrationTTL is how long a registration lives before gc removes it.
	RegistrationTTL time.Duration `mapstructure:"registration_ttl"`
	// ReusePublicRegistrations returns an identical public client's earlier
	// registration instead of creating another app client (unset: policy default).
	ReusePublicRegistrations *bool `mapstructure:"reuse_public_registrations"`
	// ClientNamePrefix is prepended to Cognito app client names.
	ClientNamePrefix string `mapstructure:"client_name_prefix"`
	// LoopbackCallbackLimit is how many port-specific loopback callback
	// URLs an app client keeps (added when a client registered the portless
	// form and uses a port), least recently used evicted first, never one
	// used in the last 10 minutes (default 20, 1..99;
	// dcr.Policy.LoopbackCallbackLimit).
	LoopbackCallbackLimit int `mapstructure:"loopback_callback_limit"`

	// RateLimit is requests per source per minute (default 10) on
	// registration (/register, /register/*) and on the Cognito writes the
	// CIMD bridge's /authorize and /token cause (a new or changed client
	// metadata document, a loopback callback URL added or refreshed), all
	// spending one bucket per source; RateLimitBurst the bucket size
	// (default 10).
	RateLimit      int `mapstructure:"rate_limit"`
	RateLimitBurst int `mapstructure:"rate_limit_burst"`
	// InitialAccessToken, when set, is required as a Bearer token on POST
	// /register (RFC 7591 §3); at least 32 characters.
	InitialAccessToken string `mapstructure:"initial_access_token"`
	// MaxBodyBytes caps registration request bodies (default 16384).
	MaxBodyBytes int64 `mapstructure:"max_body_bytes"`
	// TrustForwardedFor takes the rate-limit source from the first
	// X-Forwarded-For hop; set it only behind a proxy that overwrites it.
	TrustForwardedFor bool `mapstructure:"trust_forwarded_for"`

	// MetricsListen, when set (host:port), serves Prometheus /metrics on
	// its own listener; empty: /metrics on Listen (`mcp-dcr serve`; under
	// Lambda the metrics are CloudWatch Embedded Metric Format log lines).
	MetricsListen string `mapstructure:"metrics_listen"`
	// TLSCertFile and TLSKeyFile make `mcp-dcr serve` serve HTTPS itself
	// (TLS 1.2 minimum; reloaded when the files change).
	TLSCertFile string `mapstructure:"tls_cert_file"`
	TLSKeyFile  string `mapstructure:"tls_key_file"`
	// InsecureAllowHTTPPublicURL admits an http:// public_url outside
	// loopback (a lab without TLS). Never set it in production.
	InsecureAllowHTTPPublicURL bool `mapstructure:"insecure_allow_http_public_url"`

	// CIMDEnabled mounts the Client ID Metadata Document bridge (default true).
	CIMDEnabled *bool `mapstructure:"cimd_enabled"`
	// InsecureCIMDAllowLoopback lets the CIMD fetcher reach loopback
	// addresses. Tests only; never in production.
	InsecureCIMDAllowLoopback bool `mapstructure:"insecure_cimd_allow_loopback"`

	// LogLevel is debug, info, warn or error; LogFormat is text or json.
	LogLevel  string `mapstructure:"log_level"`
	LogFormat string `mapstructure:"log_format"`
}

// mcp-dcr defaults.
const (
	DefaultDCRListen            = "127.0.0.1:8090"
	DefaultAccessTokenValidity  = dcr.DefaultAccessTokenValidity
	DefaultIDTokenValidity      = dcr.DefaultIDTokenValidity
	DefaultRefreshTokenValidity = dcr.DefaultRefreshTokenValidity
	DefaultDCRRateLimit         = 10
	DefaultDCRRateLimitBurst    = 10
	DefaultDCRMaxBodyBytes      = 16 << 10
	MinInitialAccessTokenLength = 32
	DefaultIdentityProvider     = "COGNITO"
)

// LoadDCR reads mcp-dcr's configuration like [Load] (environment > .env >
// file > defaults; unknown keys are errors) with prefix MCPDCR_, applies
// defaults and validates.
func LoadDCR(opts LoadOptions) (*DCR, error) {
	var c DCR
	if err := load(opts, DCREnvPrefix, DCRKeys(), &c, c.ApplyDefaults, c.check, emptyIsUnset); err != nil {
		return nil, err
	}
	return &c, nil
}

// DCRKeys lists every mcp-dcr configuration key.
func DCRKeys() []string { return keysOf(reflect.TypeOf(DCR{})) }

// ApplyDefaults fills unset fields. Policy keys stay zero (the policy's
// defaults apply).
func (c *DCR) ApplyDefaults() {
	setDefault(&c.Listen, DefaultDCRListen)
	setDefault(&c.LogLevel, "info")
	setDefault(&c.LogFormat, "text")
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	c.CognitoDomain = strings.TrimRight(c.CognitoDomain, "/")
	switch {
	case c.JWKSURI != "" || c.UserPoolID == "":
	case c.AWSEndpoint != "": // emulators (moto) serve the pool's keys under the endpoint
		c.JWKSURI = strings.TrimRight(c.AWSEndpoint, "/") + "/" + c.UserPoolID + "/.well-known/jwks.json"
	case c.Region != "":
		c.JWKSURI = "https://cognito-idp." + c.Region + ".amazonaws.com/" + c.UserPoolID + "/.well-known/jwks.json"
	}
	if len(c.SupportedIdentityProviders) == 0 {
		c.SupportedIdentityProviders = []string{DefaultIdentityProvider}
	}
	if c.ManagedLoginBranding == nil {
		c.ManagedLoginBranding = ptr(true)
	}
	if c.CIMDEnabled == nil {
		c.CIMDEnabled = ptr(true)
	}
	setDuration(&c.AccessTokenValidity, DefaultAccessTokenValidity)
	setDuration(&c.IDTokenValidity, DefaultIDTokenValidity)
	setDuration(&c.RefreshTokenValidity, DefaultRefreshTokenValidity)
	if c.RateLimit == 0 {
		c.RateLimit = DefaultDCRRateLimit
	}
	if c.RateLimitBurst == 0 {
		c.RateLimitBurst = DefaultDCRRateLimitBurst
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultDCRMaxBodyBytes
	}
}

// Branding reports whether managed-login branding is created (nil = true).
func (c *DCR) Branding() bool { return c.ManagedLoginBranding == nil || *c.ManagedLoginBranding }

// CIMD reports whether the CIMD bridge is mounted (nil = true).
func (c *DCR) CIMD() bool { return c.CIMDEnabled == nil || *c.CIMDEnabled }

var (
	regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	poolIDRE = regexp.MustCompile(`^([a-z]{2}(-[a-z]+)+-[0-9]+)_[0-9a-zA-Z]+$`)
	tableRE  = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)
)

// Validate reports every problem at once, each naming its key. The
// registration-policy and token-lifetime keys are checked with package dcr's
// rules (the ones the service applies at start). It does not contact AWS:
// that the pool, table and domain exist is NOT checked, nor that the scopes
// exist on the pool's resource server.
func (c *DCR) Validate() error { return c.check().err() }

// check is Validate's list of problems.
func (c *DCR) check() problems {
	var errs problems
	bad := errs.add
	checkServer(bad, c.Listen, c.PublicURL, "the service's issuer identifier and endpoint base", c.InsecureAllowHTTPPublicURL)
	checkTLSFiles(bad, c.TLSCertFile, c.TLSKeyFile)
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			bad("metrics_listen", "%q is not host:port: %v", c.MetricsListen, err)
		}
	}
	if c.Region == "" {
		bad("region", "is required (e.g. us-east-1)")
	} else if !regionRE.MatchString(c.Region) {
		bad("region", "%q is not an AWS region name such as us-east-1", c.Region)
	}
	switch m := poolIDRE.FindStringSubmatch(c.UserPoolID); {
	case c.UserPoolID == "":
		bad("user_pool_id", "is required (e.g. us-east-1_AbC123)")
	case m == nil:
		bad("user_pool_id", "%q is not a user pool id (<region>_<id>)", c.UserPoolID)
	case c.Region != "" && m[1] != c.Region:
		bad("user_pool_id", "%q belongs to region %s, not %s", c.UserPoolID, m[1], c.Region)
	}
	if c.Table == "" {
		bad("table", "is required (the DynamoDB table of registrations)")
	} else if !tableRE.MatchString(c.Table) {
		bad("table", "%q is not a DynamoDB table name ([a-zA-Z0-9_.-], 3 to 255)", c.Table)
	}
	if c.AWSEndpoint != "" {
		if u, err := url.Parse(c.AWSEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("aws_endpoint", "%q is not an absolute http(s) URL", c.AWSEndpoint)
		}
	}
	if c.CognitoDomain == "" {
		bad("cognito_domain", "is required (the managed-login base URL)")
	} else if err := checkOrigin(c.CognitoDomain); err != nil {
		bad("cognito_domain", "%v", err)
	} else if err := checkPublicURL(c.CognitoDomain, false); err != nil {
		bad("cognito_domain", "%v", err)
	}
	if c.JWKSURI != "" {
		if err := checkPublicURL(c.JWKSURI, false); err != nil {
			bad("jwks_uri", "%v", err)
		}
	}
	for i, p := range c.SupportedIdentityProviders {
		if p == "" || utf8.RuneCountInString(p) > 32 || strings.ContainsAny(p, ", \t") {
			bad(fmt.Sprintf("supported_identity_providers[%d]", i), "%q is not an identity provider name (1 to 32 characters, no spaces or commas)", p)
		}
	}
	c.validateTokens(bad)
	c.validatePolicy(bad)
	c.validateAbuse(bad)
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		bad("log_level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log_format", "%q is not text or json", c.LogFormat)
	}
	return errs
}

// validateTokens checks the token lifetimes against Cognito's rules
// (dcr.CheckAccessTokenValidity, dcr.CheckRefreshTokenValidity).
func (c *DCR) validateTokens(bad func(key, format string, args ...any)) {
	for _, v := range []struct {
		key string
		d   time.Duration
	}{{"access_token_validity", c.AccessTokenValidity}, {"id_token_validity", c.IDTokenValidity}} {
		if err := dcr.CheckAccessTokenValidity(v.d); err != nil {
			bad(v.key, "%s %v", v.d, err)
		}
	}
	if g := c.RefreshTokenRotationGrace; g < 0 || g > time.Minute || g%time.Second != 0 {
		bad("refresh_token_rotation_grace", "%s must be whole seconds from 0s to 60s", g)
	}
	if err := dcr.CheckRefreshTokenValidity(c.RefreshTokenValidity, c.AccessTokenValidity, c.IDTokenValidity); err != nil {
		bad("refresh_token_validity", "%s %v (access_token_validity %s, id_token_validity %s)", c.RefreshTokenValidity, err, c.AccessTokenValidity, c.IDTokenValidity)
	}
}

// validatePolicy checks the registration-policy keys with the rules of
// package dcr, which owns them (the same checks dcr.Policy.Validate makes at
// start), and reports each problem under its key. Unset (zero) keys stand
// for the policy's defaults, and are checked as such.
func (c *DCR) validatePolicy(bad func(key, format string, args ...any)) {
	for _, l := range []struct {
		key    string
		scopes []string
	}{{"allowed_scopes", c.AllowedScopes}, {"default_scopes", c.DefaultScopes}} {
		for i, s := range l.scopes {
			if err := dcr.CheckAllowedScope(s); err != nil {
				bad(fmt.Sprintf("%s[%d]", l.key, i), "%q: %v", s, err)
			}
		}
	}
	if len(c.AllowedScopes) > 0 { // unset: the pool's scopes, known only at start
		for i, s := range c.DefaultScopes {
			if err := dcr.CheckDefaultScope(s, c.AllowedScopes); err != nil {
				bad(fmt.Sprintf("default_scopes[%d]", i), "%q: %v (allowed_scopes)", s, err)
			}
		}
	}
	for i, p := range c.RedirectURIPatterns {
		if err := dcr.CheckRedirectPattern(p); err != nil {
			bad(fmt.Sprintf("redirect_uri_patterns[%d]", i), "%q: %v", p, err)
		}
	}
	for i, s := range c.PrivateUseSchemes {
		if err := dcr.CheckPrivateUseScheme(s); err != nil {
			bad(fmt.Sprintf("private_use_schemes[%d]", i), "%q is not an admissible private-use URI scheme (RFC 8252 section 7.1): %v", s, err)
		}
	}
	quota, quotaNote := c.AppClientQuota, ""
	if quota == 0 {
		quota, quotaNote = dcr.DefaultAppClientQuota, " (app_client_quota unset: Cognito's default quota; raise it if yours is higher)"
	}
	limit, limitNote := c.MaxRegistrations, ""
	if limit == 0 {
		limit, limitNote = dcr.DefaultMaxRegistrations, " (unset: the policy default)"
	}
	if err := dcr.CheckAppClientQuota(quota); err != nil {
		bad("app_client_quota", "%d %v (0: Cognito's default %d)", quota, err, dcr.DefaultAppClientQuota)
	} else if err := dcr.CheckMaxRegistrations(limit, quota); err != nil {
		bad("max_registrations", "%d%s %v%s", limit, limitNote, err, quotaNote)
	}
	if err := dcr.CheckRegistrationTTL(c.RegistrationTTL); err != nil {
		bad("registration_ttl", "%s %v (unset: the policy default)", c.RegistrationTTL, err)
	}
	if err := dcr.CheckClientNamePrefix(c.ClientNamePrefix); err != nil {
		bad("client_name_prefix", "%q: %v", c.ClientNamePrefix, err)
	}
	if c.LoopbackCallbackLimit != 0 {
		if err := dcr.CheckLoopbackCallbackLimit(c.LoopbackCallbackLimit); err != nil {
			bad("loopback_callback_limit", "%d %v (unset: %d)", c.LoopbackCallbackLimit, err, dcr.DefaultLoopbackCallbackLimit)
		}
	}
}

func (c *DCR) validateAbuse(bad func(key, format string, args ...any)) {
	if c.RateLimit < 1 || c.RateLimit > 100000 {
		bad("rate_limit", "%d is outside 1..100000 requests per source per minute", c.RateLimit)
	}
	if c.RateLimitBurst < 1 || c.RateLimitBurst > 10000 {
		bad("rate_limit_burst", "%d is outside 1..10000", c.RateLimitBurst)
	}
	if c.InitialAccessToken != "" && len(c.InitialAccessToken) < MinInitialAccessTokenLength {
		bad("initial_access_token", "is %d characters; use at least %d random characters", len(c.InitialAccessToken), MinInitialAccessTokenLength)
	}
	if c.InitialAccessToken != "" && !bearer.IsB64Token(c.InitialAccessToken) {
		bad("initial_access_token", "must be a b64token (RFC 6750 section 2.1: letters, digits, -._~+/ and trailing =)")
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 1<<20 {
		bad("max_body_bytes", "%d is outside 1024..1048576", c.MaxBodyBytes)
	}
}

// emptyIsUnset decodes an empty string (MCPDCR_X= in a .env file) into a
// number, duration, bool or *bool as its zero value, i.e. "use the default".
func emptyIsUnset(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || data.(string) != "" {
		return data, nil
	}
	switch to.Kind() {
	case reflect.String, reflect.Slice:
		return data, nil
	}
	return reflect.Zero(to).Interface(), nil
}

func setDuration(p *time.Duration, v time.Duration) {
	if *p == 0 {
		*p = v
	}
}

func ptr[T any](v T) *T { return &v }
