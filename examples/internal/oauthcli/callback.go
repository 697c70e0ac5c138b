package oauthcli

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Response is an authorization response (RFC 6749 §4.1.2) as it arrived on
// the loopback redirect: the code, the state it matched and the iss
// parameter (RFC 9207), which Callback passes on unchecked.
type Response struct {
	Code, State, Iss string
}

// outcome is a Response or the error an error response carried.
type outcome struct {
	res Response
	err error
}

// Callback receives authorization responses on a loopback listener (RFC
// 8252 §7.3). It answers one GET on its path per Expect, the one whose
// state is the expected one: a request with another state, or a replay
// after the answer, gets 400 and is ignored (a stray or forged redirect
// does not end the wait). An error response (RFC 6749 §4.1.2.1) with the
// expected state ends the wait with an error. NOT checked here: iss (the
// caller compares it with the issuer).
type Callback struct {
	redirectURI string
	srv         *http.Server
	results     chan outcome

	mu       sync.Mutex
	expected string // state of the pending authorization request
	done     bool
}

// ListenCallback binds 127.0.0.1:port (0: an ephemeral port) and serves
// path there. The redirect URI is http://<host>:<port><path>; host is how
// the URI names the loopback interface (127.0.0.1 or localhost). NOT
// bound: ::1.
func ListenCallback(host string, port int, path string) (*Callback, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("loopback redirect listener: %w", err)
	}
	cb := &Callback{
		redirectURI: "http://" + net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)) + path,
		results:     make(chan outcome, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+path, cb.handle)
	cb.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = cb.srv.Serve(ln) }()
	return cb, nil
}

// RedirectURI is the redirect_uri to send in the authorization request.
func (cb *Callback) RedirectURI() string { return cb.redirectURI }

// Close stops the listener.
func (cb *Callback) Close() error { return cb.srv.Close() }

// Expect arms the receiver for the authorization request carrying state,
// and drops a response nobody waited for.
func (cb *Callback) Expect(state string) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	cb.expected, cb.done = state, false
	select {
	case <-cb.results:
	default:
	}
}

func (cb *Callback) handle(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := outcome{res: Response{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}}
	if e := q.Get("error"); e != "" {
		o.err = fmt.Errorf("authorization refused: %s %s", e, q.Get("error_description"))
	} else if o.res.Code == "" {
		o.err = errors.New("authorization response has neither code nor error")
	}
	cb.mu.Lock()
	if cb.expected == "" || cb.done || o.res.State != cb.expected {
		cb.mu.Unlock()
		http.Error(w, "unexpected authorization response (state does not match a pending request)", http.StatusBadRequest)
		return
	}
	// Sent under the lock, once per Expect, after Expect emptied the
	// buffer of one: it never blocks, and a late answer to an earlier
	// request cannot land after a newer Expect.
	cb.done = true
	cb.results <- o
	cb.mu.Unlock()

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if o.err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "<!doctype html><title>Login failed</title><p>%s</p>", html.EscapeString(o.err.Error()))
		return
	}
	fmt.Fprint(w, "<!doctype html><title>Logged in</title><p>Logged in. You can close this window and return to the terminal.</p>")
}

// Wait returns the next authorization response for the expected state, or
// the error it carried, or ctx's error.
func (cb *Callback) Wait(ctx context.Context) (Response, error) {
	select {
	case o := <-cb.results:
		return o.res, o.err
	case <-ctx.Done():
		return Response{}, fmt.Errorf("waiting for the redirect to %s: %w", cb.redirectURI, ctx.Err())
	}
}
