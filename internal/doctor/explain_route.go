package doctor

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// route returns the findings that depend on the route: its audience, its
// required scopes and its tools' scopes. p is the verifier's principal, nil
// when it refused the token; scopes are then read from the decoded claims.
func (e *explainer) route(rc routeCheck, p *authn.Principal) []finding {
	var out []finding
	if e.tp.problem != "" {
		return nil
	}
	e.audience(&out, rc)
	var have, missing []string
	if p != nil {
		have, missing = p.Scopes, p.MissingScopes(rc.required)
	} else {
		for _, name := range e.prof.ScopeClaims {
			if v, ok := e.tp.claims[name]; ok && !isScopeValue(v) {
				e.fail(&out, kindScope, "token/scope", "claim %s is neither a space-separated string nor an array of strings", name)
				return out
			}
		}
		have = granted(e.tp.claims, &e.prof)
		missing = e.implies.Missing(have, rc.required)
	}
	if len(missing) > 0 {
		implied := ""
		if len(e.cfg.ScopeImplies) > 0 {
			implied = ", scope_implies applied"
		}
		grants := fmt.Sprintf("grants %q", strings.Join(have, " "))
		if len(have) == 0 {
			grants = "grants no scope"
		}
		e.fail(&out, kindMissing, "token/scope", "the token %s (claims %s%s); this route requires %s, so it lacks %s. Clients ask for the scopes the route's challenge and metadata name; the authorization server must grant them to this user and client%s",
			grants, strings.Join(e.prof.ScopeClaims, ", "), implied, strings.Join(rc.required, " "), strings.Join(missing, " "), scopeHint(e.prof.Name))
	}
	if p != nil && len(rc.tools) > 0 {
		var hidden []string
		for _, pattern := range slices.Sorted(maps.Keys(rc.tools)) {
			if m := e.implies.Missing(have, rc.tools[pattern]); len(m) > 0 {
				hidden = append(hidden, fmt.Sprintf("%s (needs %s)", pattern, strings.Join(m, " ")))
			}
		}
		if len(hidden) > 0 {
			out = append(out, finding{kind: kindTools, name: "token/tools", status: Warn,
				detail: "with this token, tools matching " + strings.Join(hidden, ", ") + " are hidden from tools/list and refused (tool_scopes)"})
		}
	}
	return out
}

