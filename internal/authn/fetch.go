package authn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// fetchTimeout bounds every outgoing request even when the caller's
// http.Client has no Timeout.
const fetchTimeout = 10 * time.Second

// errTooLarge is returned when a response exceeds the size cap.
var errTooLarge = errors.New("response exceeds size limit")

// getJSON GETs url with ctx, a timeout and a body size cap, and returns the
// body of a 200 response. It follows the client's redirect policy. It does
// not check the content type: some IdPs serve JWKS as text/plain.
func getJSON(ctx context.Context, client *http.Client, url string, maxBytes int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("build request for %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read body: %w", url, err)
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("GET %s: %w (%d bytes)", url, errTooLarge, maxBytes)
	}
	return body, nil
}
