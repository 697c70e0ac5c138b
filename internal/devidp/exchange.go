package devidp

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// RFC 8693 §2.1 grant type and §3 token type identifiers.
const (
	grantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	tokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
)

// subjectToken is what grantTokenExchange reads from a verified subject
// token.
type subjectToken struct {
	subject  string
	scopes   []string
	expiry   time.Time
	authTime time.Time
	act      map[string]any // the token's own act claim, nil when none
}

// grantTokenExchange implements RFC 8693 token exchange for this server's
// own access tokens: a confidential client allowed the grant (the dev
// client) trades a user's access token (subject_token) for one minted for an
// upstream named by `audience` and/or `resource`, each of which must be one
// of Options.ExchangeTargets (else invalid_target, §2.2.2). `scope` may name
// Options.Scopes and Options.ExchangeScopes (else invalid_scope); without it
// the subject token's scopes carry over. The new token keeps the subject's
// sub, gets client_id = the exchanging client and `act: {"sub": client}`
// (§4.1; an act already in the subject token is nested under it), and
// expires at the earlier of now + the access token TTL and the subject
// token's exp. No refresh token is issued.
//
// The subject token must be an at+jwt (RFC 9068 §2.1) signed with this
// server's key, with this issuer, unexpired; anything else is invalid_grant.
// NOT supported: actor_token (invalid_request), other token types,
// several audiences or resources in one request (invalid_target), may_act
// (§4.4). NOT checked: that the exchanging client is an audience of the
// subject token (Keycloak requires it), or that the subject token was issued
// for a configured resource.
func (s *Server) grantTokenExchange(c *client, form url.Values) (*tokenResponse, *oauthError) {
	if c.public() {
		return nil, newErr(errUnauthorizedClient, "token exchange needs a confidential client")
	}
	if len(form["actor_token"]) > 0 || len(form["actor_token_type"]) > 0 {
		return nil, newErr(errInvalidRequest, "actor_token is not supported: the exchanging client itself becomes the actor (act.sub)")
	}
	params := map[string]string{}
	for _, name := range []string{"subject_token", "subject_token_type", "requested_token_type", "scope"} {
		v, e := single(form, name)
		if e != nil {
			return nil, e
		}
		params[name] = v
	}
	if params["subject_token"] == "" {
		return nil, newErr(errInvalidRequest, "subject_token is required")
	}
	switch params["subject_token_type"] {
	case tokenTypeAccessToken, tokenTypeJWT:
	case "":
		return nil, newErr(errInvalidRequest, "subject_token_type is required")
	default:
		return nil, newErr(errInvalidRequest, "subject_token_type must be "+tokenTypeAccessToken+" or "+tokenTypeJWT)
	}
	switch params["requested_token_type"] {
	case "", tokenTypeAccessToken, tokenTypeJWT:
	default:
		return nil, newErr(errInvalidRequest, "requested_token_type must be "+tokenTypeAccessToken+" or "+tokenTypeJWT)
	}
	aud, e := s.exchangeTargets(form)
	if e != nil {
		return nil, e
	}
	sub, e := s.verifySubjectToken(params["subject_token"])
	if e != nil {
		return nil, e
	}
	scopes := sub.scopes
	if strings.TrimSpace(params["scope"]) != "" {
		if scopes, e = s.exchangeScopesFor(params["scope"]); e != nil {
			return nil, e
		}
	}
	now := s.now()
	exp := now.Add(s.accessTTL)
	if sub.expiry.Before(exp) {
		exp = sub.expiry
	}
	if exp.Sub(now) < time.Second {
		return nil, newErr(errInvalidGrant, "subject_token expires within a second")
	}
	act := map[string]any{"sub": c.ID}
	if sub.act != nil {
		act["act"] = sub.act
	}
	authTime := sub.authTime
	if authTime.IsZero() {
		authTime = now
	}
	b := jwt.NewBuilder().
		Issuer(s.issuer).
		Subject(sub.subject).
		Audience(aud).
		IssuedAt(now).
		Expiration(exp).
		JwtID(randomToken()).
		Claim("client_id", c.ID).
		Claim("username", sub.subject).
		Claim("auth_time", authTime.Unix()).
		Claim("act", act)
	if len(scopes) > 0 {
		b = b.Claim("scope", strings.Join(scopes, " "))
	}
	at, err := s.sign(b, "at+jwt")
	if err != nil {
		s.log.Error("devidp: signing failed", "err", err)
		return nil, &oauthError{Code: errServerError, Description: "could not sign the access token", Status: http.StatusInternalServerError}
	}
	resp := &tokenResponse{
		AccessToken:     at,
		IssuedTokenType: tokenTypeAccessToken,
		TokenType:       "Bearer",
		ExpiresIn:       int64(exp.Sub(now) / time.Second),
		Scope:           strings.Join(scopes, " "),
	}
	s.log.Info("devidp: token exchanged", "client_id", c.ID, "sub", sub.subject, "aud", strings.Join(aud, " "), "scope", resp.Scope)
	return resp, nil
}

