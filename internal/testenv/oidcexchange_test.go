//go:build unix

package testenv

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"golang.org/x/oauth2"
)

// exchangeClient is one of the test's confidential clients with what it
// needs to authenticate: a secret, or a private key for private_key_jwt.
type exchangeClient struct {
	ExchangeClient
	key crypto.Signer
	// keyOf, when set, names the key whose thumbprint is the assertion's
	// kid (default: key's own).
	keyOf crypto.PublicKey
}

// exchange runs an RFC 8693 token exchange with golang.org/x/oauth2 as c at
// tokenURL, with params as the form (grant_type included).
func (c exchangeClient) exchange(t *testing.T, tokenURL string, params map[string]string) (*oauth2.Token, error) {
	t.Helper()
	cfg := oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, Endpoint: oauth2.Endpoint{TokenURL: tokenURL}}
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("grant_type", TokenExchangeGrantType)}
	switch c.AuthMethod {
	case "client_secret_post":
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	case "private_key_jwt":
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		opts = append(opts,
			oauth2.SetAuthURLParam("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
			oauth2.SetAuthURLParam("client_assertion", clientAssertion(t, c.ID, tokenURL, c.key, c.keyOf)))
	case "none":
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	default:
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	}
	for k, v := range params {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	ctx, cancel := context.WithTimeout(context.Background(), oidcHTTPTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Timeout: oidcHTTPTimeout})
	// Exchange also sends an empty code, which RFC 6749 section 3.2 says to
	// treat as absent (oidc-provider drops parameters foreign to the grant).
	return cfg.Exchange(ctx, "", opts...)
}

// clientAssertion signs an RFC 7523 client assertion with key (ES256, kid =
// the RFC 7638 thumbprint of kidOf, default key's public key, as
// ExchangeClient.Metadata registers it).
func clientAssertion(t *testing.T, clientID, audience string, key crypto.Signer, kidOf crypto.PublicKey) string {
	t.Helper()
	now := time.Now()
	tok, err := jwt.NewBuilder().Issuer(clientID).Subject(clientID).Audience([]string{audience}).
		JwtID(rand.Text()).IssuedAt(now).Expiration(now.Add(time.Minute)).Build()
	if err != nil {
		t.Fatal(err)
	}
	if kidOf == nil {
		kidOf = key.Public()
	}
	pub, err := jwk.FromRaw(kidOf)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, base64.RawURLEncoding.EncodeToString(tp)); err != nil {
		t.Fatal(err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

// accessClaims are the claims the test reads from verified access tokens.
type accessClaims struct {
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	Act      *struct {
		Sub string `json:"sub"`
	} `json:"act"`
}

// verifyAccessToken verifies token's signature against the provider's JWKS,
// its issuer, expiry and that aud contains audience (go-oidc), and returns it
// with its claims.
func verifyAccessToken(t *testing.T, p *oidc.Provider, audience, token string) (*oidc.IDToken, accessClaims) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), oidcHTTPTimeout)
	defer cancel()
	v := p.VerifierContext(oidc.ClientContext(ctx, &http.Client{Timeout: oidcHTTPTimeout}), &oidc.Config{ClientID: audience})
	idt, err := v.Verify(ctx, token)
	if err != nil {
		t.Fatalf("verifying an access token for %s: %v", audience, err)
	}
	var c accessClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return idt, c
}

