package doctor

import (
	"context"
	"errors"
	"net/http"

	"github.com/mcp-gateway/mcp-gateway/internal/httpfetch"
)

// maxResponseBytes caps every response body.
const maxResponseBytes = 1 << 20

// isNetwork reports whether err means no HTTP answer at all.
func isNetwork(err error) bool {
	var se *httpfetch.StatusError
	return err != nil && !errors.As(err, &se) && !errors.Is(err, httpfetch.ErrTooLarge) && !errors.Is(err, httpfetch.ErrScheme)
}

// fetcher GETs small documents over http(s) through httpfetch.
type fetcher struct{ client *http.Client }

func newFetcher(c *http.Client) *fetcher {
	if c == nil {
		c = &http.Client{Timeout: httpfetch.Timeout}
	}
	return &fetcher{client: c}
}

// get returns the body of a 200 answer; errors name the cause, not the URL.
func (f *fetcher) get(ctx context.Context, raw string) ([]byte, error) {
	return httpfetch.Get(ctx, f.client, raw, maxResponseBytes)
}
