package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/joho/godotenv"
	"go.yaml.in/yaml/v3"
)

// input is one configuration as read, before decoding: the YAML file's
// tree, the environment's values, and where each value came from, so that
// every problem can name its source.
type input struct {
	prefix string
	keys   []string     // top-level keys (mapstructure tags of target)
	target reflect.Type // the configuration struct
	file   string       // the YAML file, "" for none

	fileTop   map[string]*yaml.Node // top-level key (lower case) -> its value in the file
	fileOrder []*yaml.Node          // the file's top-level keys, in order
	env       map[string]envVar     // top-level key -> the variable that sets it
	others    []envVar              // prefix_ variables that name no key, by name
	lines     map[string]int        // key path in the file -> line
	raw       map[string]any        // the merged settings: environment > .env > file
	fatal     Problems              // a file that could not be read at all
	badText   []Problem             // variables whose YAML or JSON text did not parse
}

// Ranks order problems by source.
const (
	rankFile = 1 + iota
	rankDotEnv
	rankEnv
	rankUnset
)

// envVar is one prefix_ variable and where it was read.
type envVar struct {
	name, value string
	from        string     // "environment" or the .env file's path
	node        *yaml.Node // a structured value (MCPGW_ROUTES) parsed from the text
}

func (v envVar) source() string { return v.from + " " + v.name }

// rank orders the variable's problems: the .env file before the environment.
func (v envVar) rank() int {
	if v.from == "environment" {
		return rankEnv
	}
	return rankDotEnv
}

// read reads the file, the .env file and the environment into an input for
// target (a struct type whose mapstructure tags are keys). A file that
// cannot be read (missing, a YAML syntax error) lands in in.fatal, a
// variable whose text is not the YAML or JSON expected (MCPGW_ROUTES) in
// in.badText.
func read(opts LoadOptions, prefix string, keys []string, target reflect.Type) *input {
	in := &input{
		prefix: prefix, keys: keys, target: target, file: opts.File,
		fileTop: map[string]*yaml.Node{}, env: map[string]envVar{}, lines: map[string]int{}, raw: map[string]any{},
	}
	if opts.File != "" {
		in.readFile(opts.File)
	}
	vars, bad := environ(opts, prefix)
	if bad != nil {
		in.fatal = append(in.fatal, *bad)
		return in
	}
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		v := vars[name]
		key := strings.ToLower(strings.TrimPrefix(name, prefix+"_"))
		if !slices.Contains(keys, key) || name != envName(prefix, key) {
			in.others = append(in.others, v)
			continue
		}
		t := fieldType(target, key)
		if !structured(t) {
			in.env[key], in.raw[key] = v, v.value
			continue
		}
		node, ok := in.parseText(v, key, t)
		if !ok {
			continue
		}
		v.node = node
		in.env[key], in.raw[key] = v, nodeValue(node)
	}
	return in
}

// readFile reads the YAML file's top level into in.fileTop and in.raw.
func (in *input) readFile(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		in.fatal = append(in.fatal, Problem{Source: path, Message: "cannot read the configuration file: " + err.Error()})
		return
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		in.fatal = append(in.fatal, yamlProblems(path, "", err, "")...)
		return
	}
	var all any
	if err := doc.Decode(&all); err != nil { // duplicate keys, for one
		in.fatal = append(in.fatal, yamlProblems(path, "", err, "")...)
		return
	}
	top := content(&doc)
	if top == nil {
		return // empty, or only comments
	}
	if top.Kind != yaml.MappingNode {
		in.fatal = append(in.fatal, Problem{Source: fmt.Sprintf("%s:%d", path, top.Line), Message: "the top level must be a mapping of configuration keys"})
		return
	}
	for _, kv := range pairs(top) {
		key := strings.ToLower(kv[0].Value)
		in.fileTop[key] = kv[1]
		in.fileOrder = append(in.fileOrder, kv[0])
		in.lines[key] = kv[0].Line
		if slices.Contains(in.keys, key) {
			in.raw[key] = nodeValue(kv[1])
		}
	}
}

// parseText parses a structured variable (a list or mapping given as YAML
// or JSON text, such as MCPGW_ROUTES or MCPGW_SCOPE_IMPLIES). Empty text is
// an empty list or mapping; a nil node with ok means that.
func (in *input) parseText(v envVar, key string, t reflect.Type) (*yaml.Node, bool) {
	want := describe(t)
	var doc yaml.Node
	err := yaml.Unmarshal([]byte(v.value), &doc)
	if err == nil {
		var all any
		err = doc.Decode(&all) // duplicate keys, for one
	}
	if err != nil {
		for _, p := range yamlProblems(v.source(), key, err, "must be YAML or JSON text of "+want+": ") {
			p.rank = v.rank()
			in.badText = append(in.badText, p)
		}
		return nil, false
	}
	node := content(&doc)
	switch {
	case node == nil || node.Kind == yaml.ScalarNode && node.Tag == "!!null":
		return nil, true
	case deref(t).Kind() == reflect.Slice && node.Kind != yaml.SequenceNode,
		deref(t).Kind() != reflect.Slice && node.Kind != yaml.MappingNode:
		in.badText = append(in.badText, Problem{Source: v.source(), Key: key, Message: "must be YAML or JSON text of " + want + ", not " + describeNode(node), rank: v.rank()})
		return nil, false
	}
	return node, true
}

