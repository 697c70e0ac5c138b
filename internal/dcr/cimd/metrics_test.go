package cimd

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
)

// TestFetchMetrics proves each lookup is counted once by its result: a
// cache hit without a request, a fetch, and each kind of failure; a
// client_id refused before any fetch is not counted.
func TestFetchMetrics(t *testing.T) {
	h := newDocHost(t)
	m := &dcrtest.Metrics{}
	f := NewFetcher(FetcherOptions{InsecureAllowLoopback: true, RootCAs: h.pool(), Metrics: m})
	ctx := context.Background()
	for _, path := range []string{"/client.json", "/client.json", "/missing.json", "/redirect.json",
		"/big.json", "/text.json", "/mismatch.json"} {
		_, _ = f.Fetch(ctx, h.url(path))
	}
	_, _ = f.Fetch(ctx, "http://example.com/c.json") // not a client_id URL: no fetch

	strict := NewFetcher(FetcherOptions{RootCAs: h.pool(), Metrics: m})
	if _, err := strict.Fetch(ctx, h.url("/client.json")); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("loopback without the test switch: %v", err)
	}
	noDNS := NewFetcher(FetcherOptions{Metrics: m, LookupIP: func(context.Context, string) ([]net.IP, error) {
		return nil, errors.New("no such host")
	}})
	_, _ = noDNS.Fetch(ctx, "https://gone.example/c.json")

	want := []string{"cimd fetched", "cimd cache_hit", "cimd bad_status", "cimd bad_status",
		"cimd too_large", "cimd invalid", "cimd invalid", "cimd forbidden_address", "cimd unreachable"}
	if got := m.Events(); !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
}
