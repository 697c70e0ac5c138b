package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a configuration: where the value came
// from, the key it concerns and what is wrong with it.
type Problem struct {
	// Source is where the offending value was read: "<file>:<line>" (or
	// "<file>" when the line is unknown), "environment MCPGW_X", "<dotenv
	// path> MCPGW_X", or "" for a value nobody set (a missing required key,
	// a default).
	Source string
	// Key is the configuration key, with list indexes and map entries:
	// "leeway", "routes[1].tool_scope", `routes[0].tool_scopes["get*"][1]`.
	// It is "" when the source names the problem by itself (an unknown
	// environment variable, an unreadable file).
	Key string
	// Message says what is wrong and, where it can, what to write instead.
	Message string

	// rank and line order problems by source: the file by line, then the
	// .env file, then the environment, then unset values.
	rank, line int
}

// Error is "<source>: <key>: <message>", leaving out empty parts.
func (p Problem) Error() string {
	var b strings.Builder
	for _, s := range []string{p.Source, p.Key} {
		if s != "" {
			b.WriteString(s)
			b.WriteString(": ")
		}
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in one configuration, in the order
// reported: unknown keys and variables, then values that could not be
// decoded, then the rules of Validate. As an error it is a header line and
// one indented line per problem: `mcp-gateway validate` and `serve` print
// exactly this.
type Problems []Problem

// Error lists every problem, one per line, under a header that counts them.
func (ps Problems) Error() string {
	var b strings.Builder
	noun := "problems"
	if len(ps) == 1 {
		noun = "problem"
	}
	fmt.Fprintf(&b, "invalid configuration (%d %s):", len(ps), noun)
	for _, p := range ps {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// problems collects Validate's problems, each under its key (no source:
// Validate sees only the decoded values; the loader attributes them).
type problems []Problem

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

// err is nil without problems, else the problems as [Problems].
func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return Problems(p)
}

// sortProblems orders problems by source (the file by line, then .env,
// then the environment, then unset values), then key, stably.
func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.line, b.line),
			cmp.Compare(a.Source, b.Source), cmp.Compare(a.Key, b.Key))
	})
}

// underKey reports whether key is base or names something inside it
// (base.x, base[i]).
func underKey(key, base string) bool {
	if !strings.HasPrefix(key, base) {
		return false
	}
	rest := key[len(base):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// topKey is the top-level key a key path starts with: "routes" for
// "routes[1].path".
func topKey(key string) string {
	if i := strings.IndexAny(key, ".["); i >= 0 {
		return key[:i]
	}
	return key
}

// parentKey drops key's last segment (".x", "[i]" or `["k"]`); "" when
// there is none.
func parentKey(key string) string {
	if strings.HasSuffix(key, "]") {
		if i := strings.LastIndex(key, "["); i > 0 {
			// A quoted map key may itself contain "[": find its opening quote.
			if j := strings.LastIndex(key, `["`); j > 0 && strings.HasSuffix(key, `"]`) {
				i = j
			}
			return key[:i]
		}
	}
	if i := strings.LastIndexAny(key, "."); i > 0 {
		return key[:i]
	}
	return ""
}
