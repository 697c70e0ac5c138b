package cimd

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFetchDocuments proves each document rule against a real TLS host on
// loopback: what is accepted, and the safe description of each refusal.
func TestFetchDocuments(t *testing.T) {
	h := newDocHost(t)
	f := testFetcher(h, nil)
	tests := []struct {
		path string
		want string // "" = accepted; else a substring of the description
	}{
		{"/client.json", ""},
		{"/plus.json", ""},
		{"/mismatch.json", "client_id does not equal its URL"},
		{"/no-redirects.json", "lists no redirect_uris"},
		{"/big.json", "too large"},
		{"/text.json", "not application/json"},
		{"/missing.json", "HTTP 404"},
		{"/redirect.json", "redirects are not followed"},
		{"/secret.json", "must not contain a client secret"},
		{"/jwt.json", `token_endpoint_auth_method "none"`},
		{"/basic.json", `token_endpoint_auth_method "none"`},
		{"/trailing.json", "trailing data"},
		{"/array.json", "not valid client metadata JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			doc, err := f.Fetch(context.Background(), h.url(tt.path))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if doc.ClientID != h.url(tt.path) || !slices.Contains(doc.Metadata.RedirectURIs, "https://client.example/callback") ||
					doc.Metadata.ClientName != "Example MCP Client" || doc.Metadata.TokenEndpointAuthMethod != "none" {
					t.Fatalf("document = %+v", doc)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want refusal %q", tt.want)
			}
			be := asBearer(t, err)
			if be.Status != http.StatusUnauthorized || be.Code != "invalid_client" || !strings.Contains(be.Description, tt.want) {
				t.Fatalf("error = %+v, want 401 invalid_client %q", be, tt.want)
			}
		})
	}
	if n := h.count("/client.json"); n != 1 {
		t.Errorf("redirect target fetched: /client.json hit %d times, want 1 (only its own case)", n)
	}
}

// TestFetchAbsentAuthMethodIsNone proves an absent token_endpoint_auth_method
// is taken as "none" (the document is a public client).
func TestFetchAbsentAuthMethodIsNone(t *testing.T) {
	md, err := parseDocument([]byte(`{"client_id":"https://a.example/c","redirect_uris":["https://a.example/cb"]}`), "https://a.example/c")
	if err != nil || md.TokenEndpointAuthMethod != "none" {
		t.Fatalf("md = %+v, %v", md, err)
	}
}

// TestFetchCaching proves HTTP caching is honoured: max-age and Expires
// serve later fetches from the cache until they lapse, no-store always
// refetches, and a negative CacheSize disables the cache.
func TestFetchCaching(t *testing.T) {
	h := newDocHost(t)
	clk := newClock()
	f := testFetcher(h, clk.Now)
	ctx := context.Background()
	fetch := func(path string) {
		t.Helper()
		if _, err := f.Fetch(ctx, h.url(path)); err != nil {
			t.Fatalf("Fetch %s: %v", path, err)
		}
	}

	h.setHeader("/client.json", "Cache-Control", "public, max-age=60")
	fetch("/client.json")
	clk.Advance(59 * time.Second)
	fetch("/client.json")
	if n := h.count("/client.json"); n != 1 {
		t.Fatalf("max-age: %d fetches within max-age, want 1", n)
	}
	clk.Advance(2 * time.Second)
	fetch("/client.json")
	if n := h.count("/client.json"); n != 2 {
		t.Fatalf("max-age: %d fetches after expiry, want 2", n)
	}

	h.setHeader("/plus.json", "Cache-Control", "no-store")
	fetch("/plus.json")
	fetch("/plus.json")
	if n := h.count("/plus.json"); n != 2 {
		t.Fatalf("no-store: %d fetches, want 2", n)
	}

	// Expires relative to the response's Date (both from the test clock).
	h.setHeader("/no-cc.json", "Date", httpDate(clk, 0))
	h.setHeader("/no-cc.json", "Expires", httpDate(clk, 2*time.Minute))
	fetch("/no-cc.json")
	clk.Advance(time.Minute)
	fetch("/no-cc.json")
	if n := h.count("/no-cc.json"); n != 1 {
		t.Fatalf("Expires: %d fetches before Expires, want 1", n)
	}
	clk.Advance(90 * time.Second)
	fetch("/no-cc.json")
	if n := h.count("/no-cc.json"); n != 2 {
		t.Fatalf("Expires: %d fetches after Expires, want 2", n)
	}

	off := NewFetcher(FetcherOptions{InsecureAllowLoopback: true, RootCAs: h.pool(), CacheSize: -1})
	for range 2 {
		if _, err := off.Fetch(ctx, h.url("/off.json")); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.count("/off.json"); n != 2 {
		t.Fatalf("CacheSize -1: %d fetches, want 2", n)
	}
}

// TestFetchFailuresNotCached proves a failed fetch is retried next time.
func TestFetchFailuresNotCached(t *testing.T) {
	h := newDocHost(t)
	f := testFetcher(h, nil)
	for range 2 {
		if _, err := f.Fetch(context.Background(), h.url("/missing.json")); err == nil {
			t.Fatal("404 accepted")
		}
	}
	if n := h.count("/missing.json"); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
}

// TestFetchCancelled proves the caller's context bounds its wait.
func TestFetchCancelled(t *testing.T) {
	h := newDocHost(t)
	f := testFetcher(h, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.Fetch(ctx, h.url("/client.json"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	asBearer(t, err)
}
