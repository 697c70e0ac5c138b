package doctor

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authnconfig"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
)

// tokenParts is an access token decoded for explanation only: nothing in
// it is trusted (the signature is not checked here) and the verdict is the
// verifier's. It keeps neither the raw token nor the signature.
type tokenParts struct {
	size     int
	segments int
	header   map[string]any
	claims   map[string]any
	// problem says why the token is not a decodable JWS, "" when it is.
	problem string
}

// decodeToken splits raw (RFC 7515 §7.1) and decodes its header and
// payload leniently (padded or unpadded base64url, numbers kept as
// json.Number). It checks no signature and no claim.
func decodeToken(raw string) *tokenParts {
	t := &tokenParts{size: len(raw), segments: strings.Count(raw, ".") + 1}
	parts := strings.Split(raw, ".")
	switch {
	case t.segments == 5:
		t.problem = "it has 5 parts: an encrypted JWT (JWE), which only the authorization server can read; the gateway verifies signed JWT (JWS) access tokens"
		return t
	case t.segments != 3:
		t.problem = fmt.Sprintf("it is not a JWT (%d dot-separated part(s), a JWT has 3): an opaque access token, which only the authorization server can introspect; the gateway verifies JWT access tokens (RFC 9068)", t.segments)
		return t
	}
	var err error
	if t.header, err = decodeJSONSegment(parts[0]); err != nil {
		t.problem = "its header is not base64url-encoded JSON (" + err.Error() + ")"
		return t
	}
	if t.claims, err = decodeJSONSegment(parts[1]); err != nil {
		t.problem = "its payload is not base64url-encoded JSON (" + err.Error() + ")"
		return t
	}
	return t
}