// exchangeTargets maps `audience` and `resource` (RFC 8693 §2.1; each at
// most once here, at least one) to the configured ExchangeTargets they name,
// compared with oauthmeta.SameResource; the configured spellings become
// `aud`, one entry when both name the same target. `resource` must also be
// an absolute URI without a fragment (RFC 8707 §2).
func (s *Server) exchangeTargets(form url.Values) ([]string, *oauthError) {
	var aud []string
	for _, name := range []string{"audience", "resource"} {
		vs := form[name]
		if len(vs) == 0 {
			continue
		}
		if len(vs) > 1 {
			return nil, newErr(errInvalidTarget, "only one "+name+" per request is supported")
		}
		v := vs[0]
		if name == "resource" {
			if u, err := url.Parse(v); err != nil || !u.IsAbs() || strings.Contains(v, "#") {
				return nil, newErr(errInvalidTarget, "resource must be an absolute URI without a fragment")
			}
		}
		i := slices.IndexFunc(s.exchTargets, func(t string) bool { return oauthmeta.SameResource(t, v) })
		if i < 0 {
			return nil, newErr(errInvalidTarget, name+" "+v+" is not a token exchange target of this server")
		}
		if !slices.Contains(aud, s.exchTargets[i]) {
			aud = append(aud, s.exchTargets[i])
		}
	}
	if len(aud) == 0 {
		return nil, newErr(errInvalidRequest, "audience or resource is required")
	}
	return aud, nil
}

// exchangeScopesFor checks an explicit `scope` of an exchange: every scope
// must be configured (Options.Scopes or Options.ExchangeScopes).
func (s *Server) exchangeScopesFor(raw string) ([]string, *oauthError) {
	var out []string
	for _, sc := range strings.Fields(raw) {
		if !slices.Contains(s.scopes, sc) && !slices.Contains(s.exchScopes, sc) {
			return nil, newErr(errInvalidScope, "scope "+sc+" may not be requested in a token exchange")
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// verifySubjectToken checks that raw is an access token this server issued:
// one JWS signature, typ at+jwt (RFC 9068 §2.1, with or without the
// "application/" prefix, case-insensitive), signature by this server's key,
// iss, exp (no skew: the clock is the signer's), a non-empty sub. Every
// failure is invalid_grant (RFC 8693 §2.2.2) and says which check failed.
// The audience is NOT checked.
func (s *Server) verifySubjectToken(raw string) (*subjectToken, *oauthError) {
	msg, err := jws.Parse([]byte(raw))
	if err != nil || len(msg.Signatures()) != 1 {
		return nil, newErr(errInvalidGrant, "subject_token is not a JWT access token of this server")
	}
	typ := strings.TrimPrefix(strings.ToLower(msg.Signatures()[0].ProtectedHeaders().Type()), "application/")
	if typ != "at+jwt" {
		return nil, newErr(errInvalidGrant, "subject_token is not an access token (typ must be at+jwt)")
	}
	tok, err := jwt.Parse([]byte(raw), jwt.WithKeySet(s.pubSet), jwt.WithValidate(false))
	if err != nil {
		return nil, newErr(errInvalidGrant, "subject_token signature does not verify with this server's key")
	}
	if err := jwt.Validate(tok, jwt.WithIssuer(s.issuer), jwt.WithClock(jwt.ClockFunc(s.now)), jwt.WithRequiredClaim(jwt.ExpirationKey)); err != nil {
		return nil, newErr(errInvalidGrant, "subject_token is expired, not yet valid or from another issuer")
	}
	if tok.Subject() == "" {
		return nil, newErr(errInvalidGrant, "subject_token has no sub")
	}
	st := &subjectToken{subject: tok.Subject(), expiry: tok.Expiration()}
	if v, ok := tok.Get("scope"); ok {
		sc, _ := v.(string)
		st.scopes = strings.Fields(sc)
	}
	if v, ok := tok.Get("auth_time"); ok {
		if f, ok := v.(float64); ok {
			st.authTime = time.Unix(int64(f), 0)
		}
	}
	if v, ok := tok.Get("act"); ok {
		st.act, _ = v.(map[string]any)
	}
	return st, nil
}

// exchangeOptions validates Options.ExchangeTargets (non-empty, no
// whitespace; duplicates dropped) and Options.ExchangeScopes (RFC 6749 §3.3
// scope-tokens; duplicates and those already in Scopes dropped).
func exchangeOptions(opts Options) (targets, scopes []string, err error) {
	for _, t := range opts.ExchangeTargets {
		if t == "" || strings.ContainsFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return nil, nil, fmt.Errorf("devidp: invalid exchange target %q", t)
		}
		if !slices.Contains(targets, t) {
			targets = append(targets, t)
		}
	}
	for _, sc := range opts.ExchangeScopes {
		if !oauthmeta.ValidScopeToken(sc) {
			return nil, nil, fmt.Errorf("devidp: invalid exchange scope %q (RFC 6749 §3.3)", sc)
		}
		if !slices.Contains(opts.Scopes, sc) && !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	return targets, scopes, nil
}
