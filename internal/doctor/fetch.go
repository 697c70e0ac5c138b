package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

const (
	// requestTimeout bounds every request even when the client has none.
	requestTimeout = 10 * time.Second
	// maxResponseBytes caps every response body.
	maxResponseBytes = 1 << 20
)

// statusError is a response other than 200.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d", e.code) }

// isNotFound reports whether err is an HTTP 404 or 410 answer, i.e. the
// server is up but does not publish the document.
func isNotFound(err error) bool {
	var se *statusError
	return errors.As(err, &se) && (se.code == http.StatusNotFound || se.code == http.StatusGone)
}

// isNetwork reports whether err means no HTTP answer at all.
func isNetwork(err error) bool {
	var se *statusError
	return err != nil && !errors.As(err, &se) && !errors.Is(err, errTooLarge) && !errors.Is(err, errScheme)
}

var (
	errTooLarge = errors.New("response larger than 1 MiB")
	errScheme   = errors.New("only http and https URLs are fetched")
)

// fetcher GETs small documents over http(s).
type fetcher struct{ client *http.Client }

func newFetcher(c *http.Client) *fetcher {
	var cl http.Client
	if c != nil {
		cl = *c
	} else {
		cl.Timeout = requestTimeout
	}
	prev := cl.CheckRedirect
	cl.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), errScheme)
		}
		if prev != nil {
			return prev(req, via)
		}
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		return nil
	}
	return &fetcher{client: &cl}
}

// get returns the body of a 200 answer to GET raw. Errors are short and
// name the cause (network error, status, size), not the URL.
func (f *fetcher) get(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, errScheme
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
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
		return nil, &statusError{code: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(body) > maxResponseBytes {
		return nil, errTooLarge
	}
	return body, nil
}
