package cloudformation_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// templatePath is the stack the tests check, relative to this package.
const templatePath = "mcp-gateway.yaml"

// template is the parsed stack: CloudFormation's JSON form, with the YAML
// short-form tags (!Ref, !GetAtt, !Sub, ...) expanded into their long form
// ({"Ref": ...}, {"Fn::GetAtt": [...]}, ...).
type template map[string]any

// loadTemplate parses templatePath.
func loadTemplate(t *testing.T) template {
	t.Helper()
	raw, err := os.ReadFile(filepath.FromSlash(templatePath))
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse %s: %v", templatePath, err)
	}
	v, err := longForm(&doc)
	if err != nil {
		t.Fatalf("%s: %v", templatePath, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: top level is %T, not a mapping", templatePath, v)
	}
	return template(m)
}

// section returns a top-level section (Resources, Parameters, ...).
func (tp template) section(t *testing.T, name string) map[string]any {
	t.Helper()
	m, ok := tp[name].(map[string]any)
	if !ok {
		t.Fatalf("template has no %s section", name)
	}
	return m
}

// resource returns a resource by logical id.
func (tp template) resource(t *testing.T, id string) map[string]any {
	t.Helper()
	r, ok := tp.section(t, "Resources")[id].(map[string]any)
	if !ok {
		t.Fatalf("template has no resource %s", id)
	}
	return r
}

// resourcesOfType returns the logical ids of every resource of type typ, sorted.
func (tp template) resourcesOfType(t *testing.T, typ string) []string {
	t.Helper()
	var ids []string
	for id, r := range tp.section(t, "Resources") {
		if m, ok := r.(map[string]any); ok && m["Type"] == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// at walks v through map keys and list indexes ("Properties", "KeySchema", 0, ...).
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		default:
			return nil
		}
	}
	return v
}

// list returns v as a list: a lone value becomes a one-element list (IAM
// allows a string where a list is expected).
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

// shortForms maps a YAML tag to the CloudFormation function it abbreviates.
var shortForms = map[string]string{
	"!Ref":          "Ref",
	"!Condition":    "Condition",
	"!GetAtt":       "Fn::GetAtt",
	"!Sub":          "Fn::Sub",
	"!If":           "Fn::If",
	"!Not":          "Fn::Not",
	"!Equals":       "Fn::Equals",
	"!And":          "Fn::And",
	"!Or":           "Fn::Or",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!Join":         "Fn::Join",
	"!GetAZs":       "Fn::GetAZs",
	"!ImportValue":  "Fn::ImportValue",
	"!FindInMap":    "Fn::FindInMap",
	"!Base64":       "Fn::Base64",
	"!Cidr":         "Fn::Cidr",
	"!Contains":     "Fn::Contains",
	"!ToJsonString": "Fn::ToJsonString",
	"!Length":       "Fn::Length",
}

// longForm converts a YAML node into plain Go values, expanding
// CloudFormation's short-form tags. It does not check that a function's
// arguments are well-formed (cfn-lint does).
func longForm(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, fmt.Errorf("line %d: want one document", n.Line)
		}
		return longForm(n.Content[0])
	case yaml.AliasNode:
		return longForm(n.Alias)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		fn, ok := shortForms[n.Tag]
		if !ok {
			return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
		}
		plain := *n
		plain.Tag = ""
		if n.Kind == yaml.ScalarNode {
			plain.Tag = "!!str"
		}
		arg, err := longForm(&plain)
		if err != nil {
			return nil, err
		}
		if s, ok := arg.(string); ok && fn == "Fn::GetAtt" {
			res, attr, _ := strings.Cut(s, ".")
			arg = []any{res, attr}
		}
		return map[string]any{fn: arg}, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", n.Content[i].Line, k)
			}
			v, err := longForm(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := longForm(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	}
}

// refersTo reports whether v (an intrinsic-function tree) references the
// logical id: Ref, Fn::GetAtt, or ${id} / ${id.Attr} inside Fn::Sub.
func refersTo(v any, id string) bool {
	switch x := v.(type) {
	case map[string]any:
		if x["Ref"] == id {
			return true
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) > 0 && ga[0] == id {
			return true
		}
		if s, ok := x["Fn::Sub"].(string); ok && subRefers(s, id) {
			return true
		}
		if l, ok := x["Fn::Sub"].([]any); ok && len(l) > 0 {
			if s, ok := l[0].(string); ok && subRefers(s, id) {
				return true
			}
		}
		for _, e := range x {
			if refersTo(e, id) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if refersTo(e, id) {
				return true
			}
		}
	}
	return false
}

