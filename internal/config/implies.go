package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// validateScopeImplies checks scope_implies, the scope hierarchy (MCP
// 2026-07-28 authorization: "a broader scope implies narrower ones"): every
// scope is an RFC 6749 §3.3 scope-token and every entry implies at least one
// scope. A scope that implies itself is harmless (it changes nothing) and
// accepted. A cycle between distinct scopes is refused: every scope in it
// would grant all the others, so the narrow scope would grant the broad one,
// which is never what a hierarchy means (internal/authn would honour it).
// Not checked: that the scopes are used anywhere or that the IdP issues them.
func (c *Config) validateScopeImplies(bad func(key, format string, args ...any)) {
	graph := map[string][]string{}
	for _, broad := range slices.Sorted(maps.Keys(c.ScopeImplies)) {
		key := fmt.Sprintf("scope_implies[%q]", broad)
		narrow := c.ScopeImplies[broad]
		if !oauthmeta.ValidScopeToken(broad) {
			bad(key, "%q is not a valid scope token (RFC 6749 section 3.3)", broad)
		}
		if len(narrow) == 0 {
			bad(key, "implies nothing: list the narrower scopes %s grants", broad)
		}
		checkScopes(bad, key, narrow)
		for _, n := range narrow {
			if n != broad {
				graph[broad] = append(graph[broad], n)
			}
		}
	}
	for _, cycle := range cycles(graph) {
		bad("scope_implies", "%s imply each other (a cycle): each would grant the others; list only narrower scopes under a broader one",
			strings.Join(cycle, ", "))
	}
}

// cycles returns the groups of two or more scopes that imply each other
// through graph (its strongly connected components), each sorted, in order
// of their first scope.
func cycles(graph map[string][]string) [][]string {
	reach := map[string]map[string]bool{}
	for _, from := range slices.Sorted(maps.Keys(graph)) {
		seen := map[string]bool{}
		queue := slices.Clone(graph[from])
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			if !seen[n] {
				seen[n] = true
				queue = append(queue, graph[n]...)
			}
		}
		reach[from] = seen
	}
	var out [][]string
	grouped := map[string]bool{}
	for _, a := range slices.Sorted(maps.Keys(graph)) {
		if grouped[a] || !reach[a][a] {
			continue
		}
		group := []string{a}
		for _, b := range slices.Sorted(maps.Keys(reach[a])) {
			if b != a && reach[b][a] {
				group = append(group, b)
			}
		}
		for _, s := range group {
			grouped[s] = true
		}
		slices.Sort(group)
		out = append(out, group)
	}
	return out
}
