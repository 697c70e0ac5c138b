// Package httpfetch is the project's one way to GET a small document from
// another server (issuer metadata, JWKS, doctor probes): http(s) only, with
// the caller's context, a timeout and a response size cap.
package httpfetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Timeout bounds every request, even when the client has no Timeout.
const Timeout = 10 * time.Second

var (
	// ErrTooLarge means the body exceeded the cap.
	ErrTooLarge = errors.New("response exceeds size limit")
	// ErrScheme means the URL (or a redirect) was not http or https.
	ErrScheme = errors.New("only http and https URLs are fetched")
)

// StatusError is an answer other than 200 OK.
type StatusError struct{ Code int }

// Error implements error.
func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d", e.Code) }

// Get returns the body of a 200 answer to GET rawURL, at most maxBytes
// long. Errors name the cause (network, *StatusError, ErrTooLarge,
// ErrScheme) but not the URL: callers add it. It does not check the content
// type (some IdPs serve JSON as text/plain), and it follows the client's
// redirect policy, refusing redirects to other schemes.
func Get(ctx context.Context, client *http.Client, rawURL string, maxBytes int64) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bad URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, ErrScheme
	}
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := withSchemeCheck(client).Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, &StatusError{Code: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, maxBytes)
	}
	return body, nil
}

// withSchemeCheck returns a shallow copy of c whose redirects must stay on
// http(s) and stop after 5 hops (or follow c's own policy).
func withSchemeCheck(c *http.Client) *http.Client {
	cl := *c
	prev := c.CheckRedirect
	cl.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), ErrScheme)
		}
		if prev != nil {
			return prev(req, via)
		}
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		return nil
	}
	return &cl
}
