package authz

import (
	"strings"
)

// Resource URIs are matched in three views, index-aligned between a URI
// and a pattern (see [Policy]): a rule applies when one of its pattern's
// views matches the URI's view of the same index.
const (
	viewRaw    = iota // as the client sent it (after JSON decoding)
	viewNormal        // RFC 3986 §6.2.2 and §6.2.3 normal form
	viewLoose         // the loosest reading an upstream may apply
)

// uriViews returns the views of a resource URI.
func uriViews(uri string) []string {
	return []string{viewRaw: uri, viewNormal: normalURI(uri), viewLoose: looseURI(uri)}
}

// uriPatternViews returns the views of a resource pattern: each view
// normalizes the literal parts of the pattern and keeps its `*` globs.
// (A "%2A" in a pattern decodes to `*` in the loose view and acts as a
// glob there: that can only restrict more.)
func uriPatternViews(p string) []string {
	return []string{viewRaw: p, viewNormal: globSafe(normalURI, p), viewLoose: globSafe(looseURI, p)}
}

// globMark stands in for a pattern's `*` while its literal parts are
// normalized: a private-use rune that no normalization step changes or
// treats as a delimiter.
const globMark = "\uE000"

func globSafe(normalize func(string) string, p string) string {
	return strings.ReplaceAll(normalize(strings.ReplaceAll(p, "*", globMark)), globMark, "*")
}

// normalURI is the RFC 3986 §6.2.2 syntax-based normal form of s, plus
// §6.2.3 scheme-based normalization: scheme and host in lower case,
// percent-encoded unreserved characters decoded and the hex digits of the
// other triplets in upper case (§6.2.2.1, §6.2.2.2), dot segments removed
// from a path that starts with "/" (§6.2.2.3, §5.2.4), an empty port or the
// scheme's default port dropped, a port's leading zeros dropped, and an
// empty path with an authority made "/" for http, https, ws and wss. It
// never fails: what is not a URI is normalized as far as its parts allow.
func normalURI(s string) string {
	u := splitURI(s)
	u.normalize(false)
	return u.String()
}

