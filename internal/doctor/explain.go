package doctor

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
)

// Kinds of failure: what a finding explains, matched against the
// verifier's reason (see classify).
const (
	kindFormat    = "format"
	kindSize      = "size"
	kindAlg       = "alg"
	kindKID       = "kid"
	kindSignature = "signature"
	kindType      = "type"
	kindIss       = "iss"
	kindTime      = "time"
	kindSub       = "sub"
	kindClient    = "client"
	kindAud       = "aud"
	kindScope     = "scope" // a malformed scope claim: the verifier refuses it
	kindMissing   = "403"   // required scopes missing: the gateway answers 403
	kindTools     = "tools" // tool scopes missing: some tools hidden
	kindNote      = "note"  // nothing failed; context only
	maxListedKIDs = 8       // kids listed when the token's is not among them
	idTokenAdvice = "send the access token (access_token in the token response), never the id_token"
)

// finding is one claim that fails, with its fix.
type finding struct {
	kind   string
	name   string
	status Status
	detail string
}

// explainer reads the decoded token against the configuration. It never
// decides the verdict; it says why a claim fails.
type explainer struct {
	cfg         *config.Config
	prof        idp.Profile
	tp          *tokenParts
	keys        *jwksInfo
	now         time.Time
	leeway      time.Duration
	allow       authn.ClientIDAllower
	clientTable bool // client_ids_table configured but not consulted
	implies     *authn.ScopeImplications
}

func (e *explainer) fail(out *[]finding, kind, name, format string, args ...any) {
	*out = append(*out, finding{kind: kind, name: name, status: Fail, detail: fmt.Sprintf(format, args...)})
}

// shared returns the findings that do not depend on the route.
func (e *explainer) shared(ctx context.Context) []finding {
	var out []finding
	if e.tp.problem != "" {
		e.fail(&out, kindFormat, "token", "the gateway cannot read this token: %s%s", e.tp.problem, opaqueHint)
		return out
	}
	if max := cmpInt(e.cfg.MaxTokenBytes, authn.DefaultMaxTokenBytes); e.tp.size > max {
		e.fail(&out, kindSize, "token/size", "the token is %d bytes, more than max_token_bytes (%d): raise max_token_bytes if the IdP really issues tokens this large", e.tp.size, max)
	}
	e.alg(&out)
	e.kid(&out)
	e.tokenType(&out)
	e.issuer(&out)
	e.times(&out)
	if sub := e.prof.Subject(); str(e.tp.claims, sub) == "" {
		e.fail(&out, kindSub, "token/sub", "the token has no %s (the user or client it stands for); the gateway requires one", sub)
	}
	e.client(ctx, &out)
	return out
}

func cmpInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func (e *explainer) alg(out *[]finding) {
	alg, _ := e.tp.header["alg"].(string)
	switch {
	case alg == "":
		e.fail(out, kindAlg, "token/alg", "the token header has no alg")
		return
	case strings.EqualFold(alg, "none"):
		e.fail(out, kindAlg, "token/alg", "the token is unsigned (alg %q): no authorization server issues such an access token; it was built by hand or by a test tool", alg)
		return
	case strings.HasPrefix(alg, "HS"):
		e.fail(out, kindAlg, "token/alg", "the token is signed with %s, a shared-secret (HMAC) algorithm: the gateway accepts only public-key signatures (RS*, PS*, ES*, EdDSA) it can check against the issuer's JWKS. Configure the IdP to sign this API's access tokens with RS256 (Auth0: the API's signing algorithm)", alg)
		return
	case !slices.Contains([]string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}, alg):
		e.fail(out, kindAlg, "token/alg", "alg %q is not one the gateway accepts (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)", alg)
		return
	}
	key := e.key()
	if key == nil {
		return
	}
	want := map[string]string{"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}[alg[:2]]
	kty := key.KeyType().String()
	if kty != want {
		e.fail(out, kindAlg, "token/alg", "alg %s needs a %s key but key %q in the JWKS is %s: the token was not signed by this key", alg, want, key.KeyID(), kty)
	} else if ka := key.Algorithm().String(); ka != "" && ka != alg {
		e.fail(out, kindAlg, "token/alg", "alg %s differs from the alg %s that key %q declares in the JWKS: the token was not signed by this key", alg, ka, key.KeyID())
	}
}

// key returns the JWKS key the token's kid names (or the only key when it
// names none), nil when there is none.
func (e *explainer) key() jwk.Key {
	if e.keys == nil {
		return nil
	}
	kid, _ := e.tp.header["kid"].(string)
	if kid == "" {
		if e.keys.set.Len() == 1 {
			k, _ := e.keys.set.Key(0)
			return k
		}
		return nil
	}
	k, _ := e.keys.set.LookupKeyID(kid)
	return k
}

