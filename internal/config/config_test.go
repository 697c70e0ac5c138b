package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func valid() Config {
	c := Config{PublicURL: "https://mcp.example.com", Issuer: "https://login.example.com/oauth2/default"}
	c.ApplyDefaults()
	return c
}

func TestValidateProblems(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // substring naming the key
	}{
		{"missing issuer", func(c *Config) { c.Issuer = "" }, "issuer: is required"},
		{"missing public_url", func(c *Config) { c.PublicURL = "" }, "public_url: is required"},
		{"relative public_url", func(c *Config) { c.PublicURL = "/mcp" }, "public_url:"},
		{"public_url fragment", func(c *Config) { c.PublicURL = "https://h.example/#x" }, "fragment"},
		{"public_url query", func(c *Config) { c.PublicURL = "https://h.example/?a=b" }, "public_url:"},
		{"public_url http non-loopback", func(c *Config) { c.PublicURL = "http://h.example" }, "public_url:"},
		{"unknown provider", func(c *Config) { c.Provider = "ping" }, `provider: "ping" is not one of`},
		{"http issuer remote", func(c *Config) { c.Issuer = "http://idp.example.com" }, "issuer:"},
		{"ftp issuer", func(c *Config) { c.Issuer = "ftp://idp.example.com" }, "issuer:"},
		{"http jwks remote", func(c *Config) { c.JWKSURI = "http://idp.example.com/jwks" }, "jwks_uri:"},
		{"http discovery remote", func(c *Config) { c.DiscoveryURL = "http://idp.example.com/d" }, "discovery_url:"},
		{"bad listen", func(c *Config) { c.Listen = "8080" }, "listen:"},
		{"leeway too large", func(c *Config) { c.Leeway = time.Hour }, "leeway:"},
		{"token cache too long", func(c *Config) { c.TokenCacheTTL = time.Hour }, "token_cache_ttl:"},
		{"token cap tiny", func(c *Config) { c.MaxTokenBytes = 10 }, "max_token_bytes:"},
		{"bad scope", func(c *Config) { c.RequiredScopes = []string{"a b"} }, "required_scopes[0]:"},
		{"wildcard origin", func(c *Config) { c.AllowedOrigins = []string{"*"} }, "allowed_origins:"},
		{"origin with path", func(c *Config) { c.AllowedOrigins = []string{"https://a.example/x"} }, "allowed_origins:"},
		{"missing-aud switch without allowlist", func(c *Config) { c.Provider, c.InsecureAllowMissingAudience = "cognito", true },
			"insecure_allow_missing_audience: needs allowed_client_ids or client_ids_table"},
		{"missing-aud switch on okta", func(c *Config) {
			c.Provider, c.AllowedClientIDs, c.InsecureAllowMissingAudience = "okta", []string{"abc"}, true
		}, "insecure_allow_missing_audience: provider okta always puts aud"},
		{"table without region", func(c *Config) { c.ClientIDsTable = "regs" }, "aws_region:"},
		{"table cache too long", func(c *Config) {
			c.ClientIDsTable, c.AWSRegion, c.ClientIDsCacheTTL = "regs", "us-east-1", time.Hour
		}, "client_ids_cache_ttl:"},
		{"remote http aws endpoint", func(c *Config) { c.AWSEndpoint = "http://aws.example" }, "aws_endpoint:"},
		{"short session secret", func(c *Config) { c.SessionSecret = "short" }, "session_secret:"},
		{"negative stream keepalive", func(c *Config) { c.StreamKeepalive = ptr(-time.Second) }, "stream_keepalive:"},
		{"bad transport", func(c *Config) {
			c.Routes = []Route{{Path: "/mcp", Upstream: "https://up.example/mcp", Transport: "ws"}}
		}, "routes[0].transport"},
		{"ftp upstream", func(c *Config) { c.Routes = []Route{{Path: "/mcp", Upstream: "ftp://files.example/mcp"}} },
			`routes[0].upstream: "ftp://files.example/mcp": scheme ftp is not supported; an upstream is builtin, an http(s):// MCP URL or a stdio command`},
		{"websocket upstream", func(c *Config) { c.Routes = []Route{{Path: "/mcp", Upstream: "WS://up.example/mcp"}} },
			`routes[0].upstream: "WS://up.example/mcp": scheme ws is not supported`},
		{"transport on stdio", func(c *Config) { c.Routes = []Route{{Path: "/mcp", Upstream: "npx srv", Transport: "sse"}} }, "routes[0].transport"},
		{"hmac without key", func(c *Config) {
			c.Routes = []Route{{Path: "/mcp", Upstream: "https://up.example/mcp", Identity: "hmac"}}
		}, "identity_key_env"},
		{"static without env", func(c *Config) {
			c.Routes = []Route{{Path: "/mcp", Upstream: "https://up.example/mcp", Identity: "static"}}
		}, "static_credential_env"},
		{"unknown identity", func(c *Config) { c.Routes = []Route{{Path: "/mcp", Upstream: "srv", Identity: "token"}} }, "routes[0].identity"},
		{"identity on builtin", func(c *Config) {
			c.Routes = []Route{{Path: "/mcp", Upstream: "builtin", Identity: "hmac", IdentityKeyEnv: "K"}}
		}, "routes[0].identity"},
		{"tool scope empty", func(c *Config) {
			c.Routes = []Route{{Path: "/mcp", ToolScopes: map[string][]string{"x": nil}}}
		}, "routes[0].tool_scopes"},
		{"route path with dots", func(c *Config) { c.Routes = []Route{{Path: "/mcp/../admin"}} }, "routes[0].path"},
		{"route path relative", func(c *Config) { c.Routes = []Route{{Path: "mcp", Upstream: "builtin"}} }, "routes[0].path"},
		{"route path reserved", func(c *Config) { c.Routes = []Route{{Path: "/.well-known/x", Upstream: "builtin"}} }, "reserved"},
		{"route path /metrics", func(c *Config) { c.Routes = []Route{{Path: "/metrics", Upstream: "builtin"}} }, "reserved"},
		{"route path /metrics/", func(c *Config) { c.Routes = []Route{{Path: "/metrics/", Upstream: "builtin"}} }, "reserved"},
		{"route duplicate", func(c *Config) {
			c.Routes = []Route{{Path: "/mcp", Upstream: "builtin"}, {Path: "/mcp/", Upstream: "builtin"}}
		}, "routes[1].path"},
		{"bad authorization server", func(c *Config) { c.AuthorizationServers = []string{"not a url"} }, "authorization_servers[0]"},
		{"bad log level", func(c *Config) { c.LogLevel = "loud" }, "log_level:"},
		{"tls cert without key", func(c *Config) { c.TLSCertFile = "/etc/tls/cert.pem" }, "tls_key_file: is required with tls_cert_file"},
		{"tls key without cert", func(c *Config) { c.TLSKeyFile = "/etc/tls/key.pem" }, "tls_cert_file: is required with tls_key_file"},
		{"metrics_listen not host:port", func(c *Config) { c.MetricsListen = "9090" }, "metrics_listen:"},
		{"metrics_listen on listen", func(c *Config) { c.MetricsListen = c.Listen }, "metrics_listen:"},
		{"body_read_timeout too long", func(c *Config) { c.BodyReadTimeout = time.Hour }, "body_read_timeout:"},
		{"negative burst", func(c *Config) { c.RateLimitPerPrincipalBurst = -1 }, "rate_limit_per_principal_burst:"},
		{"bad trusted proxy", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/33"} }, "trusted_proxies:"},
		{"per-principal processes above the route's", func(c *Config) {
			c.Routes = []Route{{Path: "/mcp", Upstream: "srv", MaxProcesses: 2, MaxProcessesPerPrincipal: 3}}
		}, "routes[0].max_processes_per_principal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"defaults", func(*Config) {}},
		{"loopback http issuer", func(c *Config) { c.Issuer = "http://127.0.0.1:8081" }},
		{"localhost public url", func(c *Config) { c.PublicURL = "http://localhost:8080" }},
		{"insecure switch", func(c *Config) { c.Issuer = "http://idp.lab"; c.InsecureAllowHTTPIssuer = true }},
		{"stream keepalive disabled", func(c *Config) { c.StreamKeepalive = ptr(time.Duration(0)) }},
		{"http public url with the insecure switch", func(c *Config) {
			c.PublicURL, c.InsecureAllowHTTPPublicURL = "http://gateway.lab:8080", true
		}},
		{"tls files", func(c *Config) { c.TLSCertFile, c.TLSKeyFile = "/etc/tls/cert.pem", "/etc/tls/key.pem" }},
		{"trusted proxies", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/16", "192.0.2.7", "2001:db8::/32"} }},
		{"rate limits disabled", func(c *Config) { c.RateLimitPerIP, c.RateLimitPerPrincipal = -1, -1 }},
		// The per-principal default never exceeds a smaller max_processes.
		{"two processes", func(c *Config) {
			c.Routes = []Route{{Path: "/mcp", Upstream: "srv", MaxProcesses: 2}}
			c.ApplyDefaults()
		}},
		// Cognito access tokens with resource binding carry aud: no allowlist needed.
		{"cognito without client ids", func(c *Config) { c.Provider = "cognito" }},
		{"cognito with client ids", func(c *Config) { c.Provider = "cognito"; c.AllowedClientIDs = []string{"abc"} }},
		{"cognito missing-aud switch with client ids", func(c *Config) {
			c.Provider, c.AllowedClientIDs, c.InsecureAllowMissingAudience = "cognito", []string{"abc"}, true
		}},
		{"cognito missing-aud switch with registrations table", func(c *Config) {
			c.Provider, c.ClientIDsTable, c.AWSRegion, c.InsecureAllowMissingAudience = "cognito", "regs", "us-east-1", true
		}},
		{"cognito with registrations table", func(c *Config) {
			c.Provider, c.ClientIDsTable, c.AWSRegion, c.AWSEndpoint = "cognito", "regs", "us-east-1", "http://127.0.0.1:5000"
		}},
		// stdio processes get the identity as MCP_GATEWAY_* variables: no key.
		{"stdio identity without key", func(c *Config) {
			c.Routes = []Route{{Path: "/a", Upstream: "srv", Identity: "hmac"}, {Path: "/b", Upstream: "srv", Identity: "static"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.mutate(&c)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
		})
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	c := Config{Provider: "nope", Listen: "x"}
	c.ApplyDefaults()
	err := c.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, key := range []string{"listen:", "public_url:", "issuer:", "provider:"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %q does not mention %s", err, key)
		}
	}
}

func TestLoadFile(t *testing.T) {
	c, err := Load(LoadOptions{File: "testdata/gateway.yaml", Environ: []string{}, DotEnv: os.DevNull})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9090" || c.Provider != "cognito" || c.Leeway != 30*time.Second {
		t.Fatalf("unexpected %+v", c)
	}
	if got := strings.Join(c.AllowedClientIDs, ","); got != "client-a,client-b" {
		t.Fatalf("allowed_client_ids = %q", got)
	}
	if got := c.Routes[0].ToolScopes["echo"]; len(got) != 1 || got[0] != "mcp/echo" {
		t.Fatalf("tool_scopes = %v", c.Routes[0].ToolScopes)
	}
	if got := strings.Join(c.RouteScopes(c.Routes[0]), ","); got != "mcp/tools,mcp/echo" || c.ScopesSupported != nil {
		t.Fatalf("route scopes = %q, scopes_supported = %v", got, c.ScopesSupported)
	}
	if got := c.AuthorizationServers; len(got) != 1 || got[0] != c.Issuer {
		t.Fatalf("authorization_servers default = %v", got)
	}
}

func TestLoadEnvOverridesFileAndSplitsLists(t *testing.T) {
	env := []string{
		"MCPGW_LISTEN=127.0.0.1:7000",
		"MCPGW_ALLOWED_CLIENT_IDS= x , y ,",
		"MCPGW_LEEWAY=5s",
		"MCPGW_INSECURE_ALLOW_LOOPBACK_ORIGINS=true",
		`MCPGW_ROUTES=[{"path":"/mcp/a","upstream":"builtin","required_scopes":["a"]}]`,
		"OTHER_LISTEN=ignored",
	}
	c, err := Load(LoadOptions{File: "testdata/gateway.yaml", Environ: env, DotEnv: os.DevNull})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:7000" || c.Leeway != 5*time.Second || !c.InsecureAllowLoopbackOrigins {
		t.Fatalf("env not applied: %+v", c)
	}
	if got := strings.Join(c.AllowedClientIDs, "|"); got != "x|y" {
		t.Fatalf("list = %q", got)
	}
	if len(c.Routes) != 1 || c.Routes[0].Path != "/mcp/a" || c.Routes[0].RequiredScopes[0] != "a" {
		t.Fatalf("routes = %+v", c.Routes)
	}
}

func TestLoadDotEnvDoesNotOverrideEnvironment(t *testing.T) {
	dir := t.TempDir()
	dot := filepath.Join(dir, ".env")
	content := "MCPGW_PUBLIC_URL=https://from-dotenv.example\nMCPGW_ISSUER=https://idp.example\nMCPGW_LISTEN=127.0.0.1:1111\n"
	if err := os.WriteFile(dot, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(LoadOptions{DotEnv: dot, Environ: []string{"MCPGW_LISTEN=127.0.0.1:2222"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "https://from-dotenv.example" || c.Listen != "127.0.0.1:2222" {
		t.Fatalf("precedence wrong: %+v", c)
	}
}

func TestLoadRejectsUnknownKeys(t *testing.T) {
	_, err := Load(LoadOptions{File: "testdata/typo.yaml", Environ: []string{}, DotEnv: os.DevNull})
	if err == nil || !strings.Contains(err.Error(), "requried_scopes") {
		t.Fatalf("want unknown key error, got %v", err)
	}
}

func TestLoadBadRoutesText(t *testing.T) {
	for _, bad := range []string{"[oops", "path: /mcp", "- path: /a\n  path: /b"} {
		_, err := Load(LoadOptions{Environ: []string{"MCPGW_ROUTES=" + bad}, DotEnv: os.DevNull})
		if err == nil || !strings.Contains(err.Error(), "MCPGW_ROUTES") {
			t.Errorf("MCPGW_ROUTES=%q: want a routes error, got %v", bad, err)
		}
	}
}

// TestLoadRoutesYAMLFromEnv: on ECS the routes list arrives from an SSM
// parameter as YAML text in MCPGW_ROUTES, with the case of tool names kept.
func TestLoadRoutesYAMLFromEnv(t *testing.T) {
	routes := "- path: /mcp\n  upstream: builtin\n- path: /tickets\n  upstream: https://tickets.example.com/mcp\n  tool_scopes:\n    closeTicket: [admin]\n"
	c, err := Load(LoadOptions{DotEnv: os.DevNull, Environ: []string{
		"MCPGW_PUBLIC_URL=https://a.example", "MCPGW_ISSUER=https://i.example", "MCPGW_ROUTES=" + routes}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Routes) != 2 || c.Routes[1].Upstream != "https://tickets.example.com/mcp" || len(c.Routes[1].ToolScopes["closeTicket"]) != 1 {
		t.Fatalf("routes = %+v", c.Routes)
	}
}

func TestOfflineAccessNeverSupported(t *testing.T) {
	c := Config{PublicURL: "https://a.example", Issuer: "https://i.example", RequiredScopes: []string{"offline_access", "mcp"}}
	c.ApplyDefaults()
	if got := c.RouteScopes(c.Routes[0]); strings.Join(got, ",") != "mcp" {
		t.Fatalf("route scopes = %v", got)
	}
}

// TestLoadKeepsCaseInsideRoutes: tool names and environment variable names
// are case-sensitive; viper would lower-case them.
func TestLoadKeepsCaseInsideRoutes(t *testing.T) {
	c, err := Load(LoadOptions{File: "testdata/case.yaml", Environ: []string{}, DotEnv: os.DevNull})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Routes[0].ToolScopes["getWeather"]; !ok {
		t.Fatalf("tool_scopes keys lost their case: %v", c.Routes[0].ToolScopes)
	}
	c, err = Load(LoadOptions{DotEnv: os.DevNull, Environ: []string{
		"MCPGW_PUBLIC_URL=https://a.example", "MCPGW_ISSUER=https://i.example",
		`MCPGW_ROUTES=[{"path":"/mcp","tool_scopes":{"getWeather":["x"]}}]`}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Routes[0].ToolScopes["getWeather"]; !ok {
		t.Fatalf("env tool_scopes keys lost their case: %v", c.Routes[0].ToolScopes)
	}
}

func TestRouteKinds(t *testing.T) {
	for _, tt := range []struct {
		r    Route
		kind string
		argv string
	}{
		{Route{Upstream: "builtin"}, KindBuiltin, ""},
		{Route{Upstream: "https://up.example/mcp"}, KindHTTP, ""},
		{Route{Upstream: "http://127.0.0.1:3001/mcp"}, KindHTTP, ""},
		{Route{Upstream: "npx -y @modelcontextprotocol/server-everything", Args: []string{"stdio"}}, KindStdio,
			"npx|-y|@modelcontextprotocol/server-everything|stdio"},
		// RFC 3986 §3.1: schemes are case-insensitive.
		{Route{Upstream: "HTTPS://up.example/mcp"}, KindHTTP, ""},
		// Anything scheme:// is a URL, never a command.
		{Route{Upstream: "ftp://files.example/mcp"}, KindUnsupported, ""},
		{Route{Upstream: "wss://up.example/mcp"}, KindUnsupported, ""},
		{Route{Upstream: "git+ssh://git.example/repo"}, KindUnsupported, ""},
		// A URL among the arguments does not make a command a URL.
		{Route{Upstream: "npx mcp-remote https://up.example/mcp"}, KindStdio, "npx|mcp-remote|https://up.example/mcp"},
		{Route{Upstream: "./bin/server --listen=unix:///tmp/s"}, KindStdio, "./bin/server|--listen=unix:///tmp/s"},
	} {
		if got := tt.r.Kind(); got != tt.kind {
			t.Errorf("%q: kind %s, want %s", tt.r.Upstream, got, tt.kind)
		}
		if tt.kind == KindStdio && strings.Join(tt.r.Command(), "|") != tt.argv {
			t.Errorf("%q: argv %q", tt.r.Upstream, tt.r.Command())
		}
	}
	r := Route{Path: "/mcp", Upstream: "https://up.example/mcp"}
	r.applyDefaults()
	if r.Transport != "streamable" || r.Identity != "none" || r.Timeout != 60*time.Second {
		t.Fatalf("defaults: %+v", r)
	}
}
