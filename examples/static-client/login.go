package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// issuerMetadata are the discovery members go-oidc does not expose.
type issuerMetadata struct {
	CodeChallengeMethods []string `json:"code_challenge_methods_supported"`
	TokenAuthMethods     []string `json:"token_endpoint_auth_methods_supported"`
	IssParameter         bool     `json:"authorization_response_iss_parameter_supported"`
}

// checkIss applies RFC 9207 §2.4: an iss that differs from the issuer is a
// mix-up and refused; a missing one is refused when the metadata promised it.
func checkIss(got, issuer string, promised bool) error {
	switch {
	case got == "" && promised:
		return errors.New("the authorization response lacks iss although the metadata promises it (RFC 9207)")
	case got != "" && got != issuer:
		return fmt.Errorf("the authorization response comes from issuer %q, not %q (RFC 9207 mix-up protection)", got, issuer)
	}
	return nil
}

// authStyle picks how the client authenticates at the token endpoint from
// the discovery document: HTTP Basic when offered (RFC 6749 §2.3.1),
// client_secret in the body when only that is, else auto-detection.
func authStyle(methods []string) oauth2.AuthStyle {
	basic, post := false, false
	for _, m := range methods {
		basic = basic || m == "client_secret_basic"
		post = post || m == "client_secret_post"
	}
	switch {
	case basic:
		return oauth2.AuthStyleInHeader
	case post:
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleAutoDetect
}

// identity is what the ID token says about who logged in.
type identity struct {
	Subject           string `json:"sub"`
	Email             string `json:"email"`
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	Username          string `json:"cognito:username"`
}

// verifyIDToken verifies the ID token of tok with go-oidc (signature,
// issuer, audience = client id, expiry), then the nonce (OIDC Core
// §3.1.3.7, which go-oidc leaves to the caller) and, when present, at_hash
// against the access token. It returns the identity claims.
func verifyIDToken(ctx context.Context, provider *oidc.Provider, clientID, nonce string, tok *oauth2.Token) (*identity, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("the token response has no id_token: include openid in --scopes")
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("ID token: %w", err)
	}
	if idt.Nonce != nonce {
		return nil, errors.New("ID token: nonce does not match the authorization request (replay?)")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, fmt.Errorf("ID token: %w", err)
		}
	}
	var id identity
	if err := idt.Claims(&id); err != nil {
		return nil, fmt.Errorf("ID token claims: %w", err)
	}
	return &id, nil
}

// randomValue is an unguessable state or nonce.
func randomValue() string { return rand.Text() }
