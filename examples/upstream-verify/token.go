package main

// Exchanged-token mode: the upstream of a route with identity exchange or
// entra-obo receives `Authorization: Bearer <token>` minted by the IdP for
// this upstream's own audience (RFC 8693 token exchange, or Microsoft's
// on-behalf-of flow), and verifies it as any OAuth resource server would.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// accessToken is what a verified exchanged token says.
type accessToken struct {
	Issuer   string
	Subject  string   // `sub`: the user the token was exchanged for
	Audience []string // `aud`: includes the verifier's audience
	ClientID string   // `client_id` (RFC 9068 §2.2, RFC 8693 §4.3), else `azp`, else `cid` (Okta)
	Scopes   []string // `scope` (RFC 9068 §2.2.3, space-separated), else `scp` (string or array)
	Actor    string   // `act.sub` (RFC 8693 §4.1), when the IdP records the acting party
	Expires  time.Time
}

// tokenVerifier verifies JWT access tokens issued by one IdP for one
// audience, with go-oidc: the IdP's OpenID Connect discovery document gives
// the JWKS (fetched on first use, refetched when a token's kid is unknown
// or its signature fails with the cached keys) and the accepted algorithms
// (id_token_signing_alg_values_supported; RS256 when absent). It knows
// nothing of HTTP requests.
type tokenVerifier struct {
	issuer   string
	audience string
	oidc     *oidc.IDTokenVerifier
}

// newTokenVerifier discovers issuer (`/.well-known/openid-configuration`,
// whose `issuer` must equal issuer exactly, trailing slash included) and
// returns a verifier for tokens whose `aud` includes audience. An IdP that
// publishes only RFC 8414 metadata is not supported. ctx bounds discovery
// only; an HTTP client in it (oidc.ClientContext) is also used for key
// fetches.
func newTokenVerifier(ctx context.Context, issuer, audience string) (*tokenVerifier, error) {
	if audience == "" {
		return nil, errors.New("exchanged-token mode needs an audience (this upstream's identifier at the IdP)")
	}
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("discover issuer %s: %w", issuer, err)
	}
	// go-oidc verifies ID tokens, whose aud is a client id; an access token's
	// aud is the resource, so that check is done in Verify instead.
	return &tokenVerifier{issuer: issuer, audience: audience, oidc: p.Verifier(&oidc.Config{SkipClientIDCheck: true})}, nil
}

// Verify checks the token's signature against the IdP's JWKS, with an
// algorithm the IdP advertises (never "none"), then iss (exactly the
// configured issuer), aud (contains the configured audience, compared as an
// exact string: no URL canonicalization), exp (present and in the future,
// no leeway), nbf (when present, with go-oidc's 5-minute leeway) and sub
// (present), and reads the claims of accessToken.
//
// NOT checked: the JOSE `typ` (RFC 9068 §4 wants at+jwt, but Entra, Okta and
// Auth0 use JWT), iat, jti (no replay cache), revocation (no RFC 7662
// introspection), `may_act`, actors before the current one (nested act),
// sender constraints (a token with `cnf`, RFC 9449 DPoP or RFC 8705 mTLS,
// is accepted as a plain bearer token), and the scopes themselves: which
// scope a tool needs is the caller's decision. A JWKS fetch failure is
// reported as an invalid token.
func (v *tokenVerifier) Verify(ctx context.Context, raw string) (*accessToken, error) {
	t, err := v.oidc.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(t.Audience, v.audience) {
		return nil, fmt.Errorf("token audience %q does not include %q", t.Audience, v.audience)
	}
	if t.Subject == "" {
		return nil, errors.New("token has no sub")
	}
	var c tokenClaims
	if err := t.Claims(&c); err != nil {
		return nil, fmt.Errorf("token claims: %w", err)
	}
	return &accessToken{
		Issuer: t.Issuer, Subject: t.Subject, Audience: t.Audience,
		ClientID: c.client(), Scopes: c.scopes(), Actor: c.actor(), Expires: t.Expiry,
	}, nil
}

