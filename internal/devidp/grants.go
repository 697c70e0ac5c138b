package devidp

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"slices"
)

// grantCode exchanges an authorization code (RFC 6749 §4.1.3): the code is
// single-use and lives 60s; it must have been issued to this client;
// redirect_uri must repeat the authorization request's; the PKCE verifier
// must hash to the S256 challenge (RFC 7636 §4.6). `resource`, when given,
// must equal the authorization request's or, if that had none, be a
// configured resource (RFC 8707 §2.2); otherwise the authorization request's
// resource or the single configured one becomes `aud`.
func (s *Server) grantCode(c *client, form url.Values) (*tokenResponse, *oauthError) {
	var vals [3]string
	for i, name := range []string{"code", "redirect_uri", "code_verifier"} {
		v, e := single(form, name)
		if e != nil {
			return nil, e
		}
		vals[i] = v
	}
	code, redirectURI, verifier := vals[0], vals[1], vals[2]
	if code == "" {
		return nil, newErr(errInvalidRequest, "code is required")
	}
	ac := s.takeCode(code)
	if ac == nil {
		return nil, newErr(errInvalidGrant, "authorization code is invalid, expired or already used")
	}
	if ac.ClientID != c.ID {
		return nil, newErr(errInvalidGrant, "authorization code was issued to another client")
	}
	if (ac.RedirectGiven || redirectURI != "") && redirectURI != ac.RedirectURI {
		return nil, newErr(errInvalidGrant, "redirect_uri does not match the authorization request")
	}
	if verifier == "" {
		return nil, newErr(errInvalidRequest, "code_verifier is required (PKCE)")
	}
	if !pkceValue.MatchString(verifier) || s256(verifier) != ac.Challenge {
		return nil, newErr(errInvalidGrant, "PKCE verification failed")
	}
	resource, e := s.resolveResource(form["resource"])
	if e != nil {
		return nil, e
	}
	switch {
	case resource != "" && ac.Resource != "" && resource != ac.Resource:
		return nil, newErr(errInvalidTarget, "resource differs from the authorization request")
	case resource == "" && ac.Resource != "":
		resource = ac.Resource
	case resource == "":
		if resource, e = s.defaultResource(); e != nil {
			return nil, e
		}
	}
	return s.issueTokens(issue{
		client:   c,
		subject:  ac.Subject,
		resource: resource,
		scopes:   ac.Scopes,
		authTime: ac.AuthTime,
		refresh:  c.allows(grantRefreshToken),
		idToken:  true,
		nonce:    ac.Nonce,
	})
}

// grantRefresh redeems a refresh token (RFC 6749 §6). Tokens rotate: the
// presented one is consumed and a new one with the same grant (scopes,
// resource, subject) is returned. `scope` may narrow the new access token
// only; `resource`, if given, must be the grant's. A failed request leaves
// the presented token usable. No ID token is issued on refresh.
func (s *Server) grantRefresh(c *client, form url.Values) (*tokenResponse, *oauthError) {
	tok, e := single(form, "refresh_token")
	if e != nil {
		return nil, e
	}
	scope, e := single(form, "scope")
	if e != nil {
		return nil, e
	}
	if tok == "" {
		return nil, newErr(errInvalidRequest, "refresh_token is required")
	}
	resource, e := s.resolveResource(form["resource"])
	if e != nil {
		return nil, e
	}
	g := s.peekRefresh(tok, c.ID)
	if g == nil {
		return nil, newErr(errInvalidGrant, "refresh token is invalid, expired or already used")
	}
	if resource != "" && resource != g.Resource {
		return nil, newErr(errInvalidTarget, "resource differs from the original grant")
	}
	scopes, e := narrowScopes(scope, g.Scopes)
	if e != nil {
		return nil, e
	}
	if g = s.takeRefresh(tok, c.ID); g == nil { // lost a race with a concurrent use
		return nil, newErr(errInvalidGrant, "refresh token is invalid, expired or already used")
	}
	return s.issueTokens(issue{
		client:      c,
		subject:     g.Subject,
		resource:    g.Resource,
		scopes:      scopes,
		grantScopes: g.Scopes,
		authTime:    g.AuthTime,
		refresh:     true,
	})
}

// grantClientCredentials issues a token for the client itself (RFC 6749
// §4.4): only confidential clients allowed the grant (the dev client).
// `sub` and `username` are the client id (RFC 9068 §2.2). `scope` must name
// configured scopes (all when empty); `resource` must be configured or is
// defaulted as for codes. No refresh token (RFC 6749 §4.4.3).
func (s *Server) grantClientCredentials(c *client, form url.Values) (*tokenResponse, *oauthError) {
	if c.public() {
		return nil, newErr(errUnauthorizedClient, "client_credentials needs a confidential client")
	}
	scope, e := single(form, "scope")
	if e != nil {
		return nil, e
	}
	scopes, e := s.resolveScopes(scope)
	if e != nil {
		return nil, e
	}
	scopes = slices.DeleteFunc(scopes, func(sc string) bool { return slices.Contains(oidcScopes, sc) })
	resource, e := s.resolveResource(form["resource"])
	if e != nil {
		return nil, e
	}
	if resource == "" {
		if resource, e = s.defaultResource(); e != nil {
			return nil, e
		}
	}
	return s.issueTokens(issue{client: c, subject: c.ID, resource: resource, scopes: scopes, authTime: s.now()})
}

// s256 is the RFC 7636 §4.2 S256 transformation.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
