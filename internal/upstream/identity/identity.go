// Package identity decides what an upstream MCP server learns about the
// caller: never the caller's access token or cookies (MCP authorization,
// "Token Passthrough"; MCP security best practices), and, per route,
// nothing, a signed identity (pkg/mcpidentity), a static service
// credential, a token the authorization server mints for the upstream from
// the caller's ([Exchange]: RFC 8693 token exchange or Entra's
// on-behalf-of flow), or (to a stdio process, through its environment) the
// caller's identity unsigned. Every route kind uses the one [Injector]
// interface: the HTTP proxy calls [Outgoing] ([StripClientCredentials],
// then the route's Injector) on every request it sends upstream; the stdio
// relay calls [Env] once per process, turning the headers an Injector sets
// into environment variables ([ForStdio] picks a stdio route's injector).
//
// Injector.Apply takes the request's context, bounded by the route's
// timeout, so that a token exchange honours its deadline and cancellation.
package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/pkg/mcpidentity"
)

// Injector sets what the upstream learns of the caller on an outgoing
// request's headers. Apply must remove any MCP-Gateway-* header already in
// h. It must not read or forward the client's credentials; callers strip
// them first with [StripClientCredentials].
//
// Every route kind uses it: the HTTP proxy on each upstream request, the
// stdio relay once per process (see [Env]). ctx is the request's (or the
// session's) context: an injector that calls out, such as a token exchange,
// must honour its deadline and cancellation.
type Injector interface {
	Apply(ctx context.Context, h http.Header, p *authn.Principal) error
}

var (
	_ Injector = None{}
	_ Injector = (*Signed)(nil)
	_ Injector = (*Static)(nil)
)

// ErrNoPrincipal is returned by injectors that need a caller when there is
// none: the proxy must fail the request rather than send it unsigned.
var ErrNoPrincipal = errors.New("identity: no verified principal for the upstream request")

// clientCredentialHeaders carry a client's credentials in common practice:
// RFC 9110 §11.6.2 and §11.7.2, RFC 6265 §5.4, RFC 2965 (Cookie2), and API-key
// and forwarded-token conventions (X-Api-Key, X-Auth-Token,
// X-Forwarded-Access-Token of oauth2-proxy, X-Amz-Security-Token).
var clientCredentialHeaders = []string{
	"Authorization", "Proxy-Authorization", "Cookie", "Cookie2",
	"X-Api-Key", "X-Auth-Token", "X-Access-Token", "X-Forwarded-Access-Token", "X-Amz-Security-Token",
}

// StripClientCredentials removes from h, whatever the case of their names,
// the headers that carry a client's credentials (Authorization,
// Proxy-Authorization, Cookie, Cookie2, X-Api-Key, X-Auth-Token,
// X-Access-Token, X-Forwarded-Access-Token, X-Amz-Security-Token) and every
// MCP-Gateway-* header the client sent, so a client can neither reach the
// upstream with its token nor forge an identity. It does not inspect
// other headers, the URL or the body: a credential the client puts
// elsewhere (for example a tool argument, or an Mcp-Param-* header, which
// is forwarded unchanged) is the client's choice to disclose.
func StripClientCredentials(h http.Header) {
	for k := range h {
		for _, c := range clientCredentialHeaders {
			if strings.EqualFold(k, c) {
				delete(h, k)
			}
		}
	}
	mcpidentity.StripHeaders(h)
}

// Outgoing prepares the headers of one upstream request: it strips the
// client's credentials, then applies inj for p.
func Outgoing(ctx context.Context, h http.Header, inj Injector, p *authn.Principal) error {
	StripClientCredentials(h)
	if err := inj.Apply(ctx, h, p); err != nil {
		return fmt.Errorf("identity for upstream: %w", err)
	}
	return nil
}

// None tells the upstream nothing about the caller (route identity "none").
// Apply removes MCP-Gateway-* headers and nothing else.
type None struct{}

// Apply implements [Injector].
func (None) Apply(_ context.Context, h http.Header, _ *authn.Principal) error {
	mcpidentity.StripHeaders(h)
	return nil
}

// Signer is what [Signed] needs of a pkg/mcpidentity signer
// (*mcpidentity.HMACSigner or *mcpidentity.JWSSigner).
type Signer interface {
	Sign(h http.Header, id mcpidentity.Identity) error
}

var (
	_ Signer = (*mcpidentity.HMACSigner)(nil)
	_ Signer = (*mcpidentity.JWSSigner)(nil)
)

// Signed sends the principal as signed identity headers (route identity
// "hmac" or "jws"). The identity expires at the token's expiry or five
// minutes after signing, whichever is first, so a header set outlives
// neither the token nor the replay window. It asserts only subject, client
// id, issuer, scopes and expiry: not the username, audience or other claims.
type Signed struct {
	signer Signer
	now    func() time.Time
}

// NewSigned returns an injector signing with s.
func NewSigned(s Signer) *Signed {
	return &Signed{signer: s, now: time.Now}
}

// Apply implements [Injector]. Without a principal it removes identity
// headers and returns [ErrNoPrincipal].
func (s *Signed) Apply(_ context.Context, h http.Header, p *authn.Principal) error {
	if p == nil {
		mcpidentity.StripHeaders(h)
		return ErrNoPrincipal
	}
	now := s.now()
	exp := now.Add(mcpidentity.DefaultMaxAge)
	if !p.Expiry.IsZero() && p.Expiry.Before(exp) {
		exp = p.Expiry
	}
	err := s.signer.Sign(h, mcpidentity.Identity{
		Subject: p.Subject, ClientID: p.ClientID, Issuer: p.Issuer,
		Scopes: p.Scopes, Issued: now, Expires: exp,
	})
	if err != nil {
		return fmt.Errorf("sign identity: %w", err)
	}
	return nil
}

// Static sends one fixed service credential as the upstream's Authorization
// header (route identity "static"), the same for every caller. It is the
// gateway's own credential for the upstream, read by the caller from the
// environment; the user's token is never used. The upstream learns nothing
// about which user is calling.
type Static struct {
	authorization string
}

// NewStatic returns an injector setting Authorization to authorization
// verbatim (for example "Bearer <service token>" or "Basic ..."). It must
// be non-empty and contain no control characters.
func NewStatic(authorization string) (*Static, error) {
	if strings.TrimSpace(authorization) == "" {
		return nil, errors.New("identity: static credential is empty")
	}
	for _, c := range []byte(authorization) {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return nil, errors.New("identity: static credential contains control characters")
		}
	}
	return &Static{authorization: authorization}, nil
}

// Apply implements [Injector]; it does not need a principal.
func (s *Static) Apply(_ context.Context, h http.Header, _ *authn.Principal) error {
	mcpidentity.StripHeaders(h)
	h.Set("Authorization", s.authorization)
	return nil
}