// tokenClaims are the access token claims read beyond go-oidc's. A claim
// of an unexpected JSON type makes the token invalid.
type tokenClaims struct {
	ClientID string    `json:"client_id"` // RFC 9068 §2.2, RFC 8693 §4.3
	AZP      string    `json:"azp"`       // Entra v2, Keycloak, Auth0
	CID      string    `json:"cid"`       // Okta
	Scope    string    `json:"scope"`     // RFC 9068 §2.2.3, RFC 8693 §4.2
	SCP      scopeList `json:"scp"`       // Entra (string), Okta (array)
	Act      *struct {
		Subject string `json:"sub"`
	} `json:"act"` // RFC 8693 §4.1: the current actor; nested act are prior actors
}

func (c *tokenClaims) client() string {
	for _, id := range []string{c.ClientID, c.AZP, c.CID} {
		if id != "" {
			return id
		}
	}
	return ""
}

// scopes are `scope` when present, else `scp`; never both merged.
func (c *tokenClaims) scopes() []string {
	if c.Scope != "" {
		return strings.Fields(c.Scope)
	}
	return c.SCP
}

func (c *tokenClaims) actor() string {
	if c.Act == nil {
		return ""
	}
	return c.Act.Subject
}

// scopeList is an `scp` claim: a space-separated string or an array.
type scopeList []string

// UnmarshalJSON accepts a JSON string (split on spaces) or array of strings.
func (s *scopeList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = strings.Fields(one)
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("scp is neither a string nor an array of strings")
	}
	*s = many
	return nil
}

// tokenInfoKey is where bearerVerifier keeps the *accessToken in
// auth.TokenInfo.Extra.
const tokenInfoKey = "upstream-verify/access-token"

// bearerVerifier adapts v to the go-sdk's auth.TokenVerifier: every
// verification failure is auth.ErrInvalidToken (401, with the reason as the
// plain-text body). The session is bound to the subject (TokenInfo.UserID),
// so the go-sdk refuses a session id presented with another user's token.
func bearerVerifier(v *tokenVerifier) auth.TokenVerifier {
	return func(ctx context.Context, raw string, _ *http.Request) (*auth.TokenInfo, error) {
		at, err := v.Verify(ctx, raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
		}
		return &auth.TokenInfo{
			Scopes: at.Scopes, Expiration: at.Expires, UserID: at.Subject,
			Extra: map[string]any{tokenInfoKey: at},
		}, nil
	}
}

// newTokenHandler serves the MCP endpoint at resource's path behind the
// go-sdk's auth.RequireBearerToken (no or invalid bearer token: 401 with
// `WWW-Authenticate: Bearer resource_metadata="..."`; expired: 401), and
// this resource's RFC 9728 metadata at the §3.1 well-known path, naming the
// issuer as its authorization server. Behind the gateway nobody reads the
// metadata (the gateway is configured, not discovering); it is served so the
// challenge points somewhere real. resource is this server's URL as its
// callers spell it, e.g. http://127.0.0.1:9000/mcp.
func newTokenHandler(v *tokenVerifier, resource string) (http.Handler, error) {
	u, err := url.Parse(resource)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("resource %q: want an absolute http(s) URL without query or fragment", resource)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	metaPath := "/.well-known/oauth-protected-resource" + strings.TrimSuffix(path, "/")
	metaURL := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: metaPath}).String()

	srv := newServer(func(req *mcp.CallToolRequest) (Whoami, error) {
		// The tools/call's own HTTP request carried this token info.
		var at *accessToken
		if req.Extra != nil && req.Extra.TokenInfo != nil {
			at, _ = req.Extra.TokenInfo.Extra[tokenInfoKey].(*accessToken)
		}
		if at == nil {
			return Whoami{}, errors.New("no verified token")
		}
		return Whoami{
			Subject: at.Subject, ClientID: at.ClientID, Issuer: at.Issuer, Audience: v.audience,
			Scopes: at.Scopes, Actor: at.Actor, Expires: at.Expires.UTC().Format(time.RFC3339),
		}, nil
	})
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	mux := http.NewServeMux()
	mux.Handle(path, auth.RequireBearerToken(bearerVerifier(v), &auth.RequireBearerTokenOptions{ResourceMetadataURL: metaURL})(mcpHandler))
	mux.Handle(metaPath, auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource:               resource,
		AuthorizationServers:   []string{v.issuer},
		BearerMethodsSupported: []string{"header"},
	}))
	return mux, nil
}
