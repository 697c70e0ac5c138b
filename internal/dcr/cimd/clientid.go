package cimd

import (
	"errors"
	"net/url"
	"strings"
)

// maxClientIDLen bounds a client_id URL (this project's limit; the draft
// sets none).
const maxClientIDLen = 1024

// IsURLClientID reports whether clientID is meant as a Client Identifier
// URL (CIMD draft §3, §7.1): it starts with "https://" or "http://" (which
// [Fetcher.Fetch] then refuses), in any case. Cognito app client ids never
// do. It does not validate the URL; Fetch does.
func IsURLClientID(clientID string) bool {
	l := strings.ToLower(clientID)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}

// parseClientID checks a client_id URL against the CIMD draft's §3 rules, made
// stricter here: https scheme in lower case; a host; a path other than "" or
// "/"; no "." or ".." segments (also percent-encoded); no fragment; no user
// information; no query (the draft allows one; refused here); port 0 refused;
// at most 1024 bytes; and the URL must be in the form url.URL.String()
// produces, so that the later exact comparison with the document's
// client_id cannot be fooled by equivalent spellings. It does not check the
// host's addresses (the dialer does).
func parseClientID(raw string) (*url.URL, error) {
	switch {
	case len(raw) > maxClientIDLen:
		return nil, errors.New("client_id URL is too long")
	case !strings.HasPrefix(raw, "https://"):
		return nil, errors.New("client_id URL must use https")
	case strings.Contains(raw, "#"):
		return nil, errors.New("client_id URL must not contain a fragment")
	case strings.Contains(raw, "?"):
		return nil, errors.New("client_id URL must not contain a query")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("client_id is not a valid URL")
	}
	switch {
	case u.User != nil:
		return nil, errors.New("client_id URL must not contain user information")
	case u.Hostname() == "" || u.Opaque != "":
		return nil, errors.New("client_id URL must have a host")
	case u.Port() == "0" || (u.Port() == "" && strings.HasSuffix(u.Host, ":")):
		return nil, errors.New("client_id URL has an invalid port")
	case u.Path == "" || u.Path == "/":
		return nil, errors.New("client_id URL must have a path")
	case u.String() != raw:
		return nil, errors.New("client_id URL is not in canonical form")
	}
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		if dec, err := url.PathUnescape(seg); err != nil || dec == "." || dec == ".." {
			return nil, errors.New("client_id URL must not contain dot segments")
		}
	}
	return u, nil
}
