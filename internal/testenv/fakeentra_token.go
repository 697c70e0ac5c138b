package testenv

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// The token endpoint's checks, in the order they run. Each failure answers
// Microsoft's error body (error codes reference, "Handling error codes in
// your application"): error, error_description "AADSTS<n>: <text>\r\nTrace
// ID: ...\r\nCorrelation ID: ...\r\nTimestamp: ...", error_codes, timestamp,
// trace_id, correlation_id (the client-request-id header when sent),
// error_uri, and suberror/claims for refusals. invalid_client is HTTP 401,
// everything else 400 unless an EntraRefusal says otherwise. Codes are the
// ones the error codes reference lists for the case, except those marked
// "seen", which Entra returns in practice but the reference does not list,
// and "fake's choice", where neither gave a code.
//
//  1. POST only: invalid_request AADSTS900561.
//  2. grant_type: missing, invalid_request AADSTS900144; other than
//     jwt-bearer, unsupported_grant_type AADSTS70003 (only OBO is served).
//  3. requested_token_use: missing, AADSTS900144; not on_behalf_of,
//     invalid_request AADSTS90100 (fake's choice).
//  4. Client: client_id (body, or the Basic user name) missing, AADSTS900144;
//     unknown, unauthorized_client AADSTS700016; no credential,
//     invalid_client AADSTS7000218; more than one, invalid_request
//     AADSTS90023 (fake's choice); wrong or unregistered secret,
//     invalid_client AADSTS7000215.
//  5. Client assertion (certificate credentials doc): client_assertion_type
//     must be jwt-bearer (AADSTS900144 missing, invalid_client AADSTS50027
//     otherwise); the JWS must parse with alg RS256 or PS256 (invalid_client
//     AADSTS50027); x5t#S256 or x5t must name a registered certificate
//     (AADSTS700027); the signature must verify with it (AADSTS700027); iss
//     must be client_id (AADSTS700021, seen), sub must equal iss
//     (AADSTS50048), aud must be the token endpoint (AADSTS50027,
//     "unexpected audience"), exp present and future and nbf not future
//     (AADSTS700024, seen).
//  6. assertion (the user's token): missing, AADSTS900144; not signed by
//     this fake or of another issuer or without oid, invalid_grant
//     AADSTS50013; expired or not yet valid, invalid_grant AADSTS500133; aud
//     neither the caller's client id nor one of its identifier URIs,
//     invalid_grant AADSTS50013 (the doc: "This token must have an audience
//     (aud) claim of the app making this OBO request"); no scp (an app-only
//     token), invalid_grant AADSTS7000114 ("OBO only works for user
//     principals").
//  7. scope: missing, AADSTS900144; a scope naming no registered resource,
//     invalid_resource AADSTS500011; two resources, invalid_scope
//     AADSTS700022; a permission the resource does not expose, .default
//     mixed with other permissions of the resource, or only OIDC scopes,
//     invalid_scope AADSTS70011; a resource exposing no delegated
//     permission, invalid_grant AADSTS65001.
//  8. RefuseUser / RefuseAll.
//
// Success (on-behalf-of doc, "Middle-tier access token response"): 200 JSON
// token_type "Bearer", scope (the granted permissions as full scope
// strings, without offline_access), expires_in, ext_expires_in (equal to
// expires_in), access_token, and refresh_token only when offline_access
// was requested (opaque; this fake does not redeem it). The access token
// is a v2.0 token for the downstream app: aud its client id, iss, tid, oid
// and name/preferred_username from the assertion, sub PairwiseSub(oid,
// downstream client id), azp the middle tier's client id, azpacr "1"
// (secret) or "2" (certificate), scp the granted permissions, iat/nbf/exp
// (TokenTTL), uti, ver "2.0".
func (f *FakeEntra) serveToken(w http.ResponseWriter, r *http.Request) {
	if !f.tenantOK(w, r) {
		return
	}
	rec := EntraTokenRequest{}
	resp, e := f.exchange(r, &rec)
	if e != nil {
		rec.Status, rec.Error, rec.Code = e.status, e.err, e.code
		f.record(rec)
		f.writeError(w, r, *e)
		return
	}
	rec.Status = http.StatusOK
	f.record(rec)
	writeEntraJSON(w, http.StatusOK, resp)
}

// entraErr is one error answer of the token endpoint.
type entraErr struct {
	status             int
	err                string
	code               int
	desc               string
	suberror, claimsCh string
}