func (e *explainer) kid(out *[]finding) {
	if e.keys == nil {
		return
	}
	kid, hasKID := e.tp.header["kid"].(string)
	var kids []string
	for i := range e.keys.set.Len() {
		k, _ := e.keys.set.Key(i)
		kids = append(kids, fmt.Sprintf("%q", k.KeyID()))
	}
	if len(kids) > maxListedKIDs {
		kids = append(kids[:maxListedKIDs], "...")
	}
	explicit := ""
	if e.cfg.JWKSURI != "" {
		explicit = " (jwks_uri is set explicitly: check that it is this issuer's key set)"
	}
	switch k := e.key(); {
	case !hasKID && k == nil:
		e.fail(out, kindKID, "token/kid", "the token has no kid and the issuer's JWKS at %s holds %d keys: the gateway picks the key by kid, so it cannot choose one; configure the IdP to put kid in access token headers", e.keys.uri, e.keys.set.Len())
	case k == nil:
		e.fail(out, kindKID, "token/kid", "kid %q is not in the issuer's JWKS at %s (kids there: %s): the token was signed by another issuer or tenant (compare iss), or by a key the IdP has since removed (get a new token)%s", kid, e.keys.uri, strings.Join(kids, ", "), explicit)
	default:
		if why := authn.UnusableKey(k); why != "" {
			e.fail(out, kindKID, "token/kid", "kid %q is in the JWKS at %s but the gateway cannot verify with it: %s; the IdP must publish its public signing key", kid, e.keys.uri, why)
		}
	}
}

func (e *explainer) tokenType(out *[]finding) {
	c := e.tp.claims
	name := "token/type"
	for _, claim := range slices.Sorted(maps.Keys(e.prof.RequiredClaims)) {
		want, got := e.prof.RequiredClaims[claim], str(c, claim)
		switch {
		case got == want:
		case claim == "token_use" && got == "id":
			e.fail(out, kindType, name, "this is a Cognito ID token (token_use %q, aud the app client id %q): %s", got, strings.Join(strList(c, "aud"), " "), idTokenAdvice)
		case got == "":
			e.fail(out, kindType, name, "the token lacks %s=%q, which marks a %s access token: it is another kind of token, or provider %q is wrong for this issuer%s", claim, want, e.prof.Name, e.prof.Name, guessHint(c, e.prof.Name))
		default:
			e.fail(out, kindType, name, "%s is %q, not %q: this is not an access token", claim, got, want)
		}
	}
	var idMarks []string
	for _, claim := range e.prof.ForbiddenClaims {
		if _, ok := c[claim]; ok {
			idMarks = append(idMarks, claim)
		}
	}
	if len(idMarks) > 0 {
		e.fail(out, kindType, name, "the token carries %s, which only OpenID Connect ID tokens carry (OIDC Core 1.0 §2, §3.1.3.6): this is an ID token; %s", strings.Join(idMarks, ", "), idTokenAdvice)
	}
	for _, claim := range slices.Sorted(maps.Keys(e.prof.ForbiddenClaimValues)) {
		if _, said := e.prof.RequiredClaims[claim]; said {
			continue // already explained above
		}
		if v := str(c, claim); v != "" && slices.Contains(e.prof.ForbiddenClaimValues[claim], v) {
			what := "an ID token; " + idTokenAdvice
			if !strings.EqualFold(v, "id") {
				what = "a " + strings.ToLower(v) + " token, not an access token; send the access_token"
			}
			e.fail(out, kindType, name, "%s is %q: this is %s", claim, v, what)
		}
	}
	if typ, ok := e.tp.header["typ"].(string); ok && len(e.prof.TypHeaders) > 0 {
		norm := strings.TrimPrefix(strings.ToLower(typ), "application/")
		if !slices.ContainsFunc(e.prof.TypHeaders, func(t string) bool { return strings.EqualFold(t, norm) }) {
			e.fail(out, kindType, name, "header typ %q is not an access token type (accepted: JWT, at+jwt, or none)", typ)
		}
	}
}

