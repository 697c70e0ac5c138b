package doctor

import (
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

func TestCheckExchange(t *testing.T) {
	route := func(mod func(*config.Route)) []config.Route {
		r := config.Route{Path: "/mcp/tickets", Upstream: "https://tickets.example/mcp", Identity: config.IdentityExchange,
			TokenExchange: config.TokenExchange{UpstreamAudience: "tickets-api", TokenExchangeClientID: "gw",
				TokenExchangeClientSecretEnv: "TICKETS_SECRET", TokenExchangeAuthMethod: "client_secret_basic"}}
		if mod != nil {
			mod(&r)
		}
		return []config.Route{r, {Path: "/mcp", Upstream: "builtin"}}
	}
	meta := &oauthmeta.AuthorizationServerMetadata{TokenEndpoint: "https://idp.example/token",
		GrantTypesSupported:               []string{"authorization_code", "urn:ietf:params:oauth:grant-type:token-exchange"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "private_key_jwt"}}
	set := func(name string) string {
		if name == "TICKETS_SECRET" || name == "ENTRA_KEY" {
			return "x"
		}
		return ""
	}
	for _, c := range []struct {
		name   string
		routes []config.Route
		meta   *oauthmeta.AuthorizationServerMetadata
		want   Status
		detail string
	}{
		{"discovered", route(nil), meta, OK, "exchange at https://idp.example/token (from the issuer's metadata) as client gw (client_secret_basic), for tickets-api"},
		{"configured endpoint", route(func(r *config.Route) { r.TokenExchangeEndpoint = "https://other.example/v1/token" }), nil, OK,
			"exchange at https://other.example/v1/token (from token_exchange_endpoint)"},
		{"no endpoint", route(nil), nil, Fail, "no token endpoint"},
		{"secret not set", route(func(r *config.Route) { r.TokenExchangeClientSecretEnv = "MISSING" }), meta, Fail, "$MISSING is not set here"},
		{"grant not advertised", route(nil), &oauthmeta.AuthorizationServerMetadata{TokenEndpoint: "https://idp.example/token", GrantTypesSupported: []string{"authorization_code"}}, Warn,
			"does not list urn:ietf:params:oauth:grant-type:token-exchange in grant_types_supported"},
		{"auth method not advertised", route(func(r *config.Route) { r.TokenExchangeAuthMethod = "client_secret_post" }), meta, Warn,
			"token_endpoint_auth_methods_supported does not list client_secret_post"},
		{"entra-obo without grant list", route(func(r *config.Route) {
			r.Identity, r.UpstreamAudience, r.UpstreamScopes = config.IdentityEntraOBO, "", []string{"api://tickets/.default"}
			r.TokenExchangeClientSecretEnv, r.TokenExchangePrivateKeyEnv, r.TokenExchangeAuthMethod = "", "ENTRA_KEY", "private_key_jwt"
		}), &oauthmeta.AuthorizationServerMetadata{TokenEndpoint: "https://login.example/t/oauth2/v2.0/token"}, OK,
			"entra-obo at https://login.example/t/oauth2/v2.0/token (from the issuer's metadata) as client gw (private_key_jwt), for scopes api://tickets/.default"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &Report{}
			checkExchange(r, &config.Config{Routes: c.routes}, c.meta, set)
			if len(r.Checks) != 1 {
				t.Fatalf("checks %+v, want one (the builtin route has none)", r.Checks)
			}
			got := r.Checks[0]
			if got.Name != "token exchange /mcp/tickets" || got.Status != c.want || !strings.Contains(got.Detail, c.detail) {
				t.Errorf("got %s %v %q; want %v containing %q", got.Name, got.Status, got.Detail, c.want, c.detail)
			}
		})
	}
}
