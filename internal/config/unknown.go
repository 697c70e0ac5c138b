package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// unknownKeys reports every mapping key, at any depth, that names no field
// of the configuration: in the file (with its line) and in structured
// variables (MCPGW_ROUTES). It records the line of every key path of the
// file in in.lines on the way. Keys compare without case, as the decoder
// matches them.
func (in *input) unknownKeys() []Problem {
	var out []Problem
	w := walker{in: in, levels: structLevels(in.target, ""), report: func(p Problem) { out = append(out, p) }}
	for _, key := range slices.Sorted(maps.Keys(in.fileTop)) {
		n := in.fileTop[key]
		if f, ok := fieldByTag(in.target, key); ok {
			w.walk(n, f.Type, key, nil)
		}
	}
	w.topLevel(in.fileOrder) // the file's unknown top-level keys
	for _, key := range slices.Sorted(maps.Keys(in.env)) {
		v := in.env[key]
		if v.node != nil {
			w.walk(v.node, fieldType(in.target, key), key, &v)
		}
	}
	return out
}

// walker walks YAML nodes along the configuration's type.
type walker struct {
	in     *input
	levels []level
	report func(Problem)
}

// problem is a problem found in the file (env nil) or in a variable.
func (w walker) problem(env *envVar, line int, key, msg string) Problem {
	if env != nil {
		return Problem{Source: env.source(), Key: key, Message: msg, rank: env.rank()}
	}
	return Problem{Source: fmt.Sprintf("%s:%d", w.in.file, line), Key: key, Message: msg, rank: rankFile, line: line}
}

// topLevel reports the file's unknown top-level keys.
func (w walker) topLevel(keys []*yaml.Node) {
	for _, k := range keys {
		if _, ok := fieldByTag(w.in.target, k.Value); !ok {
			w.report(w.problem(nil, k.Line, k.Value, w.unknownMessage(k.Value, "")))
		}
	}
}

// walk checks node against type t at key path; env is nil for the file.
func (w walker) walk(n *yaml.Node, t reflect.Type, path string, env *envVar) {
	n, t = resolve(n), deref(t)
	if n == nil || t == nil || t == durationType {
		return
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		for _, kv := range pairs(n) {
			name := kv[0].Value
			f, ok := fieldByTag(t, name)
			if !ok {
				w.report(w.problem(env, kv[0].Line, join(path, name), w.unknownMessage(name, path)))
				continue
			}
			child := join(path, f.Tag.Get("mapstructure"))
			w.line(env, child, kv[0].Line)
			w.walk(kv[1], f.Type, child, env)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			child := fmt.Sprintf("%s[%d]", path, i)
			w.line(env, child, item.Line)
			w.walk(item, t.Elem(), child, env)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for _, kv := range pairs(n) {
			// Validate names map entries as key["k"], the decoder as key[k].
			w.line(env, fmt.Sprintf("%s[%q]", path, kv[0].Value), kv[0].Line)
			w.line(env, fmt.Sprintf("%s[%s]", path, kv[0].Value), kv[0].Line)
			w.walk(kv[1], t.Elem(), fmt.Sprintf("%s[%q]", path, kv[0].Value), env)
		}
	}
}

func (w walker) line(env *envVar, path string, line int) {
	if env == nil {
		w.in.lines[path] = line
	}
}

// unknownMessage explains an unknown key found at path's struct level: a
// key of another level written at the wrong place, or a near miss.
func (w walker) unknownMessage(name, path string) string {
	here := levelOf(w.levels, path)
	for _, l := range w.levels {
		if l.pattern != here.pattern && slices.Contains(l.keys, strings.ToLower(name)) {
			return fmt.Sprintf("unknown key here: %s is %s", strings.ToLower(name), l.what)
		}
	}
	if s := suggest(name, here.keys); s != "" {
		return fmt.Sprintf("unknown key; did you mean %s?", s)
	}
	return "unknown key"
}

// unknownVariables reports the prefix_ variables that name no key, except
// those a *_env key of the configuration names (identity_key_env: the
// variable holding a route's identity key may have any name, MCPGW_ ones
// included).
func (in *input) unknownVariables() []Problem {
	named := map[string]bool{}
	envNames(in.raw, named)
	var out []Problem
	for _, v := range in.others {
		if named[v.name] {
			continue
		}
		out = append(out, Problem{Source: v.source(), Message: in.unknownVariableMessage(v.name), rank: v.rank()})
	}
	return out
}

func (in *input) unknownVariableMessage(name string) string {
	rest := strings.ToLower(strings.TrimPrefix(name, in.prefix+"_"))
	if s := suggest(rest, in.keys); s != "" {
		return fmt.Sprintf("unknown variable; did you mean %s?", envName(in.prefix, s))
	}
	for _, k := range in.keys {
		if strings.HasPrefix(rest, k+"_") && structured(fieldType(in.target, k)) {
			return fmt.Sprintf("unknown variable: %s is set as a whole, as YAML or JSON text in %s", k, envName(in.prefix, k))
		}
	}
	return "unknown variable: no configuration key has this name and no *_env key names it"
}

// envNames collects the string values of every key ending in _env, at any
// depth of v (a decoded YAML tree).
func envNames(v any, into map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && strings.HasSuffix(strings.ToLower(k), "_env") {
				into[s] = true
			}
			envNames(x, into)
		}
	case map[any]any:
		for k, x := range v {
			if s, ok := x.(string); ok && strings.HasSuffix(strings.ToLower(fmt.Sprint(k)), "_env") {
				into[s] = true
			}
			envNames(x, into)
		}
	case []any:
		for _, x := range v {
			envNames(x, into)
		}
	}
}

// level is one struct of the configuration's type tree: its keys, the key
// pattern where it sits ("" for the top level, "routes[]" for each route)
// and how a message names it.
type level struct {
	pattern string
	keys    []string
	what    string
}

// structLevels lists the struct levels under t (t's own first).
func structLevels(t reflect.Type, pattern string) []level {
	t = deref(t)
	what := "a top-level key"
	if pattern != "" {
		what = "a key of each " + strings.TrimSuffix(pattern, "[]") + " entry"
	}
	out := []level{{pattern: pattern, keys: keysOf(t), what: what}}
	for _, f := range keyFields(t) {
		ft := deref(f.Type)
		if (ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map) && deref(ft.Elem()).Kind() == reflect.Struct {
			out = append(out, structLevels(ft.Elem(), join(pattern, f.Tag.Get("mapstructure"))+"[]")...)
		}
	}
	return out
}

// levelOf is the level of a concrete path ("routes[1]" is "routes[]").
func levelOf(levels []level, path string) level {
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		if path[i] != '[' {
			b.WriteByte(path[i])
			continue
		}
		b.WriteString("[]")
		if j := strings.IndexByte(path[i:], ']'); j >= 0 {
			i += j
		}
	}
	for _, l := range levels {
		if l.pattern == b.String() {
			return l
		}
	}
	return levels[0]
}

// suggest is the key of known closest to name (ignoring case) when it is
// close enough to be a typo: at most one edit for names of up to four
// characters, two up to nine, three beyond; "" otherwise. Ties go to the
// earlier key.
func suggest(name string, known []string) string {
	name = strings.ToLower(name)
	limit := min(1+len(name)/5, 3)
	best, bestD := "", limit+1
	for _, k := range known {
		if d := editDistance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// bytes each cost one ("requried" is one edit from "required").
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// join appends a field to a key path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
