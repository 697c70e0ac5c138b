// Package devupstream is the demo upstream MCP server of `mcp-gateway dev`:
// an MCP server that, like the internal APIs platform teams front, accepts
// only access tokens minted for its own audience by the authorization
// server, here the dev authorization server (internal/devidp) through RFC
// 8693 token exchange. Its one tool, whoami, returns what the token it
// received says, so a route with `identity: exchange` can be seen working:
// the user's subject, this server's audience, the gateway as client and
// actor.
//
// Every request's bearer token is verified with the gateway's own verifier
// (internal/authn, generic profile: RFC 9068 at+jwt, issuer, audience,
// expiry, client_id); failures are answered by pkg/bearer's writer with a
// `WWW-Authenticate: Bearer` challenge. It is NOT FOR PRODUCTION: it serves
// no protected resource metadata (RFC 9728), so its challenges carry no
// resource_metadata, and it does not check revocation or sender
// constraints.
package devupstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// Options configures the demo upstream.
type Options struct {
	// Issuer is the authorization server whose tokens are accepted; a
	// token's iss must equal it exactly. Required.
	Issuer string
	// Audience is this server's identifier: a token's aud must name it
	// (compared as internal/authn does: URL normalization, else exact). It is
	// what the gateway route asks the token exchange for (upstream_audience
	// or upstream_resource). Required.
	Audience string
	// Keys supplies the issuer's signing keys, e.g. the gateway's
	// *authn.KeySet for the same issuer. When nil, New builds an
	// authn.KeySet for Issuer that discovers its JWKS (or uses JWKSURI) on
	// first use.
	Keys authn.KeyLookup
	// JWKSURI skips discovery when Keys is nil.
	JWKSURI string
	// HTTPClient fetches discovery and JWKS when Keys is nil; nil means the
	// key set's default.
	HTTPClient *http.Client
	// RequiredScopes must all be held by every token (else 403
	// insufficient_scope); none when empty.
	RequiredScopes []string
	// Logger receives one line per refused request (never the token);
	// discarded when nil.
	Logger *slog.Logger
	// Now is the verifier's clock; time.Now when nil.
	Now func() time.Time
}

// Whoami is the whoami tool's structured result: the verified claims of
// the access token the request carried.
type Whoami struct {
	// Subject is sub: the user the token was exchanged for.
	Subject string `json:"subject"`
	// Issuer is iss.
	Issuer string `json:"issuer"`
	// Audience is aud; it names this server.
	Audience []string `json:"audience"`
	// ClientID is client_id: the client the token was issued to (the
	// gateway, for an exchanged token).
	ClientID string `json:"client_id"`
	// Scopes are the token's scopes, [] when none.
	Scopes []string `json:"scopes"`
	// Act is the actor's sub, act.sub (RFC 8693 §4.1): who acts on the
	// subject's behalf; "" when the token has no act claim.
	Act string `json:"act,omitempty"`
	// Expires is exp in RFC 3339, UTC.
	Expires string `json:"expires"`
}

// Server is the demo upstream. It is safe for concurrent use.
type Server struct {
	verifier *authn.Verifier
	log      *slog.Logger
	handler  http.Handler
}

// New validates o and builds the verifier and the MCP handler. It does no
// network I/O: keys load on the first request.
func New(o Options) (*Server, error) {
	if o.Issuer == "" || o.Audience == "" {
		return nil, errors.New("devupstream: Issuer and Audience are required")
	}
	keys := o.Keys
	if keys == nil {
		ks, err := authn.NewKeySet(authn.KeySetOptions{
			Issuer: o.Issuer, JWKSURI: o.JWKSURI, HTTPClient: o.HTTPClient, Logger: o.Logger,
			// The dev authorization server's keys are local: refresh on an
			// unknown kid without delay, as `mcp-gateway dev` does.
			MinRefreshInterval: time.Second,
		})
		if err != nil {
			return nil, fmt.Errorf("devupstream: %w", err)
		}
		keys = ks
	}
	profile, _ := idp.Lookup("generic")
	v, err := authn.NewVerifier(keys, authn.Policy{
		Issuer: o.Issuer, Audiences: []string{o.Audience}, Profile: profile, Now: o.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("devupstream: %w", err)
	}
	s := &Server{verifier: v, log: o.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "mcp-gateway-dev-upstream", Version: "0.1.0"}, nil)
	mcp.AddTool(srv, &mcp.Tool{
		Name:        "whoami",
		Description: "Return what the access token this server received says: subject, audience, client, scopes, actor, expiry.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, s.whoami)
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: true})
	s.handler = bearer.Middleware(bearer.Options{
		Verify:  s.verify,
		Scopes:  o.RequiredScopes,
		OnError: s.refused,
	})(mcpHandler)
	return s, nil
}

// Handler serves MCP (Streamable HTTP, stateless) at any path, behind the
// bearer token check: 401 with a Bearer challenge when the token is missing
// or invalid, 403 when it lacks RequiredScopes, 503 when the issuer's keys
// cannot be loaded. The go-sdk's DNS rebinding protection stays on: a
// request reaching a loopback listener must name a loopback Host.
func (s *Server) Handler() http.Handler { return s.handler }

// verify adapts the authn verifier to pkg/bearer: unavailable keys are
// bearer.ErrUnavailable (503), any other failure invalid_token.
func (s *Server) verify(ctx context.Context, raw string) (bearer.Token, error) {
	p, err := s.verifier.Verify(ctx, raw)
	if err != nil {
		if errors.Is(err, authn.ErrKeysUnavailable) {
			return nil, fmt.Errorf("%w: %w", bearer.ErrUnavailable, err)
		}
		return nil, err
	}
	return p, nil
}

func (s *Server) refused(r *http.Request, e *bearer.Error, cause error) {
	s.log.Info("devupstream: request refused", "path", r.URL.Path, "status", e.Status, "error", e.Code,
		"reason", authn.FailureReason(cause))
}

// whoami verifies the token of the very request that carried the call
// again (the verifier caches it; tool handlers do not run in the HTTP
// request's context) and reports its claims.
func (s *Server) whoami(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, Whoami, error) {
	if req.Extra == nil {
		return nil, Whoami{}, errors.New("no HTTP request")
	}
	raw, e := bearer.ExtractToken(&http.Request{URL: &url.URL{}, Header: req.Extra.Header})
	if e != nil {
		return nil, Whoami{}, e
	}
	p, err := s.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, Whoami{}, err
	}
	out := Whoami{
		Subject: p.Subject, Issuer: p.Issuer, Audience: p.Audience, ClientID: p.ClientID,
		Scopes: p.Scopes, Expires: p.Expiry.UTC().Format(time.RFC3339),
	}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	if act, ok := p.Claims()["act"].(map[string]any); ok {
		out.Act, _ = act["sub"].(string)
	}
	return nil, out, nil
}
