package tokenexchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Grant types and token type identifiers.
const (
	// GrantTypeTokenExchange is RFC 8693 §2.1's grant type.
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	// GrantTypeJWTBearer is RFC 7523 §2.1's grant type, which Entra's
	// on-behalf-of flow uses.
	GrantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// TokenTypeAccessToken and TokenTypeJWT are RFC 8693 §3 token types.
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
)

// Grants an [Exchanger] makes.
const (
	// GrantRFC8693 is RFC 8693 token exchange (route identity "exchange").
	GrantRFC8693 = "exchange"
	// GrantEntraOBO is Microsoft Entra ID's on-behalf-of flow (route
	// identity "entra-obo"): grant_type jwt-bearer, assertion = the
	// client's token, requested_token_use=on_behalf_of, scope.
	GrantEntraOBO = "entra-obo"
)

// maxLifetime is the longest expires_in read, in seconds (a year).
const maxLifetime = 366 * 24 * 60 * 60

// DefaultTimeout bounds one exchange when Options.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// Options configure an [Exchanger].
type Options struct {
	// Grant is GrantRFC8693 or GrantEntraOBO.
	Grant string
	// Endpoint returns the token endpoint URL: a fixed one, or one read
	// from the issuer's metadata. It is called until it succeeds once.
	Endpoint func(ctx context.Context) (string, error)
	// ClientID and Auth are the gateway's confidential client.
	ClientID string
	Auth     ClientAuth
	// Audience and Resource (RFC 8693 §2.1, RFC 8707) name the upstream
	// (GrantRFC8693; at least one). Scopes are the scopes asked for (the
	// "scope" parameter; required for GrantEntraOBO).
	Audience, Resource string
	Scopes             []string
	// SubjectTokenType is RFC 8693's subject_token_type (default
	// TokenTypeAccessToken; Auth0 custom token exchange defines its own).
	// RequestedTokenType is its requested_token_type, not sent when ""
	// (GrantRFC8693 only).
	SubjectTokenType, RequestedTokenType string
	// AssertionAudience is the aud of a private_key_jwt client assertion
	// (default: the token endpoint, RFC 7523 §3; Auth0 wants its tenant
	// URL).
	AssertionAudience string
	// HTTPClient sends the request (default: a client with Timeout that
	// follows no redirects). Timeout bounds one exchange (DefaultTimeout).
	HTTPClient *http.Client
	Timeout    time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Token is an issued token.
type Token struct {
	// AccessToken is the token for the upstream, sent as a Bearer token.
	AccessToken string
	// Expiry is when the authorization server says it expires (now +
	// expires_in); zero when it did not say.
	Expiry time.Time
	// IssuedTokenType is RFC 8693's issued_token_type ("" for Entra).
	IssuedTokenType string
}

// Exchanger exchanges a client's token for one minted for an upstream.
// It is safe for concurrent use.
type Exchanger struct {
	o Options

	mu       sync.Mutex
	endpoint string
}

// New checks o and returns an Exchanger. It does not contact the
// authorization server.
func New(o Options) (*Exchanger, error) {
	var errs []error
	switch o.Grant {
	case GrantRFC8693:
		if o.Audience == "" && o.Resource == "" {
			errs = append(errs, errors.New("token exchange needs an audience or a resource"))
		}
		if o.SubjectTokenType == "" {
			o.SubjectTokenType = TokenTypeAccessToken
		}
	case GrantEntraOBO:
		if len(o.Scopes) == 0 {
			errs = append(errs, errors.New("on-behalf-of needs scopes"))
		}
		if o.Audience != "" || o.Resource != "" || o.SubjectTokenType != "" || o.RequestedTokenType != "" {
			errs = append(errs, errors.New("on-behalf-of takes scopes, not an audience, resource or token types"))
		}
	default:
		errs = append(errs, fmt.Errorf("grant %q is not %s or %s", o.Grant, GrantRFC8693, GrantEntraOBO))
	}
	if o.Endpoint == nil {
		errs = append(errs, errors.New("no token endpoint"))
	}
	if o.ClientID == "" {
		errs = append(errs, errors.New("no client id"))
	}
	if o.Auth.method == "" {
		errs = append(errs, errors.New("no client authentication"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("token exchange: %w", err)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{
			Timeout: o.Timeout,
			// Never resend the client's token and credentials elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Exchanger{o: o}, nil
}

// Exchange asks the token endpoint for a token for the upstream on behalf
// of the subject of subjectToken. A refusal by the authorization server is
// an [*Error]; a network failure, a timeout or an answer that is not a
// usable Bearer token is another error. It does not verify the issued
// token, nor that its audience, subject or scopes are what was asked.
func (e *Exchanger) Exchange(ctx context.Context, subjectToken string) (*Token, error) {
	if subjectToken == "" {
		return nil, errors.New("token exchange: no subject token")
	}
	ctx, cancel := context.WithTimeout(ctx, e.o.Timeout)
	defer cancel()
	tokenURL, err := e.tokenURL(ctx)
	if err != nil {
		return nil, err
	}
	params := e.params(subjectToken)
	now := e.o.Now()
	aud := e.o.AssertionAudience
	if aud == "" {
		aud = tokenURL
	}
	style, secret, err := e.o.Auth.apply(params, e.o.ClientID, aud, now)
	if err != nil {
		return nil, fmt.Errorf("token exchange: %w", err)
	}
	cc := clientcredentials.Config{
		ClientID: e.o.ClientID, ClientSecret: secret, TokenURL: tokenURL,
		Scopes: e.o.Scopes, EndpointParams: params, AuthStyle: style,
	}
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, e.o.HTTPClient))
	if err != nil {
		// An answer echoing the request's secrets must not carry them on.
		return nil, fmt.Errorf("token exchange at %s: %w", tokenURL,
			refusal(err, subjectToken, secret, url.QueryEscape(secret), params.Get("client_assertion")))
	}
	out, err := issued(tok, now)
	if err != nil {
		return nil, fmt.Errorf("token exchange at %s: %w", tokenURL, err)
	}
	return out, nil
}

// params are the grant's own parameters (the client's are added by
// ClientAuth, scope by x/oauth2).
func (e *Exchanger) params(subjectToken string) url.Values {
	if e.o.Grant == GrantEntraOBO {
		return url.Values{
			"grant_type":          {GrantTypeJWTBearer},
			"assertion":           {subjectToken},
			"requested_token_use": {"on_behalf_of"},
		}
	}
	v := url.Values{
		"grant_type":         {GrantTypeTokenExchange},
		"subject_token":      {subjectToken},
		"subject_token_type": {e.o.SubjectTokenType},
	}
	if e.o.Audience != "" {
		v.Set("audience", e.o.Audience)
	}
	if e.o.Resource != "" {
		v.Set("resource", e.o.Resource)
	}
	if e.o.RequestedTokenType != "" {
		v.Set("requested_token_type", e.o.RequestedTokenType)
	}
	return v
}

// tokenURL resolves the endpoint once; a failure is retried next time.
func (e *Exchanger) tokenURL(ctx context.Context) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.endpoint != "" {
		return e.endpoint, nil
	}
	u, err := e.o.Endpoint(ctx)
	if err != nil {
		return "", fmt.Errorf("token exchange: token endpoint: %w", err)
	}
	e.endpoint = u
	return u, nil
}

// issued checks that tok is a usable Bearer access token (RFC 8693 §2.2.1:
// token_type, and issued_token_type when present, an access token or a
// JWT) and reads its lifetime from expires_in against now.
func issued(tok *oauth2.Token, now time.Time) (*Token, error) {
	if !strings.EqualFold(tok.TokenType, "Bearer") {
		return nil, fmt.Errorf("issued token_type is %q, not Bearer", printable(tok.TokenType))
	}
	out := &Token{AccessToken: tok.AccessToken}
	if s, _ := tok.Extra("issued_token_type").(string); s != "" {
		if s != TokenTypeAccessToken && s != TokenTypeJWT {
			return nil, fmt.Errorf("issued_token_type is %q, not an access token", printable(s))
		}
		out.IssuedTokenType = s
	}
	if secs, ok := seconds(tok.Extra("expires_in")); ok && secs > 0 {
		// A lifetime beyond a year is read as a year: the Duration must
		// not overflow, and the cache caps it at the client token's expiry.
		out.Expiry = now.Add(time.Duration(min(secs, maxLifetime)) * time.Second)
	}
	return out, nil
}

// seconds reads expires_in as JSON gives it (a number, or a string as some
// servers send), or as x/oauth2 reads it from a form-encoded answer (int64).
func seconds(v any) (int64, bool) {
	switch v := v.(type) {
	case float64:
		return int64(v), true
	case int64:
		return v, true
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}
