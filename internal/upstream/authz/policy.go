package authz

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
)

// Policy says which scopes an operation needs beyond the route's required
// scopes. Each map goes from a pattern to scopes; a name matched by several
// patterns needs the union of their scopes (all of them).
//
// Patterns (see [Match]): exact, case-sensitive strings in which each `*`
// stands for any run of characters, possibly empty and including `/` and
// `*`; no other character is special (no `?`, classes or escapes). Tools and
// Prompts are matched against the tool or prompt name; Resources against the
// resource URI exactly as the client sent it, and also, when it has dot
// segments (`.`/`..`), against the URI with those resolved, requiring the
// union (so `file:///pub/../secret` needs what `file:///secret` needs). URIs
// are otherwise not normalised (case, percent-encoding, default ports).
// resources/templates/list entries are matched by their uriTemplate string
// as if it were a URI; reading a concrete URI is always checked on the URI.
//
// A name no pattern matches needs no extra scope: only configured
// operations are restricted. Use the pattern "*" to restrict everything.
type Policy struct {
	Tools, Resources, Prompts map[string][]string
}

// rule is one compiled pattern.
type rule struct {
	pattern string
	scopes  []string
}

// rules are a kind's patterns sorted by pattern, so that needs() returns
// scopes in a stable order.
type rules []rule

func compileRules(kind string, m map[string][]string) (rules, error) {
	rs := make(rules, 0, len(m))
	for pattern, scopes := range m {
		if pattern == "" {
			return nil, fmt.Errorf("authz: %s: empty pattern", kind)
		}
		if len(scopes) == 0 {
			return nil, fmt.Errorf("authz: %s %q: no scopes", kind, pattern)
		}
		for _, s := range scopes {
			if !validScope(s) {
				return nil, fmt.Errorf("authz: %s %q: %q is not an RFC 6749 §3.3 scope token", kind, pattern, s)
			}
		}
		rs = append(rs, rule{pattern: pattern, scopes: slices.Clone(scopes)})
	}
	slices.SortFunc(rs, func(a, b rule) int { return strings.Compare(a.pattern, b.pattern) })
	return rs, nil
}

// needs returns the union of the scopes of every pattern matching one of
// names, without duplicates; nil when none matches.
func (rs rules) needs(names ...string) []string {
	var out []string
	for _, r := range rs {
		for _, n := range names {
			if Match(r.pattern, n) {
				out = union(out, r.scopes)
				break
			}
		}
	}
	return out
}

// Match reports whether name matches pattern, where each `*` in pattern
// matches any run of characters (bytes), possibly empty, and every other
// byte matches itself. Comparison is byte-wise and case-sensitive. Runs in
// O(len(pattern)·len(name)) at worst, with no allocation.
func Match(pattern, name string) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// uriVariants is the URI itself plus, when its path has dot segments, the
// URI with them resolved (RFC 3986 §5.2.4).
func uriVariants(uri string) []string {
	u, err := url.Parse(uri)
	if err != nil || u.Opaque != "" || !hasDotSegment(u.Path) {
		return []string{uri}
	}
	clean := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && clean != "/" {
		clean += "/"
	}
	v := *u
	v.Path, v.RawPath = clean, ""
	return []string{uri, v.String()}
}

func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// validScope is RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// union appends the elements of b not yet in a.
func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}
