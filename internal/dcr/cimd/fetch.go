package cimd

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// Fetch defaults (CIMD draft §8 recommends reading at most 5 kilobytes).
const (
	// DefaultMaxBytes is the document size cap (the draft recommends 5 KB).
	DefaultMaxBytes = 5 * 1024
	// DefaultTimeout bounds one fetch: connect, TLS, headers and body.
	DefaultTimeout = 5 * time.Second
	// DefaultCacheSize bounds how many documents are kept.
	DefaultCacheSize = 1000
)

// FetcherOptions configures a [Fetcher] (CIMD draft §5). Zero values take
// the defaults. There is no option to follow redirects or fetch http URLs.
type FetcherOptions struct {
	// MaxBytes caps the document; DefaultMaxBytes when zero.
	MaxBytes int64
	// Timeout bounds one fetch; DefaultTimeout when zero.
	Timeout time.Duration
	// InsecureAllowLoopback admits loopback addresses (127.0.0.0/8, ::1,
	// "localhost"), FOR TESTS ONLY. https is still required, and private,
	// link-local and other non-public addresses stay refused.
	InsecureAllowLoopback bool
	// RootCAs replaces the system roots (tests); nil means system roots.
	RootCAs *x509.CertPool
	// Now is the clock for cache freshness; time.Now when nil.
	Now func() time.Time
	// CacheSize bounds the cache; DefaultCacheSize when zero, no caching
	// when negative.
	CacheSize int
	// LookupIP resolves host names (tests); the system resolver when nil.
	// Every address it returns is checked by the SSRF guard.
	LookupIP func(ctx context.Context, host string) ([]net.IP, error)
	// Metrics counts every cache hit and every fetch by its result
	// (dcr.Metrics.CIMDFetch); none when nil.
	Metrics dcr.Metrics
}

// Document is a fetched and checked client metadata document (CIMD draft
// §4). Its redirect URIs, grant types and scopes are NOT yet checked against
// the registration policy; the Registrar does that.
type Document struct {
	// ClientID is the document URL, equal to the document's client_id.
	ClientID string
	// Metadata is the RFC 7591 §2 metadata the document declares; members
	// oauthmeta.ClientMetadata does not type are dropped.
	Metadata oauthmeta.ClientMetadata
	// FetchedAt and ExpiresAt bound its reuse from the cache.
	FetchedAt time.Time
	ExpiresAt time.Time
}

// Fetcher fetches Client ID Metadata Documents (CIMD draft §5) with a size
// cap, a timeout, an SSRF guard and an RFC 9111 cache. It is safe for
// concurrent use. It does not fetch URLs found inside documents (logo_uri,
// jwks_uri).
type Fetcher struct {
	client   *http.Client
	maxBytes int64
	timeout  time.Duration
	now      func() time.Time
	cache    *docCache // nil: no caching
	group    singleflight.Group
	metrics  dcr.Metrics
}

// NewFetcher builds a Fetcher whose HTTP client uses no proxy (the
// environment's HTTPS_PROXY is ignored, since a proxy would defeat the
// address check), follows no redirects (CIMD draft §5), requires TLS 1.2 or
// later, and dials only through the SSRF guard.
func NewFetcher(o FetcherOptions) *Fetcher {
	f := &Fetcher{maxBytes: o.MaxBytes, timeout: o.Timeout, now: o.Now, metrics: dcr.OrNop(o.Metrics)}
	if f.maxBytes <= 0 {
		f.maxBytes = DefaultMaxBytes
	}
	if f.timeout <= 0 {
		f.timeout = DefaultTimeout
	}
	if f.now == nil {
		f.now = time.Now
	}
	switch {
	case o.CacheSize == 0:
		f.cache = newDocCache(DefaultCacheSize)
	case o.CacheSize > 0:
		f.cache = newDocCache(o.CacheSize)
	}
	lookup := o.LookupIP
	if lookup == nil {
		lookup = defaultLookup
	}
	d := &guardedDialer{lookup: lookup, allowLoopback: o.InsecureAllowLoopback, timeout: f.timeout}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would make the guard check the proxy, not the target
		DialContext:            d.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    f.timeout,
		ResponseHeaderTimeout:  f.timeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	f.client = &http.Client{
		Transport: tr,
		Timeout:   f.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return f
}

// Fetch returns the checked document at clientID, from the cache while it
// is fresh. Errors carry a 401 invalid_client *bearer.Error (errors.As) with
// a description safe to show, and the cause (errors.Is; ErrForbiddenAddress
// for the SSRF guard). Checked here: the URL rules of parseClientID; a 200
// answer without redirects; Content-Type application/json or
// application/*+json; the size cap; a JSON object that names no top-level
// member twice, also in another case (see distinctMembers), whose client_id
// equals clientID exactly; a non-empty redirect_uris of non-empty strings;
// token_endpoint_auth_method absent or "none"; no client_secret or
// client_secret_expires_at. NOT checked here (the Registrar applies the DCR
// rules): redirect URI schemes and policy, grant and response types, scope,
// client_name.
func (f *Fetcher) Fetch(ctx context.Context, clientID string) (*Document, error) {
	if _, err := parseClientID(clientID); err != nil {
		return nil, invalidClient(err.Error(), nil)
	}
	if err := ctx.Err(); err != nil {
		return nil, invalidClient("client metadata document could not be fetched", err)
	}
	if f.cache != nil {
		if d := f.cache.get(clientID, f.now()); d != nil {
			f.metrics.CIMDFetch(dcr.CIMDCacheHit)
			return d, nil
		}
	}
	ch := f.group.DoChan(clientID, func() (any, error) {
		// Detached from the first caller's cancellation: others may wait
		// on the same fetch. Still bounded by f.timeout.
		doc, err := f.fetch(context.WithoutCancel(ctx), clientID)
		f.metrics.CIMDFetch(fetchResult(err))
		return doc, err
	})
	select {
	case <-ctx.Done():
		return nil, invalidClient("client metadata document could not be fetched", ctx.Err())
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*Document), nil
	}
}

