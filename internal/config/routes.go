package config

import (
	"fmt"
	"maps"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Route is one protected MCP endpoint and what it fronts. Each route is its
// own protected resource: resource identifier public_url + path, its own
// path-inserted metadata and accepted audience.
type Route struct {
	// Path is where the route is served, e.g. /mcp or /mcp/github.
	Path string `mapstructure:"path"`
	// Upstream is "builtin", an http(s):// MCP URL, or a stdio command line
	// (split on spaces, no shell; Args are appended).
	Upstream string `mapstructure:"upstream"`
	// Transport of an HTTP upstream: "streamable" (default; MCP Streamable
	// HTTP, every generation) or "sse" (the 2024-11-05 HTTP+SSE transport).
	Transport string `mapstructure:"transport"`
	// Args, Env and Dir complete a stdio command: extra arguments, extra
	// environment variables (the gateway's own environment is not passed
	// except PATH and HOME), and the working directory.
	Args []string          `mapstructure:"args"`
	Env  map[string]string `mapstructure:"env"`
	Dir  string            `mapstructure:"dir"`
	// RequiredScopes are needed by every call on this route, added to the
	// global RequiredScopes.
	RequiredScopes []string `mapstructure:"required_scopes"`
	// ToolScopes, ResourceScopes and PromptScopes map a tool name, resource
	// URI or prompt name (or a glob with *) to the scopes using it needs.
	// tools/list, resources/list and prompts/list show only what the caller
	// may use.
	ToolScopes     map[string][]string `mapstructure:"tool_scopes"`
	ResourceScopes map[string][]string `mapstructure:"resource_scopes"`
	PromptScopes   map[string][]string `mapstructure:"prompt_scopes"`
	// Identity is what the upstream learns of the caller: "none" (default),
	// "hmac" or "jws" (signed identity headers, key in IdentityKeyEnv),
	// "static" (a fixed credential from StaticCredentialEnv), or "exchange"
	// and "entra-obo" (a token the IdP mints for the upstream from the
	// client's token; see [TokenExchange]). A stdio route whose identity is
	// not "none" passes the caller as MCP_GATEWAY_* environment variables
	// instead and needs no key. The client's token and cookies are never
	// forwarded.
	Identity string `mapstructure:"identity"`
	// IdentityKeyEnv names the environment variable holding the HMAC key
	// (hmac, at least 32 bytes) or the PEM private key (jws).
	IdentityKeyEnv string `mapstructure:"identity_key_env"`
	// StaticCredentialEnv names the environment variable whose value is sent
	// upstream as the Authorization header (identity "static").
	StaticCredentialEnv string `mapstructure:"static_credential_env"`
	// TokenExchange configures identity "exchange" and "entra-obo".
	TokenExchange `mapstructure:",squash"`
	// Timeout bounds an upstream request until its response starts (default
	// 60s); streams then run until either side ends them.
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxStreamsPerPrincipal caps one caller's requests in flight on this
	// route (default 64): POSTs from their first body byte to their last
	// response byte, and open GET streams, on every upstream kind. Over
	// it: 429 with Retry-After.
	MaxStreamsPerPrincipal int `mapstructure:"max_streams_per_principal"`
	// MaxProcesses caps a stdio route's processes (default 16).
	MaxProcesses int `mapstructure:"max_processes"`
	// MaxProcessesPerPrincipal caps one caller's processes (sessions) on a
	// stdio route (default 4): a new session beyond it ends that caller's
	// least recently used idle session, or gets 429 if none is idle.
	MaxProcessesPerPrincipal int `mapstructure:"max_processes_per_principal"`
}

// Route kinds.
const (
	KindBuiltin = "builtin"
	KindHTTP    = "http"
	KindStdio   = "stdio"
	// KindUnsupported is an upstream that looks like a URL (scheme://) with
	// a scheme other than http or https: Validate refuses it rather than
	// run it as a command.
	KindUnsupported = "unsupported"
)

// urlLike matches an upstream that starts with an RFC 3986 §3.1 scheme and
// "://".
var urlLike = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// Kind is "builtin", "http" (an http(s):// upstream; the scheme is
// case-insensitive), "unsupported" (any other scheme://) or "stdio".
func (r Route) Kind() string {
	switch scheme := r.Scheme(); {
	case r.Upstream == BuiltinUpstream:
		return KindBuiltin
	case scheme == "":
		return KindStdio
	case scheme == "http", scheme == "https":
		return KindHTTP
	default:
		return KindUnsupported
	}
}

// Scheme is the scheme of a URL-like upstream, lower-cased; "" otherwise.
func (r Route) Scheme() string {
	if !urlLike.MatchString(r.Upstream) {
		return ""
	}
	scheme, _, _ := strings.Cut(r.Upstream, "://")
	return strings.ToLower(scheme)
}

// Command is a stdio route's argv: the upstream's words then Args.
func (r Route) Command() []string {
	return append(strings.Fields(r.Upstream), r.Args...)
}

func (r *Route) applyDefaults() {
	setDefault(&r.Upstream, BuiltinUpstream)
	setDefault(&r.Identity, "none")
	r.TokenExchange.applyDefaults(r.Identity)
	if r.Kind() == KindHTTP {
		setDefault(&r.Transport, "streamable")
	}
	if r.Timeout == 0 {
		r.Timeout = 60 * time.Second
	}
	if r.MaxStreamsPerPrincipal == 0 {
		r.MaxStreamsPerPrincipal = DefaultMaxStreamsPerPrincipal
	}
	if r.MaxProcesses == 0 {
		r.MaxProcesses = 16
	}
	if r.MaxProcessesPerPrincipal == 0 {
		r.MaxProcessesPerPrincipal = min(DefaultMaxProcessesPerPrincipal, r.MaxProcesses)
	}
}

func (c *Config) validateRoutes(bad func(key, format string, args ...any)) {
	seen := map[string]bool{}
	for i, r := range c.Routes {
		key := fmt.Sprintf("routes[%d]", i)
		switch {
		case !strings.HasPrefix(r.Path, "/"):
			bad(key+".path", "%q must start with /", r.Path)
		case strings.HasPrefix(r.Path, "/.well-known"), r.Path == "/healthz", r.Path == "/readyz", strings.TrimSuffix(r.Path, "/") == "/metrics":
			bad(key+".path", "%q is reserved", r.Path)
		case strings.ContainsAny(r.Path, "?#*:{}") || strings.Contains(r.Path, "//") || path.Clean(r.Path) != strings.TrimSuffix(r.Path, "/") && r.Path != "/":
			bad(key+".path", "%q must be a plain path", r.Path)
		case seen[strings.TrimSuffix(r.Path, "/")]:
			bad(key+".path", "%q is used by another route", r.Path)
		}
		seen[strings.TrimSuffix(r.Path, "/")] = true
		r.validateUpstream(key, bad)
		c.validateExchange(r, key, bad)
		checkScopes(bad, key+".required_scopes", r.RequiredScopes)
		for _, m := range []struct {
			name     string
			patterns map[string][]string
		}{{"tool_scopes", r.ToolScopes}, {"resource_scopes", r.ResourceScopes}, {"prompt_scopes", r.PromptScopes}} {
			for _, pattern := range slices.Sorted(maps.Keys(m.patterns)) {
				scopes := m.patterns[pattern]
				if pattern == "" || len(scopes) == 0 {
					bad(key+"."+m.name, "%q must name at least one scope", pattern)
				}
				checkScopes(bad, fmt.Sprintf("%s.%s[%q]", key, m.name, pattern), scopes)
			}
		}
	}
}

func (r Route) validateUpstream(key string, bad func(key, format string, args ...any)) {
	switch r.Kind() {
	case KindHTTP:
		u, err := url.Parse(r.Upstream)
		if err != nil || u.Host == "" || u.Fragment != "" || u.User != nil {
			bad(key+".upstream", "%q is not a plain http(s) URL", r.Upstream)
		}
		if r.Transport != "streamable" && r.Transport != "sse" {
			bad(key+".transport", "%q is not streamable or sse", r.Transport)
		}
	case KindStdio:
		if len(r.Command()) == 0 {
			bad(key+".upstream", "is empty: builtin, an http(s) URL or a command")
		}
		if r.Transport != "" {
			bad(key+".transport", "applies to http(s) upstreams only")
		}
	case KindUnsupported:
		bad(key+".upstream", "%q: scheme %s is not supported; an upstream is builtin, an http(s):// MCP URL or a stdio command", r.Upstream, r.Scheme())
	case KindBuiltin:
		if r.Identity != "none" {
			bad(key+".identity", "applies to http(s) and stdio upstreams only")
		}
	}
	switch r.Identity {
	case "none":
	case "hmac", "jws":
		// A stdio process gets the identity as plain environment
		// variables (only the gateway can write it): no key to name.
		if r.IdentityKeyEnv == "" && r.Kind() == KindHTTP {
			bad(key+".identity_key_env", "is required with identity %q", r.Identity)
		}
	case "static":
		if r.StaticCredentialEnv == "" && r.Kind() == KindHTTP {
			bad(key+".static_credential_env", "is required with identity static")
		}
	case IdentityExchange, IdentityEntraOBO:
	default:
		bad(key+".identity", "%q is not none, hmac, jws, static, exchange or entra-obo", r.Identity)
	}
	if r.Timeout < 0 || r.MaxStreamsPerPrincipal < 0 || r.MaxProcesses < 0 || r.MaxProcessesPerPrincipal < 0 {
		bad(key, "timeout, max_streams_per_principal, max_processes and max_processes_per_principal must not be negative")
	}
	if r.Kind() == KindStdio && r.MaxProcessesPerPrincipal > r.MaxProcesses && r.MaxProcesses > 0 {
		bad(key+".max_processes_per_principal", "%d is above max_processes (%d)", r.MaxProcessesPerPrincipal, r.MaxProcesses)
	}
}
