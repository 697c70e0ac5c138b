package authn

import (
	"maps"
	"slices"
)

// ScopeImplications is a scope hierarchy: which broader scope implies which
// narrower ones (configuration key scope_implies, for example mcp:admin:
// [mcp:write, mcp:read]). The MCP authorization specification (2026-07-28)
// requires that "a broader scope implies narrower ones" be accounted for
// when checking scopes; RFC 6749 §3.3 leaves the meaning of scope values to
// the resource server.
//
// It is built once, at startup, by [NewScopeImplications], with the
// transitive closure precomputed (a implies b and b implies c: a implies c);
// cycles are harmless (scopes in a cycle imply each other). It is immutable
// and safe for concurrent use. A nil *ScopeImplications is valid and means
// exact, case-sensitive comparison.
//
// Not supported: wildcards, prefix or URL hierarchies (a Cognito scope
// "https://api/mcp.admin" implies nothing unless listed), and permissions
// carried in other claims (roles, groups).
type ScopeImplications struct {
	// broader maps a scope to every other scope that implies it, directly
	// or transitively, sorted.
	broader map[string][]string
}

// NewScopeImplications computes the transitive closure of m, which maps a
// broader scope to the narrower scopes it implies. Empty scopes and
// self-implications are ignored. It returns nil (exact comparison) when m
// implies nothing, so the common configuration costs nothing per request.
// It does not validate scope syntax (internal/config does).
func NewScopeImplications(m map[string][]string) *ScopeImplications {
	direct := map[string][]string{}
	for broad, narrow := range m {
		for _, n := range narrow {
			if broad != "" && n != "" && n != broad && !slices.Contains(direct[broad], n) {
				direct[broad] = append(direct[broad], n)
			}
		}
	}
	if len(direct) == 0 {
		return nil
	}
	broader := map[string][]string{}
	for _, broad := range slices.Sorted(maps.Keys(direct)) {
		// Every scope reachable from broad is implied by it.
		seen := map[string]bool{broad: true}
		queue := slices.Clone(direct[broad])
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			if seen[n] {
				continue
			}
			seen[n] = true
			broader[n] = append(broader[n], broad)
			queue = append(queue, direct[n]...)
		}
	}
	for _, v := range broader {
		slices.Sort(v)
	}
	return &ScopeImplications{broader: broader}
}

// Implies reports whether holding broad satisfies a requirement of narrow:
// they are equal, or scope_implies leads from broad to narrow.
func (s *ScopeImplications) Implies(broad, narrow string) bool {
	if broad == narrow {
		return true
	}
	return s != nil && slices.Contains(s.broader[narrow], broad)
}

// Holds reports whether granted satisfies scope: granted contains it or a
// scope that implies it. It does not allocate.
func (s *ScopeImplications) Holds(granted []string, scope string) bool {
	if slices.Contains(granted, scope) {
		return true
	}
	if s == nil {
		return false
	}
	for _, b := range s.broader[scope] {
		if slices.Contains(granted, b) {
			return true
		}
	}
	return false
}

// Missing returns the scopes of required that granted does not satisfy
// (see Holds), in required's order, or nil when none is missing; it
// allocates only then. The result names the required (narrow) scopes, never
// the broader ones that would also satisfy them: that is what a 403
// insufficient_scope challenge lists (RFC 6750 §3.1).
func (s *ScopeImplications) Missing(granted, required []string) []string {
	var missing []string
	for _, r := range required {
		if !s.Holds(granted, r) {
			missing = append(missing, r)
		}
	}
	return missing
}
