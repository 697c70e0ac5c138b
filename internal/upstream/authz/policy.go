package authz

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// Policy says which scopes an operation needs beyond the route's required
// scopes. Each map goes from a pattern to scopes; a name matched by several
// patterns needs the union of their scopes (all of them).
//
// Patterns (see [Match]): strings in which each `*` stands for any run of
// characters, possibly empty and including `/` and `*`; no other character
// is special (no `?`, classes or escapes).
//
// Tools and Prompts are matched against the tool or prompt name exactly,
// byte for byte after JSON string decoding (so "\u0061dmin" is "admin"):
// no case folding and no Unicode normalization. That is the equivalence
// upstreams apply: MCP 2025-11-25 says tool names are case-sensitive, and
// the go-sdk (Server.getServerTool, a map), the TypeScript SDK
// (_registeredTools[name]) and Python servers (FastMCP: name equality)
// look tools and prompts up by the exact string, so "Admin.reset" or an
// NFD spelling of "é" names another (usually unknown) tool, not a bypass
// (TestEndToEndGoSDK checks this against the go-sdk).
//
// Resources are matched by URI in three views, and a URI needs the union
// of the scopes of the rules matching any of them (each pattern is
// normalized the same way, its `*` globs kept):
//
//   - as sent (an upstream such as the go-sdk looks resources and
//     templates up by the exact string);
//   - its RFC 3986 normal form: §6.2.2 case normalization (scheme and host
//     in lower case, percent-encoding hex digits in upper case),
//     percent-encoding normalization (unreserved characters decoded), path
//     segment normalization (dot segments removed, §5.2.4), and §6.2.3
//     scheme-based normalization (empty and default ports dropped, an
//     empty http(s)/ws(s) path made "/");
//   - a loose reading that covers what other upstreams do: the WHATWG URL
//     parser's (the TypeScript SDK looks resources up by
//     new URL(uri).toString(): tabs and line breaks removed, "\" read as
//     "/", any number of slashes after a special scheme, file:/p and
//     file://localhost/p read as file:///p) and a path percent-decoded
//     entirely before dot segments are removed (servers that unescape
//     "%2F" before resolving a file path), with runs of "/" collapsed.
//
// So `file:///pub/%2e%2E/secret`, `FILE:///secret`, `file:/secret` and
// `file:///pub%2F..%2Fsecret` all need what `file:///secret` needs. Not
// equated: different path case (case-insensitive file systems), IDNA and
// numeric IPv4 host forms, symbolic links, and reserved characters other
// than "/" that an upstream decodes. resources/templates/list entries are
// matched by their uriTemplate string as if it were a URI; reading a
// concrete URI is always checked on the URI.
//
// A name no pattern matches needs no extra scope: only configured
// operations are restricted. Use the pattern "*" to restrict everything.
type Policy struct {
	Tools, Resources, Prompts map[string][]string
}

// rule is one compiled pattern: its views (see uriPatternViews; one view
// for tool and prompt names) and the scopes it requires.
type rule struct {
	pattern string
	views   []string
	scopes  []string
}

// rules are a kind's patterns sorted by pattern, so that needs() returns
// scopes in a stable order.
type rules []rule

func compileRules(kind string, m map[string][]string, views func(string) []string) (rules, error) {
	rs := make(rules, 0, len(m))
	for pattern, scopes := range m {
		if pattern == "" {
			return nil, fmt.Errorf("authz: %s: empty pattern", kind)
		}
		if len(scopes) == 0 {
			return nil, fmt.Errorf("authz: %s %q: no scopes", kind, pattern)
		}
		for _, s := range scopes {
			if !oauthmeta.ValidScopeToken(s) {
				return nil, fmt.Errorf("authz: %s %q: %q is not an RFC 6749 §3.3 scope token", kind, pattern, s)
			}
		}
		rs = append(rs, rule{pattern: pattern, views: views(pattern), scopes: slices.Clone(scopes)})
	}
	slices.SortFunc(rs, func(a, b rule) int { return strings.Compare(a.pattern, b.pattern) })
	return rs, nil
}

// nameViews is the one view of a tool or prompt name: the name itself.
func nameViews(name string) []string { return []string{name} }

// needs returns the union of the scopes of every rule matching one of
// targets (each the views of one name), without duplicates; nil when none
// matches.
func (rs rules) needs(targets ...[]string) []string {
	var out []string
	for _, r := range rs {
		for _, t := range targets {
			if r.matches(t) {
				out = union(out, r.scopes)
				break
			}
		}
	}
	return out
}

// matches reports whether one of r's views matches the same view of a name.
func (r *rule) matches(views []string) bool {
	for i := range min(len(r.views), len(views)) {
		if Match(r.views[i], views[i]) {
			return true
		}
	}
	return false
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

// union appends the elements of b not yet in a.
func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}
