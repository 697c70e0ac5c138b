package oauthcli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
)

// safeQuery are the query parameters whose values the step log prints;
// every other value (code, state, code_verifier, nonce, tokens…) is
// replaced by "…".
var safeQuery = []string{"resource", "audience", "scope", "response_type", "code_challenge_method", "client_id", "redirect_uri", "error", "error_description", "iss"}

// maxErrorPeek bounds how much of an error response ExplainOAuthError reads.
const maxErrorPeek = 64 << 10

// Transport is an http.RoundTripper that turns every exchange into a step:
// "METHOD URL -> status" (the URL through RedactURL), one detail line per
// WWW-Authenticate challenge (RFC 9110 §11.6.1), then the lines Explain
// returns. It never prints a request header, a request body, or a response
// body except through Explain.
type Transport struct {
	// Steps receives the lines (required).
	Steps *Steps
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Annotate, when set, returns text appended to the step's label, such
	// as " [tools/call]" for an MCP request. It must not consume r.Body.
	Annotate func(r *http.Request) string
	// Explain, when set, returns detail lines about the answer. It may read
	// the body only through PeekBody, so the caller still gets all of it.
	Explain func(r *http.Request, resp *http.Response) ([]string, error)
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip sends r through Base and logs the exchange. An error from
// Explain fails the exchange (the response body is closed).
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	label := r.Method + " " + RedactURL(r.URL)
	if t.Annotate != nil {
		label += t.Annotate(r)
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	if err != nil {
		t.Steps.Step("%s -> error: %v", label, err)
		return nil, err
	}
	t.Steps.Step("%s -> %s", label, resp.Status)
	for _, c := range resp.Header.Values("WWW-Authenticate") {
		t.Steps.Detail("WWW-Authenticate: %s", c)
	}
	if t.Explain == nil {
		return resp, nil
	}
	lines, err := t.Explain(r, resp)
	for _, l := range lines {
		t.Steps.Detail("%s", l)
	}
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: reading the response: %w", label, err)
	}
	return resp, nil
}

// ExplainOAuthError is an Explain for 4xx and 5xx answers: it shows the
// error and error_description members of a JSON OAuth error response (RFC
// 6749 §5.2) as "OAuth error: <error> <description>". NOT read: successful
// answers and event streams.
func ExplainOAuthError(_ *http.Request, resp *http.Response) ([]string, error) {
	if resp.StatusCode < 400 || resp.Header.Get("Content-Type") == "text/event-stream" {
		return nil, nil
	}
	body, err := PeekBody(resp, maxErrorPeek)
	if err != nil {
		return nil, err
	}
	if e := OAuthError(body); e != "" {
		return []string{e}, nil
	}
	return nil, nil
}

// OAuthError returns "OAuth error: <error> <error_description>" for a JSON
// body with a string error member (RFC 6749 §5.2), else "".
func OAuthError(body []byte) string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return ""
	}
	return fmt.Sprintf("OAuth error: %s %s", e.Error, e.Description)
}

// PeekBody reads up to limit bytes of resp's body and puts them back in
// front of the rest, so whoever reads resp.Body next gets all of it.
func PeekBody(resp *http.Response, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	return body, nil
}

// RedactURL prints u without userinfo or fragment and with the values of
// query parameters other than resource, audience, scope, response_type,
// code_challenge_method, client_id, redirect_uri, error, error_description
// and iss replaced by "…". NOT redacted: the path.
func RedactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
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