func (e *explainer) issuer(out *[]finding) {
	got, want := str(e.tp.claims, "iss"), e.cfg.Issuer
	switch {
	case got == want:
	case got == "":
		e.fail(out, kindIss, "token/iss", "the token has no iss; the gateway requires iss to equal issuer %q exactly", want)
	case strings.TrimSuffix(got, "/") == strings.TrimSuffix(want, "/"):
		e.fail(out, kindIss, "token/iss", "iss %q and the configured issuer %q differ only by a trailing slash, and issuers compare exactly (RFC 7519 §4.1.1): set issuer to %q, exactly what the IdP's metadata says", got, want, got)
	case strings.HasPrefix(got, "https://sts.windows.net/") && strings.Contains(want, "login.microsoftonline.com"):
		e.fail(out, kindIss, "token/iss", "iss %q is Entra ID's v1 issuer and the configured issuer %q is the v2 one: set \"accessTokenAcceptedVersion\": 2 in the API app registration's manifest so tokens carry the v2 issuer, or configure issuer %q", got, want, got)
	default:
		e.fail(out, kindIss, "token/iss", "iss %q is not the configured issuer %q: the token comes from another authorization server (another tenant, realm, user pool or environment). Get a token from %s, or, if %s is the one to trust, set issuer to it", got, want, want, got)
	}
}

func (e *explainer) times(out *[]finding) {
	c, now, l := e.tp.claims, e.now, e.leeway
	clock := fmt.Sprintf("doctor's clock %s, leeway %s", now.Format(time.RFC3339), l)
	exp, ok := timeClaim(c, "exp")
	switch {
	case !ok:
		e.fail(out, kindTime, "token/exp", "the token has no numeric exp; the gateway requires one (RFC 9068 §2.2)")
	case !now.Before(exp.Add(l)):
		e.fail(out, kindTime, "token/exp", "the token expired at %s, %s ago (%s): get a fresh one (clients refresh or log in again); if it was issued moments ago, this machine's clock or the IdP's is wrong", exp.Format(time.RFC3339), now.Sub(exp).Round(time.Second), clock)
	}
	if nbf, ok := timeClaim(c, "nbf"); ok && now.Add(l).Before(nbf) {
		e.fail(out, kindTime, "token/exp", "the token is not valid before %s, %s from now (%s): the IdP's clock is ahead of this machine's; synchronize clocks (NTP) or raise leeway (at most 5m)", nbf.Format(time.RFC3339), nbf.Sub(now).Round(time.Second), clock)
	}
	if iat, ok := timeClaim(c, "iat"); ok && now.Add(l).Before(iat) {
		e.fail(out, kindTime, "token/exp", "the token was issued at %s, %s in the future (%s): synchronize clocks (NTP)", iat.Format(time.RFC3339), iat.Sub(now).Round(time.Second), clock)
	}
}

func (e *explainer) client(ctx context.Context, out *[]finding) {
	id, claim := clientOf(e.tp.claims, &e.prof)
	if id == "" {
		if e.prof.RequireClientID || e.allow != nil {
			e.fail(out, kindClient, "token/client", "the token names no client (none of %s, read by provider %s): ID tokens have none (only aud), and other IdPs use other claims%s", strings.Join(e.prof.ClientIDClaims, ", "), e.prof.Name, guessHint(e.tp.claims, e.prof.Name))
		}
		return
	}
	if e.allow == nil {
		return
	}
	ok, err := e.allow.AllowClientID(ctx, id)
	if err != nil || ok {
		return // an unreachable allowlist is the verifier's 503
	}
	where := fmt.Sprintf("allowed_client_ids (%d listed)", len(e.cfg.AllowedClientIDs))
	if e.cfg.ClientIDsTable != "" {
		where += " nor registered in client_ids_table " + e.cfg.ClientIDsTable + " (or its registration expired)"
		if e.clientTable {
			where += "; doctor did not consult that table here"
		}
	}
	e.fail(out, kindClient, "token/client", "client %q (claim %s) is not in %s: add it to allowed_client_ids, or have the client register through mcp-dcr", id, claim, where)
}

// guessHint names the provider a token looks like when it is not the
// configured one.
func guessHint(c map[string]any, configured string) string {
	iss := str(c, "iss")
	var guess, why string
	switch {
	case str(c, "token_use") != "" || strings.Contains(iss, "cognito-idp."):
		guess, why = "cognito", "token_use/iss"
	case str(c, "cid") != "":
		guess, why = "okta", "cid"
	case str(c, "appid") != "" || str(c, "tid") != "":
		guess, why = "entra", "appid/tid"
	case strings.Contains(iss, "/realms/"):
		guess, why = "keycloak", "a /realms/ issuer"
	case c["permissions"] != nil:
		guess, why = "auth0", "permissions"
	}
	if guess == "" || guess == configured {
		return ""
	}
	return fmt.Sprintf("; the token looks like %s's (%s): is provider %s?", guess, why, guess)
}
