package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// resourceOutcome is what is known of the authorization server's handling
// of the RFC 8707 resource parameter.
type resourceOutcome int

const (
	resourceUnknown resourceOutcome = iota
	resourceAccepted
	resourceRefused
	resourceInconclusive
)

// resourceVerdict feeds the client predictions.
type resourceVerdict struct {
	outcome resourceOutcome
	// refusal completes "every client sends resource and ..." when refused.
	refusal string
}

// probeAdvice says how to find out when doctor could not.
const probeAdvice = "To find out: --token with a token a client obtained (its aud shows the binding), " +
	"--probe-client-id ID [--probe-redirect-uri URI] (one authorization request for a client registered there; nobody signs in), " +
	"or --probe-register (registers a throwaway public client through open registration first)"

// checkResource says whether the first authorization server, the one
// clients use, accepts the route's resource identifiers as RFC 8707
// resource parameters. An authorization server judges the client before the
// resource, so without a client (o.Probe) doctor can only infer it from a
// token's aud, or report it unknown. It never registers a client unless
// o.Probe.Register is set.
func checkResource(ctx context.Context, r *Report, cfg *config.Config, p *asProbe, o Options, tok *tokenParts) resourceVerdict {
	const name = "resource"
	if p == nil || p.meta == nil || p.meta.AuthorizationEndpoint == "" {
		r.add(name, Warn, "unknown: the authorization server publishes no authorization endpoint to probe")
		return resourceVerdict{}
	}
	clientID, redirectURI, note := o.Probe.ClientID, o.Probe.RedirectURI, ""
	var throwaway *oauthmeta.ClientInformation
	if clientID == "" && o.Probe.Register {
		if p.meta.RegistrationEndpoint == "" {
			note = "--probe-register: " + p.id + " has no registration_endpoint. "
		} else if info, err := registerProbeClient(ctx, o.HTTPClient, p.meta.RegistrationEndpoint); err != nil {
			note = fmt.Sprintf("--probe-register: registering a throwaway client at %s failed (%v). ", p.meta.RegistrationEndpoint, err)
		} else {
			throwaway, clientID, redirectURI = info, info.ClientID, probeRedirectURI
		}
	}
	if clientID != "" {
		v := probeRoutes(ctx, r, name, cfg, p, o, clientID, redirectURI)
		if throwaway != nil {
			c := &r.Checks[len(r.Checks)-1]
			if err := deleteProbeClient(ctx, o.HTTPClient, throwaway); err != nil {
				c.Detail += fmt.Sprintf(". The throwaway client %q stays registered at %s (%v): it is public and can only redirect to %s; delete it there if you wish", throwaway.ClientID, p.id, err, probeRedirectURI)
			} else {
				c.Detail += fmt.Sprintf(". The throwaway client %q was deleted", throwaway.ClientID)
			}
		}
		return v
	}
	res := resources(cfg)
	if tok != nil && tok.problem == "" && !looksLikeIDToken(tok.claims, cfg.AllowedClientIDs) {
		aud := strList(tok.claims, "aud")
		for _, rs := range res {
			for _, a := range aud {
				if audienceMatches(a, rs) {
					r.add(name, OK, fmt.Sprintf("the token given names %s in aud: the authorization server binds tokens to this gateway (not probed)", rs))
					return resourceVerdict{outcome: resourceAccepted}
				}
			}
		}
		has := "has no aud"
		if len(aud) > 0 {
			has = "names " + strings.Join(quoteAll(aud), ", ")
		}
		note += "The token given " + has + ": its client did not send resource, or the authorization server ignored it. "
	}
	r.add(name, Warn, fmt.Sprintf("unknown whether %s accepts resource=%s (an authorization server judges the client first, and doctor has none). Every MCP client sends it; a server that refuses it (invalid_target, as a default oidc-provider does) stops them all%s. %s%s",
		p.id, strings.Join(res, ", resource="), providerResourceNote(cfg.Provider), note, probeAdvice))
	return resourceVerdict{}
}

func providerResourceNote(provider string) string {
	switch provider {
	case "cognito":
		return "; Cognito honours it only through managed login on the Essentials or Plus plan and ignores it elsewhere (tokens then lack aud)"
	case "auth0":
		return "; Auth0 ignores it unless the resource-parameter compatibility profile is on (tokens then name the default audience, or are opaque)"
	}
	return ""
}

// probeRoutes probes every route's resource with one client.
func probeRoutes(ctx context.Context, r *Report, name string, cfg *config.Config, p *asProbe, o Options, clientID, redirectURI string) resourceVerdict {
	c := noRedirects(o.HTTPClient)
	routes := cfg.Routes
	if len(routes) == 0 {
		routes = []config.Route{{Path: "/mcp"}}
	}
	var accepted, refused, unclear, refusedURLs []string
	for _, rc := range routes {
		resource := oauthmeta.ResourceURL(cfg.PublicURL, rc.Path)
		q := authzParams(clientID, redirectURI, resource, cfg.RouteRequiredScopes(rc))
		var out probeOutcome
		done := false
		if p.par != "" {
			out, done = probePAR(ctx, c, p.par, q)
		}
		if !done {
			out = probeAuthorize(ctx, c, p.meta.AuthorizationEndpoint, redirectURI, q)
		}
		line := fmt.Sprintf("resource=%s: %s", resource, out.detail)
		switch out.outcome {
		case resourceAccepted:
			accepted = append(accepted, line)
		case resourceRefused:
			refused, refusedURLs = append(refused, line), append(refusedURLs, resource)
		default:
			unclear = append(unclear, line)
		}
	}
	by := fmt.Sprintf(" (probed %s with client %q)", p.id, clientID)
	switch {
	case len(refused) > 0:
		r.add(name, Fail, fmt.Sprintf("the authorization server refuses the resource parameter: %s%s. MCP clients send resource (RFC 8707), so none can log in. Fix: make the authorization server serve this URL as a resource (oidc-provider: features.resourceIndicators must accept it; elsewhere an API or resource server whose identifier is this URL), or correct public_url if clients use another URL",
			strings.Join(refused, "; "), by))
		return resourceVerdict{outcome: resourceRefused, refusal: "the authorization server refuses it for " + strings.Join(refusedURLs, ", ") + " (see the resource check)"}
	case len(unclear) > 0:
		r.add(name, Warn, "could not tell: "+strings.Join(append(unclear, accepted...), "; ")+by)
		return resourceVerdict{outcome: resourceInconclusive}
	}
	r.add(name, OK, "the authorization server accepts the resource parameter: "+strings.Join(accepted, "; ")+by+
		". Whether tokens then carry it in aud shows in a real token: --token")
	return resourceVerdict{outcome: resourceAccepted}
}
