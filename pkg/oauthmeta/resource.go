// Package oauthmeta holds the OAuth message types a protected resource and its
// clients exchange: RFC 9728 Protected Resource Metadata, RFC 8414
// Authorization Server Metadata, the RFC 3986/RFC 8707 rules for comparing
// resource identifiers, and the RFC 6749 §3.3 scope-token syntax. It has no
// dependencies beyond the standard library so that any Go MCP server can
// import it.
package oauthmeta

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// WellKnownProtectedResource is the RFC 9728 §3 well-known path suffix.
const WellKnownProtectedResource = "/.well-known/oauth-protected-resource"

// WellKnownAuthorizationServer is the RFC 8414 §3 well-known path suffix.
const WellKnownAuthorizationServer = "/.well-known/oauth-authorization-server"

// CanonicalResource returns the canonical form of an http(s) resource
// identifier as RFC 8707 §2 and the MCP authorization spec use it: an
// absolute URL without a fragment or user information, scheme and host in
// lower case, the scheme's default port removed,
// and a single trailing slash removed. It does not resolve "." or ".."
// segments, percent-encoding case, or IDNA; identifiers that differ in those
// ways are treated as different resources (fail closed).
func CanonicalResource(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("resource %q: %w", raw, err)
	}
	if u.Scheme = strings.ToLower(u.Scheme); (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("resource %q: must be an absolute http(s) URL", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "", fmt.Errorf("resource %q: must not contain a fragment", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("resource %q: must not contain user information", raw)
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	return u.String(), nil
}

// SameResource reports whether a and b name the same resource under
// [CanonicalResource]. Identifiers that are not http(s) URLs are compared
// byte for byte (IdPs use opaque audiences such as "api://default" or a
// client id); an empty identifier never matches.
func SameResource(a, b string) bool {
	ca, errA := CanonicalResource(a)
	cb, errB := CanonicalResource(b)
	if errA != nil || errB != nil {
		return a == b && a != ""
	}
	return ca == cb
}

// ErrNotAbsolute reports a metadata URL that cannot be built from a relative identifier.
var ErrNotAbsolute = errors.New("identifier must be an absolute http(s) URL")

// ProtectedResourceMetadataURL builds the RFC 9728 §3.1 metadata URL for a
// resource identifier by inserting the well-known segment between the host
// and the path: https://h/mcp -> https://h/.well-known/oauth-protected-resource/mcp.
// A query component is kept; a trailing slash on the path is dropped.
func ProtectedResourceMetadataURL(resource string) (string, error) {
	return insertWellKnown(resource, WellKnownProtectedResource)
}

// AuthorizationServerMetadataURL builds the RFC 8414 §3.1 metadata URL for an
// issuer identifier, path-inserted the same way.
func AuthorizationServerMetadataURL(issuer string) (string, error) {
	return insertWellKnown(issuer, WellKnownAuthorizationServer)
}

func insertWellKnown(id, wellKnown string) (string, error) {
	u, err := url.Parse(id)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%q: %w", id, ErrNotAbsolute)
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	out := u.Scheme + "://" + u.Host + wellKnown + path
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out, nil
}

// IsLoopbackHost reports whether host (a URL's Hostname(), without port or
// brackets) is "localhost" (any case) or a loopback IP literal
// (127.0.0.0/8, ::1). It does not resolve names. Registration policy uses a
// stricter rule for redirect URIs (see internal/dcr).
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// ResourceURL is the resource identifier (RFC 9728 §3, RFC 8707 §2) of a
// route served at path under the public base URL publicURL: publicURL
// without a trailing slash, then path. It does not validate either part
// (see [CanonicalResource]).
func ResourceURL(publicURL, path string) string {
	return strings.TrimSuffix(publicURL, "/") + path
}