func entraBadRequest(err string, code int, format string, a ...any) *entraErr {
	return &entraErr{status: http.StatusBadRequest, err: err, code: code, desc: fmt.Sprintf(format, a...)}
}

func entraInvalidClient(code int, format string, a ...any) *entraErr {
	return &entraErr{status: http.StatusUnauthorized, err: "invalid_client", code: code, desc: fmt.Sprintf(format, a...)}
}

func entraMissingParam(name string) *entraErr {
	return entraBadRequest("invalid_request", 900144, "The request body must contain the following parameter: '%s'.", name)
}

// entraTokenResponse is the OBO success body.
type entraTokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

func (f *FakeEntra) exchange(r *http.Request, rec *EntraTokenRequest) (*entraTokenResponse, *entraErr) {
	if r.Method != http.MethodPost {
		return nil, entraBadRequest("invalid_request", 900561, "The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method)
	}
	if err := r.ParseForm(); err != nil {
		return nil, entraBadRequest("invalid_request", 90004, "The request isn't properly formatted: %v", err)
	}
	form := r.PostForm
	rec.Form = entraCloneValues(form)
	for _, k := range []string{"client_secret", "client_assertion"} {
		if rec.Form.Has(k) {
			rec.Form[k] = []string{"REDACTED"}
		}
	}
	switch gt := form.Get("grant_type"); {
	case gt == "":
		return nil, entraMissingParam("grant_type")
	case gt != EntraGrantTypeJWTBearer:
		return nil, entraBadRequest("unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", gt)
	}
	switch use := form.Get("requested_token_use"); {
	case use == "":
		return nil, entraMissingParam("requested_token_use")
	case use != EntraRequestedTokenUseOBO:
		return nil, entraBadRequest("invalid_request", 90100, "The parameter 'requested_token_use' is empty or not valid: '%s'.", use)
	}
	app, method, e := f.authenticate(r, form)
	rec.ClientAuth = method
	if e != nil {
		return nil, e
	}
	user, e := f.checkUserAssertion(app, form.Get("assertion"))
	if e != nil {
		return nil, e
	}
	g, e := f.resolveScope(form.Get("scope"))
	if e != nil {
		return nil, e
	}
	if ref := f.refusalFor(user.OID); ref != nil {
		return nil, f.refusalError(*ref, app, g.resource)
	}
	return f.issue(app, method, user, g)
}

// entraGrant is a resolved scope parameter.
type entraGrant struct {
	resource *EntraApp
	perms    []string // permission names, for scp
	scope    string   // full scope strings, for the response
	offline  bool
}

// resolveScope is step 7: scopes are "<identifier>/<permission>" where the
// identifier is an app's client id or identifier URI (the longest match
// wins), or the OIDC scopes openid, profile, email, offline_access.
func (f *FakeEntra) resolveScope(raw string) (entraGrant, *entraErr) {
	var g entraGrant
	fields := strings.Fields(raw)
	if len(fields) == 0 {
		return g, entraMissingParam("scope")
	}
	invalidScope := func(s string) *entraErr {
		return entraBadRequest("invalid_scope", 70011, "The provided value for the input parameter 'scope' isn't valid. The scope %s isn't valid.", s)
	}
	var prefix string
	dflt := false
	for _, s := range fields {
		switch s {
		case "openid", "profile", "email":
			continue
		case "offline_access":
			g.offline = true
			continue
		}
		app, id, perm := f.lookupScope(s)
		if app == nil {
			i := strings.LastIndex(s, "/")
			if i <= 0 {
				return g, invalidScope(s)
			}
			return g, entraBadRequest("invalid_resource", 500011, "The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", s[:i], f.tenant)
		}
		if g.resource != nil && g.resource != app {
			return g, entraBadRequest("invalid_scope", 700022, "The provided value for the input parameter scope isn't valid because it contains more than one resource. Scope %s isn't valid.", raw)
		}
		g.resource, prefix = app, id
		if perm == ".default" {
			dflt = true
			continue
		}
		i := slices.IndexFunc(app.Scopes, func(p string) bool { return strings.EqualFold(p, perm) })
		if i < 0 {
			return g, invalidScope(s)
		}
		if !slices.Contains(g.perms, app.Scopes[i]) {
			g.perms = append(g.perms, app.Scopes[i])
		}
	}
	switch {
	case g.resource == nil:
		return g, invalidScope(raw)
	case dflt && len(g.perms) > 0:
		return g, invalidScope(raw)
	case dflt:
		g.perms = slices.Clone(g.resource.Scopes)
	}
	if len(g.perms) == 0 {
		return g, entraBadRequest("invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '%s'. The resource exposes no delegated permission. Send an interactive authorization request for this user and resource.", g.resource.ClientID)
	}
	full := make([]string, len(g.perms))
	for i, p := range g.perms {
		full[i] = prefix + "/" + p
	}
	g.scope = strings.Join(full, " ")
	return g, nil
}

// lookupScope splits scope s at the longest registered identifier
// followed by "/".
func (f *FakeEntra) lookupScope(s string) (app *EntraApp, id, perm string) {
	for _, a := range f.order {
		for _, cand := range append([]string{a.ClientID}, a.IdentifierURIs...) {
			if cand != "" && len(cand) > len(id) && strings.HasPrefix(s, cand+"/") && len(s) > len(cand)+1 {
				app, id, perm = a, cand, s[len(cand)+1:]
			}
		}
	}
	return app, id, perm
}

// refusalError turns a test's EntraRefusal into the error answer.
func (f *FakeEntra) refusalError(r EntraRefusal, caller, resource *EntraApp) *entraErr {
	e := &entraErr{status: r.Status, err: r.Error, code: r.Code, desc: r.Description, suberror: r.SubError, claimsCh: r.Claims}
	if e.status == 0 {
		e.status = http.StatusBadRequest
	}
	if e.err == "" {
		e.err = "invalid_grant"
	}
	if e.desc == "" {
		switch r.Code {
		case 65001:
			e.desc = fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", caller.ClientID, caller.Name)
		case 50079:
			e.desc = fmt.Sprintf("Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multifactor authentication to access '%s'.", resource.ClientID)
		default:
			e.desc = "The request was refused by the test."
		}
	}
	return e
}

// issue is the success answer.
func (f *FakeEntra) issue(caller *EntraApp, method string, user *entraClaims, g entraGrant) (*entraTokenResponse, *entraErr) {
	azpacr := "1"
	if method == "private_key_jwt" {
		azpacr = "2"
	}
	ttl := f.tokenTTL()
	claims := f.baseClaims(user.OID, g.resource.ClientID, caller.ClientID, azpacr, strings.Join(g.perms, " "), ttl)
	entraSetIf(claims, "name", user.Name)
	entraSetIf(claims, "preferred_username", user.PreferredUsername)
	tok, err := f.sign(claims)
	if err != nil {
		return nil, &entraErr{status: http.StatusInternalServerError, err: "server_error", code: 50000, desc: "There's an issue with the sign-in service: " + err.Error()}
	}
	expiresIn := claims["exp"].(int64) - claims["iat"].(int64)
	resp := &entraTokenResponse{TokenType: "Bearer", Scope: g.scope, ExpiresIn: expiresIn, ExtExpiresIn: expiresIn, AccessToken: tok}
	if g.offline {
		resp.RefreshToken = "0.fake-entra." + entraRandomID(32)
	}
	return resp, nil
}

// writeError writes Microsoft's error body for e.
func (f *FakeEntra) writeError(w http.ResponseWriter, r *http.Request, e entraErr) {
	now := f.now().UTC()
	ts := now.Format("2006-01-02 15:04:05Z")
	trace := entraGUID()
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = entraGUID()
	}
	w.Header().Set("x-ms-request-id", trace)
	w.Header().Set("client-request-id", corr)
	writeEntraJSON(w, e.status, struct {
		Error         string `json:"error"`
		Description   string `json:"error_description"`
		Codes         []int  `json:"error_codes"`
		Timestamp     string `json:"timestamp"`
		TraceID       string `json:"trace_id"`
		CorrelationID string `json:"correlation_id"`
		ErrorURI      string `json:"error_uri"`
		SubError      string `json:"suberror,omitempty"`
		Claims        string `json:"claims,omitempty"`
	}{
		Error:         e.err,
		Description:   fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", e.code, e.desc, trace, corr, ts),
		Codes:         []int{e.code},
		Timestamp:     ts,
		TraceID:       trace,
		CorrelationID: corr,
		ErrorURI:      fmt.Sprintf("%s/error?code=%d", f.URL(), e.code),
		SubError:      e.suberror,
		Claims:        e.claimsCh,
	})
}
