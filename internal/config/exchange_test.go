package config

import (
	"strings"
	"testing"
)

// exchangeRoute is a valid identity exchange route; cases change one thing.
func exchangeRoute() Route {
	return Route{
		Path: "/mcp/tickets", Upstream: "https://tickets.example/mcp", Identity: IdentityExchange,
		TokenExchange: TokenExchange{
			UpstreamAudience: "https://tickets.example", TokenExchangeClientID: "gateway",
			TokenExchangeClientSecretEnv: "TICKETS_EXCHANGE_SECRET",
		},
	}
}

func oboRoute() Route {
	return Route{
		Path: "/mcp/tickets", Upstream: "https://tickets.example/mcp", Identity: IdentityEntraOBO,
		TokenExchange: TokenExchange{
			UpstreamScopes: []string{"api://tickets/.default"}, TokenExchangeClientID: "gateway",
			TokenExchangePrivateKeyEnv: "GATEWAY_CERT_KEY",
		},
	}
}

// TestExchangeDefaults: the auth method follows the credential and mode;
// the subject token type defaults to an access token for exchange only.
func TestExchangeDefaults(t *testing.T) {
	for _, tc := range []struct {
		name             string
		route            Route
		method, subjType string
	}{
		{"exchange with a secret", exchangeRoute(), "client_secret_basic", "urn:ietf:params:oauth:token-type:access_token"},
		{"entra-obo with a key", oboRoute(), "private_key_jwt", ""},
		{"entra-obo with a secret", func() Route {
			r := oboRoute()
			r.TokenExchangePrivateKeyEnv, r.TokenExchangeClientSecretEnv = "", "S"
			return r
		}(), "client_secret_post", ""},
		{"hmac route untouched", Route{Path: "/x", Upstream: "https://x.example", Identity: "hmac"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			c.Routes = []Route{tc.route}
			c.ApplyDefaults()
			got := c.Routes[0].TokenExchange
			if got.TokenExchangeAuthMethod != tc.method || got.TokenExchangeSubjectTokenType != tc.subjType {
				t.Errorf("auth method %q, subject token type %q; want %q, %q", got.TokenExchangeAuthMethod, got.TokenExchangeSubjectTokenType, tc.method, tc.subjType)
			}
		})
	}
}

func TestExchangeValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		route  func(*Route)
		base   func() Route
		want   []string // every line must be reported
		accept bool
	}{
		{name: "exchange", base: exchangeRoute, accept: true},
		{name: "exchange by resource", base: exchangeRoute, accept: true, route: func(r *Route) {
			r.UpstreamAudience, r.UpstreamResource = "", "https://tickets.example/mcp"
		}},
		{name: "exchange with private_key_jwt, kid and assertion audience", base: exchangeRoute, accept: true, route: func(r *Route) {
			r.TokenExchangeClientSecretEnv, r.TokenExchangePrivateKeyEnv, r.TokenExchangeKeyID = "", "K", "kid-1"
			r.TokenExchangeAssertionAudience = "https://acme.auth0.com/"
			r.TokenExchangeRequestedTokenType = "urn:ietf:params:oauth:token-type:jwt"
		}},
		{name: "entra-obo", base: oboRoute, accept: true},
		{name: "auth0 subject token type and endpoint", base: exchangeRoute, accept: true, route: func(r *Route) {
			r.TokenExchangeSubjectTokenType = "urn:acme:mcp-gateway-token"
			r.TokenExchangeEndpoint = "https://acme.auth0.com/oauth/token"
		}},
		{name: "keys without exchange", base: exchangeRoute, route: func(r *Route) { r.Identity = "none" },
			want: []string{"routes[0].upstream_audience: applies to identity exchange and entra-obo only",
				"routes[0].token_exchange_client_id: applies to identity exchange and entra-obo only",
				"routes[0].token_exchange_client_secret_env: applies to identity exchange and entra-obo only"}},
		{name: "everything missing", base: exchangeRoute, route: func(r *Route) { r.TokenExchange = TokenExchange{} },
			want: []string{"routes[0].token_exchange_client_id: is required with identity exchange",
				"routes[0].token_exchange_client_secret_env: name exactly one of token_exchange_client_secret_env and token_exchange_private_key_env",
				"routes[0].upstream_audience: set upstream_audience, upstream_resource or both with identity exchange"}},
		{name: "two credentials", base: exchangeRoute, route: func(r *Route) { r.TokenExchangePrivateKeyEnv = "K" },
			want: []string{"routes[0].token_exchange_client_secret_env: name exactly one of"}},
		{name: "secret with private_key_jwt", base: exchangeRoute, route: func(r *Route) { r.TokenExchangeAuthMethod = "private_key_jwt" },
			want: []string{"routes[0].token_exchange_auth_method: private_key_jwt uses a key, not token_exchange_client_secret_env"}},
		{name: "key with a secret method", base: oboRoute, route: func(r *Route) { r.TokenExchangeAuthMethod = "client_secret_post" },
			want: []string{"routes[0].token_exchange_auth_method: client_secret_post uses a secret, not token_exchange_private_key_env"}},
		{name: "unknown auth method", base: exchangeRoute, route: func(r *Route) { r.TokenExchangeAuthMethod = "tls_client_auth" },
			want: []string{`routes[0].token_exchange_auth_method: "tls_client_auth" is not client_secret_basic, client_secret_post or private_key_jwt`}},
		{name: "kid and assertion audience with a secret", base: exchangeRoute, route: func(r *Route) {
			r.TokenExchangeKeyID, r.TokenExchangeAssertionAudience = "k", "https://acme.auth0.com/"
		}, want: []string{"routes[0].token_exchange_key_id: applies to private_key_jwt only",
			"routes[0].token_exchange_assertion_audience: applies to private_key_jwt only"}},
		{name: "bad requested token type", base: exchangeRoute, route: func(r *Route) { r.TokenExchangeRequestedTokenType = "jwt" },
			want: []string{`routes[0].token_exchange_requested_token_type: "jwt" must be an absolute URI`}},
		{name: "requested token type on entra-obo", base: oboRoute, route: func(r *Route) {
			r.TokenExchangeRequestedTokenType = "urn:ietf:params:oauth:token-type:jwt"
		}, want: []string{"routes[0].token_exchange_requested_token_type: does not apply to entra-obo"}},
		{name: "stdio", base: exchangeRoute, route: func(r *Route) { r.Upstream = "npx server" },
			want: []string{"routes[0].identity: exchange applies to http(s) upstreams only"}},
		{name: "sse transport", base: exchangeRoute, route: func(r *Route) { r.Transport = "sse" },
			want: []string{"routes[0].identity: exchange needs transport streamable"}},
		{name: "builtin", base: exchangeRoute, route: func(r *Route) { r.Upstream = "builtin" },
			want: []string{"routes[0].identity: applies to http(s) and stdio upstreams only"}},
		{name: "http endpoint off loopback", base: exchangeRoute, route: func(r *Route) { r.TokenExchangeEndpoint = "http://idp.example/token" },
			want: []string{"routes[0].token_exchange_endpoint:"}},
		{name: "bad resource and audience", base: exchangeRoute, route: func(r *Route) {
			r.UpstreamResource, r.UpstreamAudience = "/relative#frag", "two words"
		}, want: []string{`routes[0].upstream_resource: "/relative#frag" must be an absolute URI without a fragment (RFC 8707 section 2)`,
			`routes[0].upstream_audience: "two words" must not contain spaces or control characters`}},
		{name: "bad scope and subject token type", base: exchangeRoute, route: func(r *Route) {
			r.UpstreamScopes, r.TokenExchangeSubjectTokenType = []string{"a b"}, "access_token"
		}, want: []string{`routes[0].upstream_scopes[0]: "a b" is not a valid scope token`,
			`routes[0].token_exchange_subject_token_type: "access_token" must be an absolute URI (RFC 8693 section 3)`}},
		{name: "entra-obo without scopes, with audience", base: oboRoute, route: func(r *Route) {
			r.UpstreamScopes, r.UpstreamAudience, r.UpstreamResource = nil, "api://x", "https://x.example"
		}, want: []string{"routes[0].upstream_scopes: is required with identity entra-obo",
			"routes[0].upstream_audience: does not apply to entra-obo", "routes[0].upstream_resource: does not apply to entra-obo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.base()
			if tc.route != nil {
				tc.route(&r)
			}
			c := valid()
			c.Routes = []Route{r}
			c.ApplyDefaults()
			err := c.Validate()
			if tc.accept {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() = nil")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in\n%v", w, err)
				}
			}
		})
	}
}

// TestExchangeKeysLoad: the keys load from a file (the embedded struct's
// fields are route keys: no unknown-key report, typos get a suggestion)
// and the variables they name are not reported as unknown.
func TestExchangeKeysLoad(t *testing.T) {
	route := "routes:\n  - path: /t\n    upstream: https://t.example/mcp\n    identity: exchange\n" +
		"    upstream_audience: https://t.example\n    upstream_scopes: [tickets.read]\n" +
		"    token_exchange_client_id: gw\n    token_exchange_client_secret_env: MCPGW_TICKETS_SECRET\n"
	t.Run("loads", func(t *testing.T) {
		c, lines := loadCase{file: base + route, env: []string{"MCPGW_TICKETS_SECRET=s"}}.load(t)
		if lines != nil {
			t.Fatalf("problems: %v", lines)
		}
		got := c.Routes[0].TokenExchange
		if got.UpstreamAudience != "https://t.example" || got.TokenExchangeClientID != "gw" || len(got.UpstreamScopes) != 1 ||
			got.TokenExchangeClientSecretEnv != "MCPGW_TICKETS_SECRET" || got.TokenExchangeAuthMethod != "client_secret_basic" {
			t.Errorf("decoded %+v", got)
		}
	})
	loadCase{name: "typo", file: base + route + "    upstream_audiense: x\n",
		want: []string{"DIR/gateway.yaml:11: routes[0].upstream_audiense: unknown key; did you mean upstream_audience?"}}.check(t)
}
