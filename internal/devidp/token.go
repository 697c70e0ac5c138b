package devidp

import (
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// tokenResponse is the RFC 6749 §5.1 successful token response.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	// IssuedTokenType is set by token exchange only (RFC 8693 §2.2.1).
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	Scope           string `json:"scope,omitempty"`
	RefreshToken    string `json:"refresh_token,omitempty"`
	IDToken         string `json:"id_token,omitempty"`
}

// handleToken implements the RFC 6749 §3.2 token endpoint for the
// authorization_code (with PKCE, RFC 7636 §4.6), refresh_token (rotating,
// RFC 6749 §6 and OAuth 2.1 §4.3.1), client_credentials (dev client
// only, RFC 6749 §4.4) and token exchange (dev client only, RFC 8693; see
// grantTokenExchange) grants, with RFC 8707 resource indicators.
// Parameters are read from the form body only; repeated parameters other
// than `resource` are refused. NOT checked: DPoP, mTLS, client assertion
// authentication (private_key_jwt), refresh-token reuse across a family.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	form, e := readPostForm(r)
	if e != nil {
		writeError(w, e)
		return
	}
	grant, e := single(form, "grant_type")
	if e != nil {
		writeError(w, e)
		return
	}
	switch grant {
	case grantAuthorizationCode, grantRefreshToken, grantClientCredentials, grantTokenExchange:
	case "":
		writeError(w, newErr(errInvalidRequest, "grant_type is required"))
		return
	default:
		writeError(w, newErr(errUnsupportedGrantType, "grant_type "+grant+" is not supported"))
		return
	}
	c, e := s.authenticateClient(r, form)
	if e != nil {
		s.log.Info("devidp: client authentication failed", "grant_type", grant, "description", e.Description)
		writeError(w, e)
		return
	}
	if !c.allows(grant) {
		writeError(w, newErr(errUnauthorizedClient, "client may not use the "+grant+" grant"))
		return
	}
	var resp *tokenResponse
	switch grant {
	case grantAuthorizationCode:
		resp, e = s.grantCode(c, form)
	case grantRefreshToken:
		resp, e = s.grantRefresh(c, form)
	case grantTokenExchange:
		resp, e = s.grantTokenExchange(c, form)
	default:
		resp, e = s.grantClientCredentials(c, form)
	}
	if e != nil {
		s.log.Info("devidp: token refused", "grant_type", grant, "client_id", c.ID, "error", e.Code, "description", e.Description)
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// readPostForm parses an application/x-www-form-urlencoded body
// (RFC 6749 §3.2) and returns only the body parameters.
func readPostForm(r *http.Request) (url.Values, *oauthError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, newErr(errInvalidRequest, "content type must be application/x-www-form-urlencoded")
	}
	if e := parseForm(r); e != nil {
		return nil, e
	}
	return r.PostForm, nil
}

// authenticateClient applies RFC 6749 §2.3: HTTP Basic (client_secret_basic,
// with form-urlencoded id and secret), client_secret in the body
// (client_secret_post), or client_id alone for public clients (method none).
// Using two methods at once is invalid_request; any failure to identify or
// authenticate the client is a 401 invalid_client, with a Basic challenge
// when Basic was tried (RFC 6749 §5.2). The method must be the one the
// client registered (the dev client accepts both secret methods). A client_id
// that is an https URL names a Client ID Metadata Document client: public,
// method none, looked up or, when no longer known, fetched again.
func (s *Server) authenticateClient(r *http.Request, form url.Values) (*client, *oauthError) {
	unauthorized := func(basic bool, desc string) *oauthError {
		return &oauthError{Code: errInvalidClient, Description: desc, Status: http.StatusUnauthorized, BasicChallenge: basic}
	}
	formID, e := single(form, "client_id")
	if e != nil {
		return nil, e
	}
	formSecret, e := single(form, "client_secret")
	if e != nil {
		return nil, e
	}
	if id, secret, ok := r.BasicAuth(); ok {
		if formSecret != "" {
			return nil, newErr(errInvalidRequest, "use one client authentication method, not Basic and client_secret together")
		}
		if v, err := url.QueryUnescape(id); err == nil {
			id = v
		}
		if v, err := url.QueryUnescape(secret); err == nil {
			secret = v
		}
		if formID != "" && formID != id {
			return nil, newErr(errInvalidRequest, "client_id in the body differs from the Basic credentials")
		}
		c := s.lookupClient(id) // a metadata-document client never has a secret
		if c == nil || !c.acceptsAuth(authBasic) || !c.secretMatches(secret) {
			return nil, unauthorized(true, "client authentication failed")
		}
		return c, nil
	}
	if formID == "" {
		return nil, unauthorized(false, "client authentication required")
	}
	c, e := s.resolveClient(r.Context(), formID, false)
	if e != nil {
		return nil, unauthorized(false, e.Description)
	}
	if c == nil {
		return nil, unauthorized(false, "unknown client")
	}
	if formSecret != "" {
		if !c.acceptsAuth(authPost) || !c.secretMatches(formSecret) {
			return nil, unauthorized(false, "client authentication failed")
		}
		return c, nil
	}
	if !c.public() {
		return nil, unauthorized(false, "client authentication required for a confidential client")
	}
	return c, nil
}

// issue describes the tokens one successful grant produces.
type issue struct {
	client      *client
	subject     string
	resource    string
	scopes      []string // of the access token
	grantScopes []string // of the refresh token; scopes when nil
	authTime    time.Time
	refresh     bool
	idToken     bool
	nonce       string
}

// issueTokens signs the access token (and ID token) and stores a new
// refresh token when asked.
func (s *Server) issueTokens(in issue) (*tokenResponse, *oauthError) {
	at, err := s.signAccessToken(in.subject, in.client.ID, in.resource, in.scopes, in.authTime, s.accessTTL)
	if err != nil {
		s.log.Error("devidp: signing failed", "err", err)
		return nil, &oauthError{Code: errServerError, Description: "could not sign the access token", Status: http.StatusInternalServerError}
	}
	resp := &tokenResponse{
		AccessToken: at,
		TokenType:   "Bearer",
		ExpiresIn:   int64(s.accessTTL / time.Second),
		Scope:       strings.Join(in.scopes, " "),
	}
	if in.idToken && slices.Contains(in.scopes, "openid") {
		if resp.IDToken, err = s.signIDToken(in.subject, in.client.ID, in.nonce, in.authTime); err != nil {
			s.log.Error("devidp: signing failed", "err", err)
			return nil, &oauthError{Code: errServerError, Description: "could not sign the ID token", Status: http.StatusInternalServerError}
		}
	}
	if in.refresh {
		gs := in.grantScopes
		if gs == nil {
			gs = in.scopes
		}
		rt, ok := s.putRefresh(&refreshGrant{
			ClientID: in.client.ID,
			Subject:  in.subject,
			Scopes:   gs,
			Resource: in.resource,
			AuthTime: in.authTime,
			Expires:  s.now().Add(s.refTTL),
		})
		if !ok {
			return nil, &oauthError{Code: errTemporarilyUnavailable, Description: "too many refresh tokens outstanding", Status: http.StatusServiceUnavailable}
		}
		resp.RefreshToken = rt
	}
	s.log.Info("devidp: tokens issued", "client_id", in.client.ID, "sub", in.subject, "aud", in.resource, "scope", resp.Scope, "refresh", in.refresh)
	return resp, nil
}
