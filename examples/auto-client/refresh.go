package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2"
)

// grant is what the go-sdk's authorization produced: the client
// configuration it resolved (client id, secret and token endpoint) and the
// first token. It is captured through AuthorizationCodeHandlerConfig.NewTokenSource.
type grant struct {
	mu    sync.Mutex
	cfg   *oauth2.Config
	token *oauth2.Token
	// resource is the RFC 8707 resource of the last authorization request
	// (the go-sdk takes it from the protected resource metadata); the
	// fetcher sets it before the token exists.
	resource string
}

func (g *grant) setResource(r string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.resource = r
}

// newTokenSource is the NewTokenSource hook: it records cfg and tok and
// returns the token source the go-sdk would have built.
func (g *grant) newTokenSource(ctx context.Context, cfg *oauth2.Config, tok *oauth2.Token) (oauth2.TokenSource, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cfg, g.token = cfg, tok
	return cfg.TokenSource(ctx, tok), nil
}

func (g *grant) get() (*oauth2.Config, *oauth2.Token, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cfg, g.token, g.resource
}

// tokenResponse is the RFC 6749 §5.1 answer (and §5.2 error members).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

// refresh redeems refreshToken at cfg's token endpoint (RFC 6749 §6) with
// the RFC 8707 §2 resource parameter (golang.org/x/oauth2 cannot add one to
// a refresh, and MCP requires it on every token request). The client
// authenticates as it did for the code: client_id in the body when it has
// no secret (public client), else HTTP Basic (RFC 6749 §2.3.1) or
// client_secret in the body when the registration said so.
func refresh(ctx context.Context, client *http.Client, cfg *oauth2.Config, refreshToken, resource string) (*tokenResponse, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if resource != "" {
		form.Set("resource", resource)
	}
	basic := false
	switch {
	case cfg.ClientSecret == "":
		form.Set("client_id", cfg.ClientID)
	case cfg.Endpoint.AuthStyle == oauth2.AuthStyleInParams:
		form.Set("client_id", cfg.ClientID)
		form.Set("client_secret", cfg.ClientSecret)
	default:
		basic = true
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Endpoint.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		req.SetBasicAuth(url.QueryEscape(cfg.ClientID), url.QueryEscape(cfg.ClientSecret))
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, fmt.Errorf("token endpoint answered %s with no JSON", resp.Status)
	}
	if resp.StatusCode != http.StatusOK || tr.Error != "" {
		return nil, fmt.Errorf("refresh refused (%s): %s %s", resp.Status, tr.Error, tr.Description)
	}
	if tr.AccessToken == "" {
		return nil, errors.New("refresh answer has no access_token")
	}
	return &tr, nil
}