func decodeJSONSegment(seg string) (map[string]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return nil, errors.New("not base64url")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

// str returns a string member, "" when absent or of another type.
func str(m map[string]any, name string) string {
	s, _ := m[name].(string)
	return s
}

// strList reads a string or an array of strings (aud, scp).
func strList(m map[string]any, name string) []string {
	switch v := m[name].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// timeClaim reads a NumericDate; ok is false when absent or not a number.
func timeClaim(m map[string]any, name string) (time.Time, bool) {
	n, ok := m[name].(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0).UTC(), true
}

// granted merges the profile's scope claims as the verifier does.
func granted(claims map[string]any, p *idp.Profile) []string {
	var out []string
	for _, name := range p.ScopeClaims {
		var list []string
		if s, ok := claims[name].(string); ok {
			list = strings.Fields(s)
		} else {
			list = strList(claims, name)
		}
		for _, s := range list {
			if s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// clientOf returns the first profile client-id claim set, and its name.
func clientOf(claims map[string]any, p *idp.Profile) (id, claim string) {
	for _, n := range p.ClientIDClaims {
		if s := str(claims, n); s != "" {
			return s, n
		}
	}
	return "", ""
}

// routeCheck is one route as the gateway protects it.
type routeCheck struct {
	path      string
	resource  string
	audiences []string
	required  []string
	tools     map[string][]string
	verifier  *authn.Verifier
}

// gatewayVerifiers builds, for each route, the verifier `mcp-gateway serve`
// builds (authnconfig.Build, as cmd/mcp-gateway's wire does), with the
// verified-token cache off (it cannot change a verdict) and o's clock. The
// key set loads lazily on first use, through o.HTTPClient.
func gatewayVerifiers(cfg *config.Config, o Options) ([]routeCheck, authn.ClientIDAllower, error) {
	allow := o.ClientIDs
	if allow == nil && len(cfg.AllowedClientIDs) > 0 {
		allow = authn.StaticClientIDs(cfg.AllowedClientIDs)
	}
	_, routes, err := authnconfig.Build(cfg, authnconfig.Options{
		ClientIDs: allow, CacheTTL: -1, HTTPClient: o.HTTPClient, Now: o.Now,
	})
	if err != nil {
		return nil, nil, err
	}
	out := make([]routeCheck, 0, len(routes))
	for _, rv := range routes {
		out = append(out, routeCheck{
			path: rv.Config.Path, resource: rv.Resource, audiences: rv.Audiences,
			required: rv.RequiredScopes, tools: rv.Config.ToolScopes, verifier: rv.Verifier,
		})
	}
	return out, allow, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// checkToken verifies o.Token for every route and explains each refusal.
func checkToken(ctx context.Context, r *Report, cfg *config.Config, o Options, keys *jwksInfo, tp *tokenParts) {
	if tp.problem == "" {
		r.add("token", OK, summarize(tp))
	} // else the "token" finding below says why it cannot be read
	routes, allow, err := gatewayVerifiers(cfg, o)
	if err != nil {
		r.add("verify", Fail, "cannot build the gateway's verifier from this configuration: "+err.Error())
		return
	}
	profile, _ := idp.Lookup(cmpOr(cfg.Provider, config.DefaultProvider))
	ex := &explainer{
		cfg: cfg, prof: profile, tp: tp, keys: keys, now: o.Now().UTC(),
		leeway: cmpDuration(cfg.Leeway, authn.DefaultLeeway), allow: allow,
		clientTable: cfg.ClientIDsTable != "" && o.ClientIDs == nil,
		implies:     authn.NewScopeImplications(cfg.ScopeImplies),
	}
	shared := ex.shared(ctx)
	type result struct {
		rc       routeCheck
		p        *authn.Principal
		err      error
		findings []finding
	}
	results := make([]result, 0, len(routes))
	var acceptedOn []string // routes whose verifier accepted the token
	for _, rc := range routes {
		p, err := rc.verifier.Verify(ctx, o.Token)
		if err == nil {
			acceptedOn = append(acceptedOn, rc.path)
		}
		results = append(results, result{rc: rc, p: p, err: err, findings: ex.route(rc, p)})
	}
	label := func(rc routeCheck) string {
		if len(routes) > 1 {
			return " [" + rc.path + "]"
		}
		return ""
	}
	// Route-independent claims are shown once, and only when no route
	// accepted the token: otherwise the verifier found them sound, and its
	// verdict stands.
	if len(acceptedOn) == 0 {
		for _, f := range shared {
			r.add(f.name, f.status, f.detail)
		}
	}
	for _, res := range results {
		// A token bound to another route is refused here, as it must be,
		// but that is how a client uses the gateway: one token per route.
		elsewhere := len(acceptedOn) > 0 && res.err != nil && classify(res.err, &ex.prof) == kindAud
		for _, f := range res.findings {
			if f.kind == kindAud && res.err == nil {
				continue
			}
			if elsewhere && f.kind == kindAud {
				f.status = Warn
			}
			r.add(f.name+label(res.rc), f.status, f.detail)
		}
		s, d := ex.verdict(res.rc, res.p, res.err, append(slices.Clone(shared), res.findings...))
		if elsewhere {
			s, d = Warn, d+"; the token is for "+strings.Join(acceptedOn, ", ")+", and clients get one token per route"
		}
		r.add("verify"+label(res.rc), s, d)
	}
}

func cmpDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// verdict is the gateway's answer to the token on one route: the
// verifier's, with the finding that explains it named.
func (e *explainer) verdict(rc routeCheck, p *authn.Principal, err error, found []finding) (Status, string) {
	switch {
	case err == nil:
		if missing := p.MissingScopes(rc.required); len(missing) > 0 {
			return Fail, fmt.Sprintf("the gateway answers 403 insufficient_scope on %s: the token is valid but lacks %s (see token/scope)", rc.resource, strings.Join(missing, " "))
		}
		return OK, fmt.Sprintf("the gateway accepts it on %s: sub %q, client %q, scopes %q", rc.resource, p.Subject, p.ClientID, strings.Join(p.Scopes, " "))
	case errors.Is(err, authn.ErrKeysUnavailable):
		return Fail, fmt.Sprintf("the gateway answers 503 on %s: it cannot consult the issuer's keys or the client allowlist (%v); see the discovery and jwks checks", rc.resource, err)
	}
	refused := fmt.Sprintf("the gateway answers 401 invalid_token on %s: %v", rc.resource, err)
	kind := classify(err, &e.prof)
	if kind == kindSignature {
		kid, _ := e.tp.header["kid"].(string)
		return Fail, refused + fmt.Sprintf(". The signature does not verify with the issuer's key %q: the token was altered or cut short (copy it whole), or another issuer signed it with a key that reuses this kid", kid)
	}
	for _, f := range found {
		if f.kind == kind && kind != "" {
			return Fail, refused + " (see " + f.name + ")"
		}
	}
	return Fail, refused + ". doctor has no further explanation for this check: the verifier's reason is the cause"
}

// opaqueHint names the usual reasons an authorization server hands out a
// token the gateway cannot read.
const opaqueHint = ". Authorization servers issue opaque or encrypted tokens when the request named no API they " +
	"sign JWTs for: send resource=<the route's URL> (oidc-provider issues opaque tokens without it), " +
	"audience=<API identifier> for Auth0, or the API's scope for Entra ID; Auth0 issues a JWE when " +
	"the API has token encryption on"

// summarize lists the decoded header and claims that matter, never the
// signature.
func summarize(tp *tokenParts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "decoded (not yet verified): alg %q", str(tp.header, "alg"))
	if kid, ok := tp.header["kid"].(string); ok {
		fmt.Fprintf(&b, ", kid %q", kid)
	}
	if typ, ok := tp.header["typ"].(string); ok {
		fmt.Fprintf(&b, ", typ %q", typ)
	}
	c := tp.claims
	for _, name := range []string{"iss", "aud", "sub", "client_id", "azp", "cid", "appid", "token_use", "scope", "scp"} {
		v, ok := c[name]
		if !ok {
			continue
		}
		switch x := v.(type) {
		case string:
			fmt.Fprintf(&b, "; %s %q", name, x)
		default:
			raw, _ := json.Marshal(x)
			fmt.Fprintf(&b, "; %s %s", name, raw)
		}
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		if t, ok := timeClaim(c, name); ok {
			fmt.Fprintf(&b, "; %s %s", name, t.Format(time.RFC3339))
		}
	}
	b.WriteString("; signature not shown")
	return b.String()
}