// TestOIDCProviderTokenExchange drives oidc-provider.mjs's RFC 8693 grant
// with golang.org/x/oauth2: two users' access tokens exchanged by clients
// authenticating with client_secret_basic, client_secret_post and
// private_key_jwt come back as tokens for the target with the user's sub, the
// client as actor and the configured lifetime; bad requests get the RFC 8693
// / RFC 6749 error codes.
func TestOIDCProviderTokenExchange(t *testing.T) {
	const (
		resource = "http://127.0.0.1:1/mcp" // the gateway's resource: only named, never called
		target   = "https://tickets.example/api"
		other    = "https://payroll.example/api"
		ttl      = 90 * time.Second
	)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := rand.Text()
	basic := exchangeClient{ExchangeClient: ExchangeClient{ID: "gw-basic", Secret: secret}}
	post := exchangeClient{ExchangeClient: ExchangeClient{ID: "gw-post", Secret: secret, AuthMethod: "client_secret_post"}}
	public := exchangeClient{ExchangeClient: ExchangeClient{ID: "public", AuthMethod: "none"}}
	keyed := exchangeClient{ExchangeClient: ExchangeClient{ID: "gw-key", AuthMethod: "private_key_jwt", PublicKey: ecKey.Public()}, key: ecKey}
	op := StartOIDCProviderWith(t, OIDCProviderOptions{
		Resources:       []string{resource},
		Scopes:          []string{"mcp:tools", "tickets:read"},
		ExchangeTargets: []string{target},
		ExchangeTTL:     ttl,
		Clients:         []map[string]any{basic.Metadata(), post.Metadata(), keyed.Metadata(), public.Metadata()},
	})
	tokenURL := op.Endpoint(t).TokenURL

	ctx, cancel := context.WithTimeout(context.Background(), oidcHTTPTimeout)
	defer cancel()
	discovered, err := oidc.NewProvider(oidc.ClientContext(ctx, &http.Client{Timeout: oidcHTTPTimeout}), op.Issuer)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}

	userTokens := map[string]string{}
	for _, user := range []string{"alice", "bob"} {
		tok := op.UserToken(t, user, resource)
		idt, c := verifyAccessToken(t, discovered, resource, tok)
		if idt.Subject != user || c.ClientID != UserTokenClientID || c.Scope != "mcp:tools tickets:read" || c.Act != nil {
			t.Fatalf("%s's access token: sub %q, client_id %q, scope %q, act %v; want %s, %s, all scopes, no act",
				user, idt.Subject, c.ClientID, c.Scope, c.Act, user, UserTokenClientID)
		}
		userTokens[user] = tok
	}

	t.Run("exchanged", func(t *testing.T) {
		tests := []struct {
			name      string
			client    exchangeClient
			user      string
			params    map[string]string
			wantScope string
		}{
			{name: "basic audience", client: basic, user: "alice",
				params: map[string]string{"audience": target}, wantScope: "mcp:tools tickets:read"},
			{name: "post resource scope", client: post, user: "bob",
				params: map[string]string{"resource": target, "scope": "tickets:read"}, wantScope: "tickets:read"},
			{name: "private_key_jwt audience and resource", client: keyed, user: "alice",
				params:    map[string]string{"audience": target, "resource": target, "requested_token_type": AccessTokenType},
				wantScope: "mcp:tools tickets:read"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				params := map[string]string{"subject_token": userTokens[tc.user], "subject_token_type": AccessTokenType}
				for k, v := range tc.params {
					params[k] = v
				}
				tok, err := tc.client.exchange(t, tokenURL, params)
				if err != nil {
					t.Fatalf("exchange: %v", err)
				}
				if tok.TokenType != "Bearer" || tok.Extra("issued_token_type") != AccessTokenType {
					t.Errorf("token_type %q, issued_token_type %v; want Bearer, %s", tok.TokenType, tok.Extra("issued_token_type"), AccessTokenType)
				}
				if got := tok.Extra("expires_in"); got != ttl.Seconds() {
					t.Errorf("expires_in = %v, want %v", got, ttl.Seconds())
				}
				if got := tok.Extra("scope"); got != tc.wantScope {
					t.Errorf("response scope = %v, want %q", got, tc.wantScope)
				}
				if tok.RefreshToken != "" {
					t.Error("token exchange returned a refresh token")
				}
				idt, c := verifyAccessToken(t, discovered, target, tok.AccessToken)
				if idt.Subject != tc.user {
					t.Errorf("sub = %q, want %q", idt.Subject, tc.user)
				}
				if !slices.Equal(idt.Audience, []string{target}) {
					t.Errorf("aud = %q, want [%s]", idt.Audience, target)
				}
				if c.ClientID != tc.client.ID || c.Act == nil || c.Act.Sub != tc.client.ID {
					t.Errorf("client_id %q, act %+v; want %s as both", c.ClientID, c.Act, tc.client.ID)
				}
				if c.Scope != tc.wantScope {
					t.Errorf("scope claim = %q, want %q", c.Scope, tc.wantScope)
				}
				if got := idt.Expiry.Sub(idt.IssuedAt); got != ttl {
					t.Errorf("exp - iat = %v, want %v", got, ttl)
				}
			})
		}
	})

	t.Run("refused", func(t *testing.T) {
		valid := func(mod func(map[string]string)) map[string]string {
			p := map[string]string{"subject_token": userTokens["alice"], "subject_token_type": AccessTokenType, "audience": target}
			if mod != nil {
				mod(p)
			}
			return p
		}
		exchanged, err := basic.exchange(t, tokenURL, valid(nil))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		wrongSecret := basic
		wrongSecret.Secret = "not-the-secret"
		otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		wrongKey := keyed
		wrongKey.key, wrongKey.keyOf = otherKey, ecKey.Public()
		tests := []struct {
			name   string
			client exchangeClient
			params map[string]string
			want   string
		}{
			{"wrong secret", wrongSecret, valid(nil), "invalid_client"},
			{"wrong private key", wrongKey, valid(nil), "invalid_client"},
			{"public client", public, valid(nil), "unauthorized_client"},
			{"unknown target", basic, valid(func(p map[string]string) { p["audience"] = other }), "invalid_target"},
			{"unknown resource", post, valid(func(p map[string]string) { delete(p, "audience"); p["resource"] = other }), "invalid_target"},
			{"two targets", basic, valid(func(p map[string]string) { p["resource"] = other }), "invalid_target"},
			{"no target", basic, valid(func(p map[string]string) { delete(p, "audience") }), "invalid_target"},
			{"garbage subject token", basic, valid(func(p map[string]string) { p["subject_token"] = "not-a-token" }), "invalid_grant"},
			{"exchanged token as subject", basic, valid(func(p map[string]string) { p["subject_token"] = exchanged.AccessToken }), "invalid_grant"},
			{"missing subject_token_type", basic, valid(func(p map[string]string) { delete(p, "subject_token_type") }), "invalid_request"},
			{"id_token subject_token_type", basic, valid(func(p map[string]string) {
				p["subject_token_type"] = "urn:ietf:params:oauth:token-type:id_token"
			}), "invalid_request"},
			{"missing subject_token", basic, valid(func(p map[string]string) { delete(p, "subject_token") }), "invalid_request"},
			{"unknown scope", basic, valid(func(p map[string]string) { p["scope"] = "payroll:write" }), "invalid_scope"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				tok, err := tc.client.exchange(t, tokenURL, tc.params)
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) {
					t.Fatalf("exchange: token %v, error %v; want an OAuth error %s", tok != nil, err, tc.want)
				}
				if re.ErrorCode != tc.want {
					t.Errorf("error = %q (%s), want %q", re.ErrorCode, re.ErrorDescription, tc.want)
				}
			})
		}
	})
}
