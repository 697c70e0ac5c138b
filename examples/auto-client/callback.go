package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// callbackResult is what arrived on the loopback redirect.
type callbackResult struct {
	code, state, iss string
	err              error
}

// callbackServer receives the authorization response (RFC 6749 §4.1.2) on
// a loopback listener (RFC 8252 §7.3): one GET on its path whose state is
// the one expected. A request with another state is answered 400 and
// ignored (a stray or forged redirect must not end the wait). An error
// response (RFC 6749 §4.1.2.1) with the expected state ends it. The iss
// parameter (RFC 9207) is passed on; the go-sdk compares it with the
// issuer.
type callbackServer struct {
	redirectURI string
	path        string
	srv         *http.Server
	results     chan callbackResult

	mu       sync.Mutex
	expected string // state of the pending authorization request
	done     bool
}

// listenCallback binds 127.0.0.1:port (0: an ephemeral port) and returns a
// server whose redirect URI is http://<host>:<port><path>. host is how the
// URI names the loopback interface (127.0.0.1 or localhost).
func listenCallback(host string, port int, path string) (*callbackServer, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("loopback redirect listener: %w", err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	cb := &callbackServer{
		redirectURI: "http://" + net.JoinHostPort(host, strconv.Itoa(p)) + path,
		path:        path,
		results:     make(chan callbackResult, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+path, cb.handle)
	cb.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = cb.srv.Serve(ln) }()
	return cb, nil
}

// Close stops the listener.
func (cb *callbackServer) Close() error { return cb.srv.Close() }

// expect arms the server for the authorization request carrying state.
func (cb *callbackServer) expect(state string) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	cb.expected, cb.done = state, false
	select { // drop a result nobody waited for
	case <-cb.results:
	default:
	}
}

func (cb *callbackServer) handle(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cb.mu.Lock()
	if cb.expected == "" || cb.done || q.Get("state") != cb.expected {
		cb.mu.Unlock()
		http.Error(w, "unexpected authorization response (state does not match a pending request)", http.StatusBadRequest)
		return
	}
	cb.done = true
	cb.mu.Unlock()

	res := callbackResult{code: q.Get("code"), state: q.Get("state"), iss: q.Get("iss")}
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
		fmt.Fprint(w, "<!doctype html><title>Logged in</title><p>Logged in. You can close this window and return to the terminal.</p>")
	}
	cb.results <- res
}

// wait returns the next authorization response, or ctx's error.
func (cb *callbackServer) wait(ctx context.Context) (callbackResult, error) {
	select {
	case res := <-cb.results:
		return res, res.err
	case <-ctx.Done():
		return callbackResult{}, fmt.Errorf("waiting for the redirect to %s: %w", cb.redirectURI, ctx.Err())
	}
}

// fetcher returns the go-sdk AuthorizationCodeFetcher: it prints the
// authorization URL as "open: <url>" on its own line, opens the system
// browser unless noBrowser, and waits for the loopback redirect. It records
// the request's resource in g for the refresh.
func fetcher(cb *callbackServer, steps *stepLog, noBrowser bool, cimdURL string, g *grant) auth.AuthorizationCodeFetcher {
	return func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		u, err := url.Parse(args.URL)
		if err != nil {
			return nil, fmt.Errorf("authorization URL: %w", err)
		}
		q := u.Query()
		// OpenID Connect Core §11: offline_access is ignored unless the
		// user is asked for consent, so ask for it when requesting it.
		if strings.Contains(" "+q.Get("scope")+" ", " offline_access ") && q.Get("prompt") == "" {
			q.Set("prompt", "consent")
			u.RawQuery = q.Encode()
		}
		how := "dynamic client registration"
		if cimdURL != "" && q.Get("client_id") == cimdURL {
			how = "client ID metadata document"
		}
		g.setResource(q.Get("resource"))
		cb.expect(q.Get("state"))
		steps.step("authorization request: client_id=%s (%s), PKCE %s, resource=%s, scope=%q, redirect_uri=%s",
			q.Get("client_id"), how, q.Get("code_challenge_method"), q.Get("resource"), q.Get("scope"), q.Get("redirect_uri"))
		steps.line("open: %s", u.String())
		if !noBrowser {
			if err := openBrowser(u.String()); err != nil {
				steps.detail("could not start a browser (%v): open the URL above yourself", err)
			}
		}
		res, err := cb.wait(ctx)
		if err != nil {
			steps.step("redirect to %s: %v", cb.redirectURI, err)
			return nil, err
		}
		steps.step("redirect to %s: code received, state matches, iss=%s", cb.redirectURI, orNone(res.iss))
		return &auth.AuthorizationResult{Code: res.code, State: res.state, Iss: res.iss}, nil
	}
}

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
