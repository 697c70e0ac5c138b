package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// maxCIMDBytes caps a client ID metadata document (the draft suggests
// servers accept at most 5 KB; this client is more lenient).
const maxCIMDBytes = 64 << 10

// redirectPlan is where the loopback listener binds and how the redirect
// URI names it.
type redirectPlan struct {
	host string // 127.0.0.1 or localhost, as the URI writes it
	port int    // 0: ephemeral
	path string
}

// defaultRedirect is http://127.0.0.1:<port>/callback (RFC 8252 §7.3).
func defaultRedirect(port int) redirectPlan {
	return redirectPlan{host: "127.0.0.1", port: port, path: "/callback"}
}

// fetchClientMetadata GETs a client ID metadata document through client
// (the step log shows it) and checks that its client_id is its own URL
// (draft-ietf-oauth-client-id-metadata-document §3).
func fetchClientMetadata(ctx context.Context, client *http.Client, docURL string) (*clientMetadataDocument, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, docURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", docURL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCIMDBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxCIMDBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", docURL, maxCIMDBytes)
	}
	var doc clientMetadataDocument
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%s: not a JSON client metadata document: %w", docURL, err)
	}
	if doc.ClientID != docURL {
		return nil, fmt.Errorf("%s: client_id %q is not the document's URL; authorization servers refuse it", docURL, doc.ClientID)
	}
	return &doc, nil
}

// redirectFromDocument picks the redirect URI this CLI can receive on: an
// http loopback URI the document lists, http://127.0.0.1 first (RFC 8252
// §8.3 prefers the IP literal), else http://localhost. A portless one
// (Claude Code lists http://localhost/callback and http://127.0.0.1/callback)
// matches any port (RFC 8252 §7.3), so an ephemeral port (or port, when not
// 0) is used; one with a port must be used as is, and port must then be 0
// or the same.
func redirectFromDocument(uris []string, port int) (redirectPlan, error) {
	for _, want := range []string{"127.0.0.1", "localhost"} {
		for _, raw := range uris {
			u, err := url.Parse(raw)
			if err != nil || u.Scheme != "http" || u.Hostname() != want || u.RawQuery != "" || u.User != nil {
				continue
			}
			path := u.EscapedPath()
			if path == "" {
				path = "/"
			}
			if p := u.Port(); p != "" {
				n, err := strconv.Atoi(p)
				if err != nil {
					continue
				}
				if port != 0 && port != n {
					return redirectPlan{}, fmt.Errorf("--redirect-port %d: the document lists %s with a fixed port", port, raw)
				}
				return redirectPlan{host: want, port: n, path: path}, nil
			}
			return redirectPlan{host: want, port: port, path: path}, nil
		}
	}
	return redirectPlan{}, fmt.Errorf("the document lists no http://127.0.0.1 or http://localhost redirect URI (it lists %v); this program receives the code on loopback", uris)
}
