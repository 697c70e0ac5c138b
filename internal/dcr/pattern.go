package dcr

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// pattern is a compiled Policy.RedirectPatterns entry (https only: http is
// admitted for loopback hosts and nowhere else, so an http pattern could
// never widen anything). See Policy.RedirectPatterns for the syntax.
type pattern struct {
	raw      string
	labels   []string // host labels, lower case; may contain '*'
	port     string   // "" (none or 443), "*" (any), or digits
	segments []string // path split on '/', first is ""; may contain '*'
	hasQuery bool
	query    string
}

// compilePattern parses a redirect pattern by hand (net/url refuses "*" as a
// port). It refuses what could be matched ambiguously: userinfo, fragments,
// percent-encoding, dot segments, "*" in the query, and hosts with fewer
// than two literal labels or a wildcard in the last label.
func compilePattern(raw string) (pattern, error) {
	p := pattern{raw: raw}
	if len(raw) > maxRedirectURILen {
		return p, errors.New("too long")
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c <= 0x20 || c >= 0x7f || c == '\\' || c == '#' || c == '%' || c == '@' || c == '[' {
			return p, errors.New("must be ASCII without spaces, '\\', '#', '%', '@' or '['")
		}
	}
	const prefix = "https://"
	if len(raw) < len(prefix) || !strings.EqualFold(raw[:len(prefix)], prefix) {
		return p, errors.New("must start with https:// (http is only for loopback, which is always admitted)")
	}
	rest := raw[len(prefix):]
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, rest := rest[:end], rest[end:]
	host, port, hasPort := strings.Cut(authority, ":")
	if hasPort {
		if port != "*" {
			n, err := strconv.Atoi(port)
			if err != nil || n < 1 || n > 65535 || port[0] == '0' {
				return p, errors.New("port must be 1-65535 or *")
			}
		}
		if port != "443" {
			p.port = port
		}
	}
	if err := compileHostLabels(&p, strings.ToLower(host)); err != nil {
		return p, err
	}
	path, query, hasQuery := strings.Cut(rest, "?")
	if hasQuery {
		if strings.Contains(query, "*") {
			return p, errors.New("'*' is not supported in the query")
		}
		p.hasQuery, p.query = true, query
	}
	if path == "" {
		path = "/"
	}
	p.segments = strings.Split(path, "/")
	for _, s := range p.segments[1:] {
		if s == "." || s == ".." {
			return p, errors.New("must not contain dot segments")
		}
	}
	return p, nil
}

// compileHostLabels checks and stores the host of a pattern.
func compileHostLabels(p *pattern, host string) error {
	if host == "" {
		return errors.New("needs a host")
	}
	p.labels = strings.Split(host, ".")
	literal := 0
	for _, l := range p.labels {
		if l == "" {
			return errors.New("empty host label (or trailing dot)")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '*') {
				return errors.New("host labels may contain only a-z, 0-9, '-' and '*'")
			}
		}
		if !strings.Contains(l, "*") {
			literal++
		}
	}
	if literal < 2 || strings.Contains(p.labels[len(p.labels)-1], "*") {
		return errors.New("host needs at least two literal labels and a literal last label")
	}
	return nil
}

// match reports whether u (already through parseRedirect) matches p.
func (p pattern) match(u *url.URL) bool {
	if u.Scheme != "https" {
		return false
	}
	labels := strings.Split(strings.ToLower(u.Hostname()), ".")
	if len(labels) != len(p.labels) {
		return false
	}
	for i, l := range labels {
		if !globMatch(p.labels[i], l) {
			return false
		}
	}
	port := u.Port()
	if port == "443" {
		port = ""
	}
	if p.port != "*" && p.port != port {
		return false
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	segs := strings.Split(path, "/")
	if len(segs) != len(p.segments) {
		return false
	}
	for i, s := range segs {
		if !globMatch(p.segments[i], s) {
			return false
		}
	}
	hasQuery := u.RawQuery != "" || u.ForceQuery
	return hasQuery == p.hasQuery && u.RawQuery == p.query
}

// globMatch matches s against pat, where '*' matches a non-empty run of
// bytes and every other byte matches itself.
func globMatch(pat, s string) bool {
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pat) && pat[px] == '*':
			star, mark = px, sx+1
			px, sx = px+1, sx+1
		case px < len(pat) && pat[px] == s[sx]:
			px++
			sx++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	return px == len(pat)
}
