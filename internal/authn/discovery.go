package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// metadata is the part of OIDC Discovery 1.0 §3 / RFC 8414 §2 metadata the
// gateway reads: the key set's jwks_uri and token exchange's token_endpoint.
type metadata struct {
	Issuer        string `json:"issuer"`
	JWKSURI       string `json:"jwks_uri"`
	TokenEndpoint string `json:"token_endpoint"`
}

// discoveryURLs returns where to look for the issuer's metadata, in order:
// the configured DiscoveryURL alone, or OIDC Discovery 1.0 §4
// (<issuer>/.well-known/openid-configuration) then RFC 8414 §3.1
// (<origin>/.well-known/oauth-authorization-server<path>).
func discoveryURLs(issuer, configured string) ([]string, error) {
	if configured != "" {
		return []string{configured}, nil
	}
	rfc8414, err := oauthmeta.AuthorizationServerMetadataURL(issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	oidc := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	return []string{oidc, rfc8414}, nil
}

// discover reads issuer metadata and returns its jwks_uri. The metadata
// "issuer" must equal the configured issuer exactly (OIDC Discovery 1.0
// §4.3, RFC 8414 §3.3), and jwks_uri must be an absolute https URL (http
// only when the issuer itself is http, as in local development). It does
// not check any other metadata field.
func (k *KeySet) discover(ctx context.Context) (string, error) {
	md, err := discoverMetadata(ctx, k.client, k.opts.Issuer, k.opts.DiscoveryURL, k.opts.MaxResponseBytes,
		func(md metadata) error { return checkEndpoint("jwks_uri", md.JWKSURI, k.opts.Issuer) })
	if err != nil {
		return "", err
	}
	return md.JWKSURI, nil
}

// DiscoverTokenEndpoint reads the issuer's metadata as the key set does
// (discoveryURL, or OIDC Discovery then RFC 8414; the document's issuer
// must equal issuer) through client, with the same context, size cap and
// scheme rules, and returns its token_endpoint, which must be an absolute
// https URL (http when the issuer is http or the host is loopback). It
// does not check any other field.
func DiscoverTokenEndpoint(ctx context.Context, client *http.Client, issuer, discoveryURL string, maxBytes int64) (string, error) {
	md, err := discoverMetadata(ctx, client, issuer, discoveryURL, maxBytes,
		func(md metadata) error { return checkEndpoint("token_endpoint", md.TokenEndpoint, issuer) })
	if err != nil {
		return "", err
	}
	return md.TokenEndpoint, nil
}

// discoverMetadata returns the first metadata document of issuer's
// discovery URLs that names issuer and passes check.
func discoverMetadata(ctx context.Context, client *http.Client, issuer, configured string, maxBytes int64, check func(metadata) error) (metadata, error) {
	urls, err := discoveryURLs(issuer, configured)
	if err != nil {
		return metadata{}, err
	}
	var errs []error
	for _, u := range urls {
		md, err := discoverAt(ctx, client, u, issuer, maxBytes)
		if err == nil {
			err = check(md)
		}
		if err == nil {
			return md, nil
		}
		errs = append(errs, fmt.Errorf("metadata at %s: %w", u, err))
	}
	return metadata{}, fmt.Errorf("discover issuer metadata: %w", errors.Join(errs...))
}

func discoverAt(ctx context.Context, client *http.Client, metadataURL, issuer string, maxBytes int64) (metadata, error) {
	body, err := getJSON(ctx, client, metadataURL, maxBytes)
	if err != nil {
		return metadata{}, err
	}
	var md metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return metadata{}, err
	}
	if md.Issuer != issuer {
		return metadata{}, fmt.Errorf("issuer %q does not equal configured issuer %q", md.Issuer, issuer)
	}
	return md, nil
}

// checkEndpoint requires an absolute https URL, or http when the issuer is
// http too (development issuers) or the host is loopback (emulators such
// as moto serve a Cognito pool's keys there).
func checkEndpoint(name, raw, issuer string) error {
	if raw == "" {
		return fmt.Errorf("%s missing", name)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if u.Host == "" {
		return fmt.Errorf("%s %q is not absolute", name, raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if strings.HasPrefix(issuer, "http://") || oauthmeta.IsLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("%s %q must use https", name, raw)
}