func subRefers(s, id string) bool {
	return strings.Contains(s, "${"+id+"}") || strings.Contains(s, "${"+id+".")
}

// pseudoParameters are the names CloudFormation defines for every stack.
var pseudoParameters = []string{
	"AWS::AccountId", "AWS::NoValue", "AWS::Partition", "AWS::Region",
	"AWS::StackId", "AWS::StackName", "AWS::URLSuffix", "AWS::NotificationARNs",
}

// TestReferencesResolve walks the whole template (resources, outputs,
// conditions and rules) and checks that every Ref names a parameter, a
// pseudo parameter or a resource (resources only outside Rules), every
// Fn::GetAtt and every ${Name.Attr} in Fn::Sub names a resource, every
// ${Name} in Fn::Sub names one of those or a variable of its own map, every
// Condition (on resources, outputs, Fn::If and !Condition) is declared, and
// every DependsOn names a resource.
func TestReferencesResolve(t *testing.T) {
	tp := loadTemplate(t)
	params := tp.section(t, "Parameters")
	resources := tp.section(t, "Resources")
	conditions := tp.section(t, "Conditions")
	isParam := func(n string) bool { _, ok := params[n]; return ok || slices.Contains(pseudoParameters, n) }
	isResource := func(n string) bool { _, ok := resources[n]; return ok }
	isCondition := func(n string) bool { _, ok := conditions[n]; return ok }
	var walk func(where string, v any, inRules bool)
	walk = func(where string, v any, inRules bool) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(where, e, inRules)
			}
		case map[string]any:
			for k, arg := range x {
				switch k {
				case "Ref":
					n := scalar(arg)
					if !isParam(n) && (inRules || !isResource(n)) {
						t.Errorf("%s: Ref %s names nothing", where, n)
					}
				case "Fn::GetAtt":
					if l := list(arg); len(l) != 2 || !isResource(scalar(l[0])) {
						t.Errorf("%s: Fn::GetAtt %v names no resource", where, arg)
					}
				case "Condition":
					if s, ok := arg.(string); ok && !isCondition(s) {
						t.Errorf("%s: condition %s is not declared", where, s)
					}
				case "Fn::If":
					if l := list(arg); len(l) != 3 || !isCondition(scalar(l[0])) {
						t.Errorf("%s: Fn::If %v: condition not declared", where, l)
					}
				case "Fn::Sub":
					text, own := "", map[string]any{}
					if s, ok := arg.(string); ok {
						text = s
					} else if l := list(arg); len(l) == 2 {
						text, _ = l[0].(string)
						own, _ = l[1].(map[string]any)
						walk(where, l[1], inRules)
					}
					for _, m := range subVar.FindAllStringSubmatch(text, -1) {
						name := m[1]
						if _, ok := own[name]; ok {
							continue
						}
						if res, _, isAttr := strings.Cut(name, "."); isAttr && !strings.HasPrefix(name, "AWS::") {
							if !isResource(res) {
								t.Errorf("%s: ${%s} names no resource", where, name)
							}
						} else if !isParam(name) && !isResource(name) {
							t.Errorf("%s: ${%s} names nothing", where, name)
						}
					}
					continue
				}
				walk(where, arg, inRules)
			}
		}
	}
	for id, raw := range resources {
		def := raw.(map[string]any)
		if c, ok := def["Condition"].(string); ok && !isCondition(c) {
			t.Errorf("resource %s: condition %s is not declared", id, c)
		}
		for _, d := range list(def["DependsOn"]) {
			if !isResource(scalar(d)) {
				t.Errorf("resource %s: DependsOn %v names no resource", id, d)
			}
		}
		walk("resource "+id, def["Properties"], false)
	}
	for id, raw := range tp.section(t, "Outputs") {
		walk("output "+id, raw, false)
	}
	for id, raw := range conditions {
		walk("condition "+id, raw, false)
	}
	for id, raw := range tp.section(t, "Rules") {
		walk("rule "+id, raw, true)
	}
}