// looseURI reads s as loosely as any upstream may: the WHATWG URL
// parser's clean-up first (leading and trailing C0 controls and spaces
// trimmed, tabs and line breaks removed, "\" read as "/" before the query,
// as Node's URL and so the TypeScript SDK's resource lookup do), then
// [normalURI]'s steps with the path and host percent-decoded entirely
// (including "%2F", as servers that decode a path before resolving it
// do), runs of "/" in the path collapsed, and file://localhost/ read as
// file:/// (RFC 8089 §2). The result is a matching key, not a URI.
func looseURI(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = strings.ReplaceAll(s[:i], `\`, "/") + s[i:]
	} else {
		s = strings.ReplaceAll(s, `\`, "/")
	}
	u := splitURI(s)
	u.normalize(true)
	return u.String()
}

// uriParts are the components of RFC 3986 Appendix B's regular
// expression, which splits any string.
type uriParts struct {
	scheme, authority, path, query, fragment   string
	hasScheme, hasAuthority, hasQuery, hasFrag bool
}

func splitURI(s string) uriParts {
	var u uriParts
	if i := strings.IndexAny(s, ":/?#"); i > 0 && s[i] == ':' {
		u.scheme, u.hasScheme, s = s[:i], true, s[i+1:]
	}
	if rest, ok := strings.CutPrefix(s, "//"); ok {
		i := strings.IndexAny(rest, "/?#")
		if i < 0 {
			i = len(rest)
		}
		u.authority, u.hasAuthority, s = rest[:i], true, rest[i:]
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		u.fragment, u.hasFrag, s = s[i+1:], true, s[:i]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		u.query, u.hasQuery, s = s[i+1:], true, s[:i]
	}
	u.path = s
	return u
}

func (u *uriParts) String() string {
	var b strings.Builder
	if u.hasScheme {
		b.WriteString(u.scheme)
		b.WriteByte(':')
	}
	if u.hasAuthority {
		b.WriteString("//")
		b.WriteString(u.authority)
	}
	b.WriteString(u.path)
	if u.hasQuery {
		b.WriteByte('?')
		b.WriteString(u.query)
	}
	if u.hasFrag {
		b.WriteByte('#')
		b.WriteString(u.fragment)
	}
	return b.String()
}

// defaultPorts are the ports scheme-based normalization drops (RFC 3986
// §6.2.3; the WHATWG URL standard's special schemes).
var defaultPorts = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21"}

// normalize applies normalURI's steps (loose: looseURI's).
func (u *uriParts) normalize(loose bool) {
	if validScheme(u.scheme) {
		u.scheme = lowerASCII(u.scheme)
	}
	_, special := defaultPorts[u.scheme]
	if loose {
		u.path = strings.ReplaceAll(percentDecode(u.path), `\`, "/")
		switch {
		case u.scheme == "file":
			// WHATWG: "file:/p", "file:p" and "file:///p" are one URL;
			// a host other than localhost is not read as a host here.
			host := lowerASCII(percentDecode(u.authority))
			if host == "localhost" {
				host = ""
			}
			u.hasAuthority, u.authority, u.path = true, "", "/"+host+"/"+u.path
		case special:
			// WHATWG: any number of slashes may follow a special scheme.
			all := u.path
			if u.hasAuthority {
				all = u.authority + "/" + u.path
			}
			all = strings.TrimLeft(all, "/")
			i := strings.IndexByte(all, '/')
			if i < 0 {
				i = len(all)
			}
			u.hasAuthority, u.authority, u.path = true, all[:i], all[i:]
		}
		u.path = collapseSlashes(u.path)
	} else {
		u.path = percentNormal(u.path, false)
	}
	if u.hasAuthority {
		u.authority = u.normalAuthority(loose)
	}
	u.path = removeDotSegments(u.path)
	if special && u.hasAuthority && u.path == "" {
		u.path = "/"
	}
	u.query = percentNormal(u.query, false)
	u.fragment = percentNormal(u.fragment, false)
}

func (u *uriParts) normalAuthority(loose bool) string {
	userinfo, hostport, hasUser := "", u.authority, false
	if i := strings.LastIndexByte(hostport, '@'); i >= 0 {
		userinfo, hostport, hasUser = hostport[:i], hostport[i+1:], true
	}
	host, port, hasPort := splitHostPort(hostport)
	if loose {
		host = lowerASCII(percentDecode(host))
	} else {
		host = percentNormal(host, true)
	}
	if p := strings.TrimLeft(port, "0"); p != "" || port == "" {
		port = p
	} else {
		port = "0"
	}
	if port == "" || port == defaultPorts[u.scheme] {
		hasPort = false
	}
	out := host
	if hasPort {
		out += ":" + port
	}
	if hasUser {
		out = percentNormal(userinfo, false) + "@" + out
	}
	return out
}

// splitHostPort splits "host:port" ("[v6]:port" for IP literals); a port
// that is not all digits is part of the host.
func splitHostPort(hp string) (host, port string, hasPort bool) {
	i := strings.LastIndexByte(hp, ':')
	if i < 0 || strings.IndexByte(hp[i:], ']') >= 0 {
		return hp, "", false
	}
	for j := i + 1; j < len(hp); j++ {
		if hp[j] < '0' || hp[j] > '9' {
			return hp, "", false
		}
	}
	return hp[:i], hp[i+1:], true
}

// validScheme is RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := c|0x20 >= 'a' && c|0x20 <= 'z'
		if !alpha && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

// percentNormal decodes the percent-encoded unreserved characters of s
// and upper-cases the hex digits of the other triplets (RFC 3986
// §6.2.2.1-2); lower also lower-cases ASCII letters (for hosts).
// Malformed triplets are left as they are.
func percentNormal(s string, lower bool) string {
	if strings.IndexByte(s, '%') < 0 && !lower {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			d := unhex(s[i+1])<<4 | unhex(s[i+2])
			if unreserved(d) {
				b = append(b, lowerIf(d, lower))
			} else {
				b = append(b, '%', upperHex(s[i+1]), upperHex(s[i+2]))
			}
			i += 2
			continue
		}
		b = append(b, lowerIf(c, lower))
	}
	return string(b)
}

// percentDecode decodes every well-formed triplet of s.
func percentDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// removeDotSegments is RFC 3986 §5.2.4 for a path that starts with "/";
// other paths (rootless ones, such as a URN's) are returned unchanged.
func removeDotSegments(p string) string {
	if !strings.HasPrefix(p, "/") {
		return p
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
			continue
		}
		if last {
			out = append(out, "")
		}
	}
	return "/" + strings.Join(out, "/")
}

func collapseSlashes(p string) string {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return p
}

// unreserved is RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~".
func unreserved(c byte) bool {
	return c|0x20 >= 'a' && c|0x20 <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f'
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

func upperHex(c byte) byte {
	if c >= 'a' && c <= 'f' {
		return c - 0x20
	}
	return c
}

func lowerIf(c byte, lower bool) byte {
	if lower && c >= 'A' && c <= 'Z' {
		return c + 0x20
	}
	return c
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerIf(c, true)
	}
	return string(b)
}