func isScopeValue(v any) bool {
	switch x := v.(type) {
	case string:
		return true
	case []any:
		for _, e := range x {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

func scopeHint(provider string) string {
	switch provider {
	case "cognito":
		return " (Cognito: allow the custom scope, named <resource-server-id>/<name>, on the app client)"
	case "okta":
		return " (Okta: a scope of the custom authorization server and an access policy rule that grants it)"
	case "auth0":
		return " (Auth0: a permission of the API, granted to the user or the client)"
	case "entra":
		return " (Entra ID: an exposed API scope, in scp, or an app role, in roles)"
	case "keycloak":
		return " (Keycloak: a client scope assigned to the client)"
	}
	return ""
}

// audienceMatches mirrors the verifier's rule: exact, or equal RFC 3986
// normal forms for http(s) URLs.
func audienceMatches(got, want string) bool {
	if got == want {
		return got != ""
	}
	g, err1 := oauthmeta.CanonicalResource(got)
	w, err2 := oauthmeta.CanonicalResource(want)
	return err1 == nil && err2 == nil && g == w
}

func (e *explainer) audience(out *[]finding, rc routeCheck) {
	c := e.tp.claims
	aud := strList(c, "aud")
	_, present := c["aud"]
	for _, a := range aud {
		for _, w := range rc.audiences {
			if audienceMatches(a, w) {
				return
			}
		}
	}
	name := "token/aud"
	send := "resource=" + rc.resource
	if !present {
		switch {
		case e.cfg.InsecureAllowMissingAudience && e.prof.MayOmitAudience && e.allow != nil:
			return // accepted unbound, from listed clients; the config check warns
		case e.prof.Name == "cognito":
			e.fail(out, kindAud, name, "the token has no aud: Cognito adds aud only when the client sent %s to /oauth2/authorize through managed login on the Essentials or Plus plan (not the classic hosted UI, Lite, InitiateAuth or client credentials). Use managed login and have clients send it, or accept unbound tokens from listed clients with insecure_allow_missing_audience (weaker)", send)
		default:
			e.fail(out, kindAud, name, "the token has no aud, so it is not bound to this gateway (RFC 8707, RFC 9068 §4): clients must send %s and the authorization server must put it in aud%s", send, audHint(e.prof.Name, rc.resource, ""))
		}
		return
	}
	got := strings.Join(quoteAll(aud), ", ")
	if looksLikeIDToken(c, e.cfg.AllowedClientIDs) {
		e.fail(out, kindAud, name, "aud %s names a client, as an ID token's does: %s. If it is an access token, the authorization server ignored %s", got, idTokenAdvice, send)
		return
	}
	for _, other := range resources(e.cfg) {
		if other != rc.resource && slices.ContainsFunc(aud, func(a string) bool { return audienceMatches(a, other) }) {
			e.fail(out, kindAud, name, "aud %s names %s, another route's resource: a token is bound to one route; get one for this route with %s", got, other, send)
			return
		}
	}
	accepted := strings.Join(rc.audiences, ", ")
	e.fail(out, kindAud, name, "aud %s does not name this route (accepted: %s). Clients send %s (RFC 8707) and the authorization server must put it in aud%s; or, only if %s is this gateway's own identifier at your IdP (never another API's), list it in audiences",
		got, accepted, send, audHint(e.prof.Name, rc.resource, got), got)
}

// looksLikeIDToken reports an OpenID Connect ID token: ID-token-only
// claims, Cognito's token_use=id, or an aud that names the client (its own
// client claim, azp, or an allow-listed client id).
func looksLikeIDToken(c map[string]any, clients []string) bool {
	for _, claim := range []string{"nonce", "at_hash", "c_hash"} {
		if _, ok := c[claim]; ok {
			return true
		}
	}
	if str(c, "token_use") == "id" {
		return true
	}
	for _, a := range strList(c, "aud") {
		if a != "" && (a == str(c, "client_id") || a == str(c, "azp") || a == str(c, "cid") || slices.Contains(clients, a)) {
			return true
		}
	}
	return false
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

func audHint(provider, resource, got string) string {
	switch provider {
	case "auth0":
		return "; Auth0 sets aud from audience=<API identifier> (resource only with its resource-parameter compatibility profile): make the API identifier " + resource
	case "okta":
		return "; Okta: set the custom authorization server's audience to " + resource
	case "entra":
		return "; Entra ID names the API by its application ID URI or client id, without a trailing slash"
	case "keycloak":
		if got == `"account"` {
			return "; Keycloak's default tokens name only \"account\": add an audience mapper that emits " + resource
		}
		return "; Keycloak: add an audience mapper that emits " + resource
	case "cognito":
		return "; Cognito puts the resource the client sent (managed login, Essentials or Plus) in aud"
	}
	return " (at the authorization server: an API, resource server or audience whose identifier is this URL)"
}

// classify maps the verifier's reason to the kind of finding that explains
// it, "" when doctor does not know the reason. The reasons are fixed texts
// of internal/authn that name checks and claims (never values).
func classify(err error, prof *idp.Profile) string {
	if err == nil || errors.Is(err, authn.ErrKeysUnavailable) {
		return ""
	}
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, `claim "`); ok {
		claim, _, _ := strings.Cut(rest, `"`)
		switch {
		case claim == "iss":
			return kindIss
		case claim == "aud":
			return kindAud
		case claim == "exp" || claim == "nbf" || claim == "iat":
			return kindTime
		case claim == prof.Subject():
			return kindSub
		case slices.Contains(prof.ScopeClaims, claim):
			return kindScope
		case slices.Contains(prof.ClientIDClaims, claim):
			return kindClient
		case prof.RequiredClaims[claim] != "" || slices.Contains(prof.ForbiddenClaims, claim) || prof.ForbiddenClaimValues[claim] != nil:
			return kindType
		}
		return ""
	}
	for _, c := range []struct{ text, kind string }{
		{"token is expired", kindTime}, {"not valid yet", kindTime},
		{"no key matches", kindKID},
		{"signature verification failed", kindSignature},
		{"client id", kindClient},
		{"header typ", kindType},
		{"too large", kindSize},
		{"alg", kindAlg}, {"key is not", kindAlg},
		{"compact JWS", kindFormat}, {"empty segment", kindFormat}, {"base64url", kindFormat},
		{"header", kindFormat}, {"payload", kindFormat},
	} {
		if strings.Contains(msg, c.text) {
			return c.kind
		}
	}
	return ""
}
