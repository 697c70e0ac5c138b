package doctor

import (
	"fmt"
	"strings"
)

// resources are the resource identifiers of the routes, as the gateway
// builds them (public URL without its trailing slash, plus the path).
func resources(o Options) []string {
	paths := o.RoutePaths
	if len(paths) == 0 {
		paths = []string{"/mcp"}
	}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		out = append(out, strings.TrimSuffix(o.PublicURL, "/")+p)
	}
	return out
}

// checkConfig judges the configuration against what the provider is known
// to do with audiences, client ids and the resource parameter.
func checkConfig(r *Report, o Options) {
	provider := o.Provider
	if provider == "" {
		provider = "generic"
	}
	name := "config (" + provider + ")"
	n := len(r.Checks)
	if o.PublicURL == "" {
		r.add(name, Warn, "public_url is not set: resource identifiers and the audience default cannot be derived")
	}
	res := resources(o)
	switch provider {
	case "cognito":
		if len(o.AllowedClientIDs) == 0 && len(o.Audiences) == 0 {
			r.add(name, Fail, "Cognito access tokens carry client_id and no aud (unless managed login received the resource parameter): set allowed_client_ids, or audiences if your tier sends resource")
		} else {
			r.add(name, OK, fmt.Sprintf("%d allowed client id(s), %d audience(s) configured", len(o.AllowedClientIDs), len(o.Audiences)))
		}
	case "entra":
		var slashed []string
		for _, a := range append(append([]string{o.PublicURL}, o.Audiences...), res...) {
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
		if len(o.Audiences) == 0 {
			r.add(name, Warn, "Keycloak puts aud in access tokens only through an audience mapper: add one that emits "+strings.Join(res, ", ")+", or set audiences")
		}
	case "okta":
		r.add(name, OK, "Okta custom authorization server: its audience setting must equal one of "+strings.Join(orDefault(o.Audiences, res), ", "))
	}
	if len(r.Checks) == n {
		r.add(name, OK, "nothing to flag for this provider")
	}
}

func orDefault(v, def []string) []string {
	if len(v) > 0 {
		return v
	}
	return def
}
