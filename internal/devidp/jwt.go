package devidp

import (
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// MintAccessToken signs an RFC 9068 access token directly, bypassing every
// flow; it is meant for the ready-to-paste curl line printed by
// `mcp-gateway dev` and for tests. Nothing is checked: resource need not be a
// configured resource and clientID need not be registered. An empty subject
// means the default subject, an empty resource omits `aud`, and ttl <= 0
// means the configured access token TTL.
func (s *Server) MintAccessToken(subject, clientID, resource string, scopes []string, ttl time.Duration) (string, error) {
	if subject == "" {
		subject = s.subject
	}
	if ttl <= 0 {
		ttl = s.accessTTL
	}
	return s.signAccessToken(subject, clientID, resource, scopes, s.now(), ttl)
}

// signAccessToken builds and signs the RFC 9068 §2.2 claims: iss, sub, aud
// (the resource, a single string), client_id, scope (space-separated), iat,
// exp, jti, plus `username` (the subject, as Cognito names it). The JOSE
// header carries typ "at+jwt" (RFC 9068 §2.1) and the key's kid.
func (s *Server) signAccessToken(subject, clientID, resource string, scopes []string, authTime time.Time, ttl time.Duration) (string, error) {
	now := s.now()
	b := jwt.NewBuilder().
		Issuer(s.issuer).
		Subject(subject).
		IssuedAt(now).
		Expiration(now.Add(ttl)).
		JwtID(randomToken()).
		Claim("client_id", clientID).
		Claim("username", subject).
		Claim("auth_time", authTime.Unix())
	if resource != "" {
		b = b.Audience([]string{resource})
	}
	if len(scopes) > 0 {
		b = b.Claim("scope", strings.Join(scopes, " "))
	}
	return s.sign(b, "at+jwt")
}

// signIDToken builds an OpenID Connect Core §2 ID token for the client:
// aud and azp are the client id; nonce is echoed when given.
func (s *Server) signIDToken(subject, clientID, nonce string, authTime time.Time) (string, error) {
	now := s.now()
	b := jwt.NewBuilder().
		Issuer(s.issuer).
		Subject(subject).
		Audience([]string{clientID}).
		IssuedAt(now).
		Expiration(now.Add(s.accessTTL)).
		Claim("azp", clientID).
		Claim("auth_time", authTime.Unix()).
		Claim("preferred_username", subject)
	if nonce != "" {
		b = b.Claim("nonce", nonce)
	}
	return s.sign(b, "JWT")
}

func (s *Server) sign(b *jwt.Builder, typ string) (string, error) {
	tok, err := b.Build()
	if err != nil {
		return "", fmt.Errorf("devidp: build token: %w", err)
	}
	tok.Options().Enable(jwt.FlattenAudience)
	hdrs := jws.NewHeaders()
	if err := hdrs.Set(jws.TypeKey, typ); err != nil {
		return "", fmt.Errorf("devidp: header: %w", err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256, s.signKey, jws.WithProtectedHeaders(hdrs)))
	if err != nil {
		return "", fmt.Errorf("devidp: sign token: %w", err)
	}
	return string(signed), nil
}
