package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
)

// safeQuery are query parameters whose values are printed; every other
// value is replaced by "…".
var safeQuery = []string{"resource", "audience", "scope", "response_type", "code_challenge_method", "client_id", "redirect_uri", "error", "error_description", "iss"}

// stepLog numbers and prints the run's steps on stderr: every HTTP exchange
// (method, URL with secrets elided, status, and an OAuth error's code and
// description) and the program's own steps. It never prints an
// Authorization header, a token, a code, the client secret or a body.
type stepLog struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

// step prints "step N: <message>".
func (s *stepLog) step(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	fmt.Fprintf(s.w, "step %d: %s\n", s.n, fmt.Sprintf(format, args...))
}

// detail prints an indented line belonging to the last step.
func (s *stepLog) detail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, "        %s\n", fmt.Sprintf(format, args...))
}

// line prints a line as is ("open: <url>").
func (s *stepLog) line(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format+"\n", args...)
}

// loggingTransport turns every exchange into a step.
type loggingTransport struct {
	log  *stepLog
	base http.RoundTripper
}

var _ http.RoundTripper = (*loggingTransport)(nil)

// RoundTrip sends r through the base transport and logs the exchange; for
// a 4xx/5xx JSON answer it shows the OAuth error members.
func (t *loggingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	label := r.Method + " " + redactURL(r.URL)
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		t.log.step("%s -> error: %v", label, err)
		return nil, err
	}
	t.log.step("%s -> %s", label, resp.Status)
	for _, c := range resp.Header.Values("WWW-Authenticate") {
		t.log.detail("WWW-Authenticate: %s", c)
	}
	if resp.StatusCode < 400 || resp.Header.Get("Content-Type") == "text/event-stream" {
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		t.log.detail("OAuth error: %s %s", e.Error, e.Description)
	}
	return resp, nil
}

// redactURL prints u without userinfo and with the values of query
// parameters outside safeQuery replaced by "…".
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.Fragment = ""
	if c.RawQuery != "" {
		q := c.Query()
		for k, vs := range q {
			if !slices.Contains(safeQuery, k) {
				for i := range vs {
					vs[i] = "…"
				}
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}