// fetch does one guarded GET and caches the result when allowed.
func (f *Fetcher) fetch(ctx context.Context, clientID string) (*Document, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientID, nil)
	if err != nil {
		return nil, failed(dcr.CIMDInvalid, "client_id is not a valid URL", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "mcp-dcr-cimd/1")
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrForbiddenAddress) {
			return nil, failed(dcr.CIMDForbidden, "client_id host is not a public address", err)
		}
		return nil, failed(dcr.CIMDUnreachable, "client metadata document could not be fetched", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		desc := fmt.Sprintf("client metadata document answered HTTP %d", resp.StatusCode)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			desc = "client metadata document redirects; redirects are not followed"
		}
		return nil, failed(dcr.CIMDBadStatus, desc, fmt.Errorf("HTTP %d", resp.StatusCode))
	}
	if !jsonType(resp.Header.Get("Content-Type")) {
		return nil, failed(dcr.CIMDInvalid, "client metadata document is not application/json", nil)
	}
	if resp.ContentLength > f.maxBytes {
		return nil, failed(dcr.CIMDTooLarge, "client metadata document is too large", nil)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, failed(dcr.CIMDUnreachable, "client metadata document could not be read", err)
	}
	if int64(len(body)) > f.maxBytes {
		return nil, failed(dcr.CIMDTooLarge, "client metadata document is too large", nil)
	}
	md, err := parseDocument(body, clientID)
	if err != nil {
		return nil, failed(dcr.CIMDInvalid, err.Error(), nil)
	}
	now := f.now()
	doc := &Document{ClientID: clientID, Metadata: md, FetchedAt: now}
	if ttl := freshness(resp.Header, now); ttl > 0 && f.cache != nil {
		doc.ExpiresAt = now.Add(ttl)
		f.cache.put(clientID, doc)
	}
	return doc, nil
}

// jsonType accepts application/json and application/<x>+json.
func jsonType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// rawDocument is the document as decoded; members that must be absent are
// typed so that their presence is seen.
type rawDocument struct {
	oauthmeta.ClientMetadata
	ClientID              string          `json:"client_id"`
	ClientSecret          json.RawMessage `json:"client_secret"`
	ClientSecretExpiresAt json.RawMessage `json:"client_secret_expires_at"`
}

// parseDocument applies the document rules listed on Fetch; error texts are
// safe to show a client.
func parseDocument(body []byte, clientID string) (oauthmeta.ClientMetadata, error) {
	var raw rawDocument
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil {
		return oauthmeta.ClientMetadata{}, errors.New("client metadata document is not valid client metadata JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return oauthmeta.ClientMetadata{}, errors.New("client metadata document has trailing data")
	}
	if !distinctMembers(body) {
		return oauthmeta.ClientMetadata{}, errors.New("client metadata document names a member twice (names that differ only in case count as one)")
	}
	md := raw.ClientMetadata
	switch {
	case raw.ClientID != clientID:
		return md, errors.New("client metadata document client_id does not equal its URL")
	case len(md.RedirectURIs) == 0:
		return md, errors.New("client metadata document lists no redirect_uris")
	case raw.ClientSecret != nil || raw.ClientSecretExpiresAt != nil:
		return md, errors.New("client metadata document must not contain a client secret")
	case md.TokenEndpointAuthMethod != "" && md.TokenEndpointAuthMethod != "none":
		return md, errors.New(`client metadata document clients must use token_endpoint_auth_method "none"`)
	}
	for _, u := range md.RedirectURIs {
		if u == "" {
			return md, errors.New("client metadata document lists an empty redirect_uri")
		}
	}
	md.TokenEndpointAuthMethod = "none"
	return md, nil
}
