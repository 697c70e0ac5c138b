package authn

import (
	"context"
	"fmt"
	"net/http"

	"github.com/mcp-gateway/mcp-gateway/internal/httpfetch"
)

// getJSON GETs url through httpfetch (context, timeout, size cap, http(s)
// only) and names the URL in errors.
func getJSON(ctx context.Context, client *http.Client, url string, maxBytes int64) ([]byte, error) {
	body, err := httpfetch.Get(ctx, client, url, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return body, nil
}
