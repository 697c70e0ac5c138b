package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/tokenexchange"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// checkExchange judges each route whose identity is exchange or entra-obo
// against the issuer's metadata (meta, nil when none was found): a token
// endpoint must be known (token_exchange_endpoint, else the metadata's),
// the credential's variable must be set in getenv's environment, and the
// grant and client authentication method should be among those the
// metadata advertises, when it lists any (Okta lists the token-exchange
// grant only for a client that may use it; Entra lists no grants). It
// does not exchange anything: whether the IdP issues a token for the
// upstream shows on the first call (a 502 with audit reason
// token_exchange).
func checkExchange(r *Report, cfg *config.Config, meta *oauthmeta.AuthorizationServerMetadata, getenv func(string) string) {
	for _, rc := range cfg.Routes {
		if !config.Exchanges(rc.Identity) {
			continue
		}
		name := "token exchange " + rc.Path
		t := rc.TokenExchange
		endpoint, from := t.TokenExchangeEndpoint, "token_exchange_endpoint"
		if endpoint == "" && meta != nil {
			endpoint, from = meta.TokenEndpoint, "the issuer's metadata"
		}
		if endpoint == "" {
			r.add(name, Fail, "no token endpoint: the issuer's metadata names none (or was not found); set token_exchange_endpoint")
			continue
		}
		variable := t.TokenExchangeClientSecretEnv
		if variable == "" {
			variable = t.TokenExchangePrivateKeyEnv
		}
		if getenv(variable) == "" {
			r.add(name, Fail, fmt.Sprintf("$%s is not set here: the gateway will not start without the credential of client %s", variable, t.TokenExchangeClientID))
			continue
		}
		var warn []string
		grant := tokenexchange.GrantTypeTokenExchange
		if rc.Identity == config.IdentityEntraOBO {
			grant = tokenexchange.GrantTypeJWTBearer
		}
		if meta != nil && len(meta.GrantTypesSupported) > 0 && !slices.Contains(meta.GrantTypesSupported, grant) {
			warn = append(warn, fmt.Sprintf("the issuer's metadata does not list %s in grant_types_supported: check that the IdP offers it to client %s", grant, t.TokenExchangeClientID))
		}
		if meta != nil && len(meta.TokenEndpointAuthMethodsSupported) > 0 && !slices.Contains(meta.TokenEndpointAuthMethodsSupported, t.TokenExchangeAuthMethod) {
			warn = append(warn, fmt.Sprintf("token_endpoint_auth_methods_supported does not list %s", t.TokenExchangeAuthMethod))
		}
		target := strings.Join(slices.DeleteFunc([]string{t.UpstreamAudience, t.UpstreamResource}, func(s string) bool { return s == "" }), " and ")
		if target == "" {
			target = "scopes " + strings.Join(t.UpstreamScopes, " ")
		}
		detail := fmt.Sprintf("%s at %s (from %s) as client %s (%s), for %s", rc.Identity, endpoint, from, t.TokenExchangeClientID, t.TokenExchangeAuthMethod, target)
		if len(warn) > 0 {
			r.add(name, Warn, detail+"; "+strings.Join(warn, "; "))
			continue
		}
		r.add(name, OK, detail)
	}
}
