package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// issuerMetadata are the discovery members go-oidc does not expose.
type issuerMetadata struct {
	CodeChallengeMethods []string `json:"code_challenge_methods_supported"`
	TokenAuthMethods     []string `json:"token_endpoint_auth_methods_supported"`
	IssParameter         bool     `json:"authorization_response_iss_parameter_supported"`
}

// authResponse is what arrived on the loopback redirect.
type authResponse struct {
	code, iss string
	err       error
}

// callback receives one authorization response (RFC 6749 §4.1.2) for
// state on a loopback listener. Other states get 400 and are ignored, so a
// stray request cannot end the wait; an error response (§4.1.2.1) ends it.
type callback struct {
	redirectURI string
	state       string
	srv         *http.Server
	once        sync.Once
	result      chan authResponse
}

// listenCallback binds 127.0.0.1:port (0: any free port); the redirect URI
// names it http://<host>:<port>/callback.
func listenCallback(host string, port int, state string) (*callback, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("loopback redirect listener: %w", err)
	}
	cb := &callback{
		redirectURI: "http://" + net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)) + "/callback",
		state:       state,
		result:      make(chan authResponse, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", cb.handle)
	cb.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = cb.srv.Serve(ln) }()
	return cb, nil
}

func (cb *callback) handle(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("state") != cb.state {
		http.Error(w, "unexpected authorization response (state does not match)", http.StatusBadRequest)
		return
	}
	res := authResponse{code: q.Get("code"), iss: q.Get("iss")}
	if e := q.Get("error"); e != "" {
		res.err = fmt.Errorf("authorization refused: %s %s", e, q.Get("error_description"))
	} else if res.code == "" {
		res.err = errors.New("authorization response has neither code nor error")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if res.err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "<!doctype html><title>Login failed</title><p>%s</p>", html.EscapeString(res.err.Error()))
	} else {
		fmt.Fprint(w, "<!doctype html><title>Logged in</title><p>Logged in. You can close this window.</p>")
	}
	cb.once.Do(func() { cb.result <- res })
}

// wait returns the authorization response or ctx's error.
func (cb *callback) wait(ctx context.Context) (authResponse, error) {
	select {
	case res := <-cb.result:
		return res, res.err
	case <-ctx.Done():
		return authResponse{}, fmt.Errorf("waiting for the redirect to %s: %w", cb.redirectURI, ctx.Err())
	}
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

// openBrowser starts the system browser on u and does not wait for it.
func openBrowser(u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
