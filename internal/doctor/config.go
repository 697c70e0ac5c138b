package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// resources are the resource identifiers of the routes, as the gateway
// builds them (public URL without its trailing slash, plus the path).
func resources(cfg *config.Config) []string {
	routes := cfg.Routes
	if len(routes) == 0 {
		routes = []config.Route{{Path: "/mcp"}}
	}
	out := make([]string, 0, len(routes))
	for _, r := range routes {
		out = append(out, oauthmeta.ResourceURL(cfg.PublicURL, r.Path))
	}
	return out
}

// requiredScopes are the scopes some call needs: the global required
// scopes, then each route's, without repeats.
func requiredScopes(cfg *config.Config) []string {
	out := slices.Clone(cfg.RequiredScopes)
	for _, r := range cfg.Routes {
		for _, s := range r.RequiredScopes {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// checkConfig judges the configuration against what the provider is known
// to do with audiences, client ids and the resource parameter.
func checkConfig(r *Report, cfg *config.Config) {
	provider := cfg.Provider
	if provider == "" {
		provider = config.DefaultProvider
	}
	name := "config (" + provider + ")"
	n := len(r.Checks)
	if cfg.PublicURL == "" {
		r.add(name, Warn, "public_url is not set: resource identifiers and the audience default cannot be derived")
	}
	res := resources(cfg)
	switch provider {
	case "cognito":
		checkCognito(r, name, cfg, res)
	case "entra":
		var slashed []string
		for _, a := range append(append([]string{cfg.PublicURL}, cfg.Audiences...), res...) {
			if strings.HasSuffix(a, "/") {
				slashed = append(slashed, a)
			}
		}
		if len(slashed) > 0 {
			r.add(name, Warn, "Entra ID rejects a resource with a trailing slash; drop it from: "+strings.Join(slashed, ", "))
		}
	case "auth0":
		r.add(name, Warn, "Auth0 sets aud from the audience parameter (the API identifier), which MCP clients do not send: enable Auth0's resource-parameter compatibility profile, or have clients send audience, and list the API identifier in audiences")
	case "keycloak":
		if len(cfg.Audiences) == 0 {
			r.add(name, Warn, "Keycloak puts aud in access tokens only through an audience mapper: add one that emits "+strings.Join(res, ", ")+", or set audiences")
		}
	case "okta":
		r.add(name, OK, "Okta custom authorization server: its audience setting must equal one of "+strings.Join(orDefault(cfg.Audiences, res), ", "))
	}
	if len(r.Checks) == n {
		r.add(name, OK, "nothing to flag for this provider")
	}
}

// checkCognito says what Cognito access tokens must carry. Cognito writes
// aud only when the client sent RFC 8707 resource to /oauth2/authorize
// through managed login (Essentials or Plus plan); otherwise tokens have no
// aud and are accepted only with insecure_allow_missing_audience.
func checkCognito(r *Report, name string, cfg *config.Config, res []string) {
	resource := "resource=" + strings.Join(res, "")
	if len(res) > 1 {
		resource = "resource=<the route's URL> (" + strings.Join(res, ", ") + ")"
	}
	switch {
	case cfg.InsecureAllowMissingAudience && !cfg.HasClientAllowlist():
		r.add(name, Fail, "insecure_allow_missing_audience needs allowed_client_ids or client_ids_table")
	case cfg.InsecureAllowMissingAudience:
		r.add(name, Warn, "insecure_allow_missing_audience: tokens without aud from listed clients ("+clientIDSummary(cfg)+
			") are accepted, unbound to this gateway; turn it off once clients send "+resource+
			" to /oauth2/authorize (managed login, Essentials or Plus)")
	default:
		clients := "any app client of the pool"
		if cfg.HasClientAllowlist() {
			clients = clientIDSummary(cfg)
		}
		r.add(name, OK, "tokens need aud "+strings.Join(orDefault(cfg.Audiences, res), ", ")+
			": clients send "+resource+" to /oauth2/authorize (managed login, Essentials or Plus); tokens without aud are refused; clients: "+clients)
	}
}

// clientIDSummary says how tokens' client ids and audiences are accepted:
// "1 allowed client id(s), client_ids_table T, 0 audience(s) configured".
func clientIDSummary(cfg *config.Config) string {
	s := fmt.Sprintf("%d allowed client id(s), ", len(cfg.AllowedClientIDs))
	if cfg.ClientIDsTable != "" {
		s += "client_ids_table " + cfg.ClientIDsTable + ", "
	}
	return s + fmt.Sprintf("%d audience(s) configured", len(cfg.Audiences))
}

func orDefault(v, def []string) []string {
	if len(v) > 0 {
		return v
	}
	return def
}
