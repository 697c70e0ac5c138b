package devidp

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// pkceValue matches an RFC 7636 §4.1 code verifier and, for S256, the
// base64url challenge (43 characters) as well.
var pkceValue = regexp.MustCompile(`^[A-Za-z0-9\-._~]{43,128}$`)

// maxLoginHint bounds the login_hint used as subject.
const maxLoginHint = 256

// handleAuthorize implements the RFC 6749 §4.1.1 authorization endpoint,
// auto-approved: no user is authenticated and no consent is asked; the
// subject is login_hint or the default subject. Order of checks: client_id
// (a registered client, or an https URL whose Client ID Metadata Document
// is fetched, see documentClient) and redirect_uri (matchRedirect: listed
// for the client, port-agnostic for portless loopback registrations, and
// local-only), whose failures are shown as a 400 JSON error and never
// redirected (RFC 6749 §4.1.2.1); everything else is redirected back with
// error, state and iss. PKCE S256 is required (plain refused, RFC 7636
// §4.2, OAuth 2.1); `resource` (RFC 8707 §2) is optional but must name a
// configured resource; `scope` must be known to this server. NOT checked:
// nonce format, prompt, max_age, request objects, the client's registered
// (or documented) scope: a client may ask for any configured scope at any
// time, so step-up needs no new registration.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if e := parseForm(r); e != nil {
		writeError(w, e)
		return
	}
	q := r.Form
	clientID, e := single(q, "client_id")
	if e != nil {
		writeError(w, e)
		return
	}
	if clientID == "" {
		writeError(w, newErr(errInvalidRequest, "client_id is required"))
		return
	}
	c, e := s.resolveClient(r.Context(), clientID, true)
	if e != nil {
		writeError(w, e)
		return
	}
	if c == nil {
		writeError(w, newErr(errInvalidRequest, "unknown client_id"))
		return
	}
	requested, e := single(q, "redirect_uri")
	if e != nil {
		writeError(w, e)
		return
	}
	redirectURI, e := c.matchRedirect(requested)
	if e != nil {
		s.log.Info("devidp: authorization refused", "client_id", c.ID, "description", e.Description)
		writeError(w, e)
		return
	}
	state := q.Get("state")
	if len(q["state"]) > 1 {
		s.redirectError(w, r, redirectURI, "", newErr(errInvalidRequest, "parameter state repeated"))
		return
	}
	code, e := s.authorize(c, q)
	if e != nil {
		s.redirectError(w, r, redirectURI, state, e)
		return
	}
	code.RedirectURI, code.RedirectGiven = redirectURI, requested != ""
	value, ok := s.putCode(code)
	if !ok {
		s.redirectError(w, r, redirectURI, state, newErr(errTemporarilyUnavailable, "too many pending authorization codes"))
		return
	}
	resp := url.Values{"code": {value}, "iss": {s.issuer}}
	if state != "" {
		resp.Set("state", state)
	}
	s.log.Info("devidp: authorization approved", "client_id", c.ID, "sub", code.Subject, "aud", code.Resource, "scope", strings.Join(code.Scopes, " "))
	http.Redirect(w, r, appendQuery(redirectURI, resp), http.StatusFound)
}

// authorize checks the redirectable part of an authorization request and
// returns the grant the code will stand for.
func (s *Server) authorize(c *client, q url.Values) (*authCode, *oauthError) {
	for _, name := range []string{"response_type", "code_challenge", "code_challenge_method", "scope", "login_hint", "nonce"} {
		if len(q[name]) > 1 {
			return nil, newErr(errInvalidRequest, "parameter "+name+" repeated")
		}
	}
	switch rt := q.Get("response_type"); rt {
	case "code":
	case "":
		return nil, newErr(errInvalidRequest, "response_type is required")
	default:
		return nil, newErr(errUnsupportedResponseType, "only response_type=code is supported")
	}
	if !c.allows(grantAuthorizationCode) {
		return nil, newErr(errUnauthorizedClient, "client may not use the authorization code grant")
	}
	challenge := q.Get("code_challenge")
	if challenge == "" {
		return nil, newErr(errInvalidRequest, "code_challenge is required (PKCE, RFC 7636)")
	}
	if m := q.Get("code_challenge_method"); m != "S256" {
		return nil, newErr(errInvalidRequest, "code_challenge_method must be S256; plain is not supported")
	}
	if !pkceValue.MatchString(challenge) || len(challenge) != 43 {
		return nil, newErr(errInvalidRequest, "code_challenge must be a base64url SHA-256 (43 characters)")
	}
	scopes, e := s.resolveScopes(q.Get("scope"))
	if e != nil {
		return nil, e
	}
	resource, e := s.resolveResource(q["resource"])
	if e != nil {
		return nil, e
	}
	subject := q.Get("login_hint")
	if subject == "" {
		subject = s.subject
	}
	if len(subject) > maxLoginHint {
		return nil, newErr(errInvalidRequest, "login_hint too long")
	}
	now := s.now()
	return &authCode{
		ClientID:  c.ID,
		Challenge: challenge,
		Scopes:    scopes,
		Resource:  resource,
		Subject:   subject,
		Nonce:     q.Get("nonce"),
		AuthTime:  now,
		Expires:   now.Add(codeTTL),
	}, nil
}
