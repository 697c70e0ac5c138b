package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// metadata is the part of OIDC Discovery 1.0 §3 / RFC 8414 §2 metadata the
// key set needs.
type metadata struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
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
	urls, err := discoveryURLs(k.opts.Issuer, k.opts.DiscoveryURL)
	if err != nil {
		return "", err
	}
	var errs []error
	for _, u := range urls {
		jwksURI, err := k.discoverAt(ctx, u)
		if err == nil {
			return jwksURI, nil
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("discover issuer metadata: %w", errors.Join(errs...))
}

func (k *KeySet) discoverAt(ctx context.Context, metadataURL string) (string, error) {
	body, err := getJSON(ctx, k.client, metadataURL, k.opts.MaxResponseBytes)
	if err != nil {
		return "", err
	}
	var md metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return "", fmt.Errorf("metadata at %s: %w", metadataURL, err)
	}
	if md.Issuer != k.opts.Issuer {
		return "", fmt.Errorf("metadata at %s: issuer %q does not equal configured issuer %q", metadataURL, md.Issuer, k.opts.Issuer)
	}
	if err := checkJWKSURI(md.JWKSURI, k.opts.Issuer); err != nil {
		return "", fmt.Errorf("metadata at %s: %w", metadataURL, err)
	}
	return md.JWKSURI, nil
}

// checkJWKSURI requires an absolute https URL, or http when the issuer is
// http too (development issuers) or the JWKS host is loopback (emulators
// such as moto serve a Cognito pool's keys there).
func checkJWKSURI(raw, issuer string) error {
	if raw == "" {
		return errors.New("jwks_uri missing")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("jwks_uri: %w", err)
	}
	if u.Host == "" {
		return fmt.Errorf("jwks_uri %q is not absolute", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if strings.HasPrefix(issuer, "http://") || oauthmeta.IsLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("jwks_uri %q must use https", raw)
}