// sourceOf says where the value at key came from: the variable that set its
// top-level key, else the file with the line of the deepest part of key the
// file has; "" when nobody set it.
func (in *input) sourceOf(key string) (src string, rank, line int) {
	top := topKey(key)
	if v, ok := in.env[top]; ok {
		return v.source(), v.rank(), 0
	}
	if _, ok := in.fileTop[top]; !ok {
		return "", rankUnset, 0
	}
	for k := key; k != ""; k = parentKey(k) {
		if l, ok := in.lines[k]; ok {
			return fmt.Sprintf("%s:%d", in.file, l), rankFile, l
		}
	}
	return in.file, rankFile, 0
}

// attribute gives p the source of its key.
func (in *input) attribute(p Problem) Problem {
	p.Source, p.rank, p.line = in.sourceOf(p.Key)
	return p
}

// environ returns the prefix_* variables of the .env file overlaid with
// those of the environment (opts.Environ, or the process's), or the problem
// of a .env file that cannot be read.
func environ(opts LoadOptions, prefix string) (map[string]envVar, *Problem) {
	list := opts.Environ
	if list == nil {
		list = os.Environ()
	}
	env := map[string]envVar{}
	path := opts.DotEnv
	if path == "" {
		if _, err := os.Stat(".env"); err == nil {
			path = ".env"
		}
	}
	if path != "" {
		fromFile, err := godotenv.Read(path)
		if err != nil {
			return nil, &Problem{Source: path, Message: "cannot read the .env file: " + err.Error()}
		}
		for k, val := range fromFile {
			if strings.HasPrefix(k, prefix+"_") {
				env[k] = envVar{name: k, value: val, from: path}
			}
		}
	}
	for _, kv := range list {
		k, val, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, prefix+"_") {
			env[k] = envVar{name: k, value: val, from: "environment"}
		}
	}
	return env, nil
}

// yamlLine is the "line N: " that starts the YAML parser's messages.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// yamlProblems turns a YAML error into one problem per message. In a file
// (key "") each names its line; in a variable's text (key set) the line
// stays in the message, after prefix.
func yamlProblems(source, key string, err error, prefix string) []Problem {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	out := make([]Problem, 0, len(msgs))
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		p := Problem{Source: source, Key: key, Message: prefix + m}
		if sub := yamlLine.FindStringSubmatch(m); sub != nil && key == "" {
			p.Source = source + ":" + sub[1]
			p.Message = "invalid YAML: " + m[len(sub[0]):]
		} else if key == "" {
			p.Message = "invalid YAML: " + m
		}
		out = append(out, p)
	}
	return out
}

// envName is the variable of a key: MCPGW_ + the key upper-cased, "." -> "_".
func envName(prefix, key string) string {
	return prefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// content is the node a document holds, aliases resolved; nil for an empty
// document.
func content(doc *yaml.Node) *yaml.Node {
	n := doc
	if n.Kind == 0 {
		return nil
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	return resolve(n)
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// pairs are a mapping's key/value pairs, with YAML merge keys (<<)
// expanded in place.
func pairs(m *yaml.Node) [][2]*yaml.Node {
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], resolve(m.Content[i+1])
		if k.Tag == "!!merge" {
			merged := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				merged = v.Content
			}
			for _, mm := range merged {
				if mm = resolve(mm); mm.Kind == yaml.MappingNode {
					out = append(out, pairs(mm)...)
				}
			}
			continue
		}
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out
}

// nodeValue decodes a YAML node for mapstructure. Mappings become
// map[string]any with their keys as written (case kept: tool names and
// scopes are case-sensitive).
func nodeValue(n *yaml.Node) any {
	var v any
	if n == nil || n.Decode(&v) != nil {
		return nil
	}
	return v
}

// structured reports whether an environment value for type t is YAML or
// JSON text (a list of objects, a mapping) rather than a scalar or a
// comma-separated list of strings.
func structured(t reflect.Type) bool {
	t = deref(t)
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return true
	case reflect.Slice:
		return t.Elem().Kind() != reflect.String
	}
	return false
}

// fieldType is the type of target's field tagged key (case-insensitive).
func fieldType(target reflect.Type, key string) reflect.Type {
	if f, ok := fieldByTag(target, key); ok {
		return f.Type
	}
	return nil
}

// fieldByTag finds the struct field whose mapstructure tag is name, ignoring
// case as mapstructure does.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for _, f := range keyFields(t) {
		if strings.EqualFold(f.Tag.Get("mapstructure"), name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// keyFields lists the fields of struct type t that are configuration keys
// (a mapstructure tag naming the key), with the fields of embedded
// `mapstructure:",squash"` structs in place of the struct itself, as the
// decoder reads them.
func keyFields(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		switch tag := f.Tag.Get("mapstructure"); {
		case tag == ",squash":
			out = append(out, keyFields(f.Type)...)
		case tag != "":
			out = append(out, f)
		}
	}
	return out
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}
