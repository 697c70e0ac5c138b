package dcr

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Cognito limits on callback URLs (CreateUserPoolClient CallbackURLs).
const (
	maxRedirectURIs   = 100
	maxRedirectURILen = 1024
)

// checkRedirectURIs applies parseRedirect and the policy's admission rules
// to every redirect URI, refusing duplicates and more than 100. The URIs are
// registered exactly as sent: Cognito compares redirect_uri byte for byte,
// so normalizing them here would break the client's authorization request.
func (r *rules) checkRedirectURIs(uris []string) error {
	if len(uris) > maxRedirectURIs {
		return ErrInvalidRedirectURI(fmt.Sprintf("at most %d redirect_uris are allowed", maxRedirectURIs))
	}
	for i, raw := range uris {
		if slices.Contains(uris[:i], raw) {
			return ErrInvalidRedirectURI(fmt.Sprintf("redirect_uri %s is listed twice", quoteShort(raw)))
		}
		u, err := parseRedirect(raw, r.PrivateUseSchemes)
		if err == nil {
			err = r.admit(u)
		}
		if err != nil {
			return ErrInvalidRedirectURI(fmt.Sprintf("redirect_uri %s: %v", quoteShort(raw), err))
		}
	}
	return nil
}

// admit decides whether a structurally valid redirect URI is allowed by the
// policy (see Policy).
func (r *rules) admit(u *url.URL) error {
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil // parseRedirect admitted only allowlisted private-use schemes
	case isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return errors.New("http is allowed only for loopback hosts (localhost, 127.0.0.1, [::1])")
	case r.InsecureAnyHTTPSRedirect:
		return nil
	}
	for _, p := range r.patterns {
		if p.match(u) {
			return nil
		}
	}
	return errors.New("not admitted by the registration policy (known MCP clients, loopback, private-use schemes, operator patterns)")
}

// isLoopback reports the loopback host literals RFC 8252 §7.3 and Cognito
// accept: exactly localhost, 127.0.0.1 and ::1 (net/url strips the brackets).
// Other loopback spellings (127.0.0.2, 127.1, 0.0.0.0, localhost.) are NOT
// treated as loopback.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// parseRedirect applies the structural rules every redirect URI must meet,
// whatever the policy (RFC 3986, RFC 6749 §3.1.2, RFC 8252 §7, Cognito):
// at most 1024 bytes of printable ASCII from the RFC 3986 character set
// (so no spaces, backslashes or IDN in Unicode form: use punycode); no
// fragment ("#" anywhere), no "*" (no wildcards), no userinfo, well-formed
// percent-encoding and none for '.', '/', '\' or controls in the path, no
// dot segments; scheme https or http with a DNS name, canonical IPv4 or IPv6
// host (no trailing dot, no numeric-looking last label such as 127.1, no
// zone), a port in 1-65535 if any; or a scheme from schemes in the form
// "scheme:/path" or "scheme://authority/path". It does NOT resolve DNS.
func parseRedirect(raw string, schemes []string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("must not be empty")
	}
	if len(raw) > maxRedirectURILen {
		return nil, fmt.Errorf("longer than %d characters", maxRedirectURILen)
	}
	if err := checkURIChars(raw); err != nil {
		return nil, err
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return nil, errors.New("not an absolute URI")
	}
	if u.User != nil {
		return nil, errors.New("must not contain user information")
	}
	if u.Opaque != "" {
		return nil, errors.New("must have the form scheme:/path or scheme://authority/path")
	}
	switch u.Scheme {
	case "https", "http":
		if u.Host == "" {
			return nil, errors.New("needs a host")
		}
	default:
		if !slices.Contains(schemes, u.Scheme) {
			return nil, fmt.Errorf("scheme %q is not allowed", u.Scheme)
		}
	}
	if u.Host != "" {
		if err := checkAuthority(u); err != nil {
			return nil, err
		}
	}
	if err := checkPath(u); err != nil {
		return nil, err
	}
	return u, nil
}

// checkURIChars allows only RFC 3986 characters minus '#' and '*', and
// well-formed percent-encoding.
func checkURIChars(raw string) error {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c >= 0x80:
			return errors.New("must be ASCII (international host names in punycode)")
		case c <= 0x20 || c == 0x7f:
			return errors.New("must not contain spaces or control characters")
		case c == '#':
			return errors.New("must not contain a fragment")
		case c == '*':
			return errors.New("must not contain wildcards")
		case c == '%':
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return errors.New("malformed percent-encoding")
			}
		case strings.IndexByte(`\"<>^`+"`{|}", c) >= 0:
			return fmt.Errorf("must not contain %q", c)
		}
	}
	return nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// checkAuthority checks host and port of u.
func checkAuthority(u *url.URL) error {
	if strings.Contains(u.Host, "%") {
		return errors.New("host must not be percent-encoded or carry a zone")
	}
	if strings.HasSuffix(u.Host, ":") {
		return errors.New("empty port")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return errors.New("port must be 1-65535")
		}
	}
	host := strings.ToLower(u.Hostname())
	if strings.HasPrefix(u.Host, "[") {
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
			return errors.New("IPv6 literal must be valid and not IPv4-mapped")
		}
		return nil
	}
	return checkHostName(host)
}

// checkHostName accepts a DNS name of LDH labels or a canonical dotted-quad
// IPv4 address, and refuses anything a resolver or browser might read as an
// IPv4 address in another form (127.1, 0x7f000001, 2130706433).
func checkHostName(host string) error {
	if host == "" || len(host) > 253 {
		return errors.New("invalid host")
	}
	if strings.HasSuffix(host, ".") {
		return errors.New("host must not end with a dot")
	}
	labels := strings.Split(host, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return errors.New("invalid host label")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return errors.New("host may contain only letters, digits, '-' and '.'")
			}
		}
	}
	last := labels[len(labels)-1]
	if last[0] >= 'a' && last[0] <= 'z' {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil && ip.String() == host {
		return nil
	}
	return errors.New("numeric host must be a canonical dotted-quad IPv4 address")
}

// checkPath refuses dot segments and percent-encoded '.', '/', '\' and
// controls, which exist only to make two spellings of one path.
func checkPath(u *url.URL) error {
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return errors.New("must not contain dot segments")
		}
	}
	p := strings.ToLower(u.EscapedPath())
	for i := strings.IndexByte(p, '%'); i >= 0; i = strings.IndexByte(p, '%') {
		enc := p[i+1 : i+3]
		if enc == "2e" || enc == "2f" || enc == "5c" || enc < "20" || enc == "7f" {
			return errors.New("path must not percent-encode '.', '/', '\\' or control characters")
		}
		p = p[i+3:]
	}
	return nil
}

// quoteShort quotes s for an error description, cut to 120 bytes.
func quoteShort(s string) string {
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return strconv.Quote(s)
}
