package cloudformation_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// noValue is what AWS::NoValue resolves to: the property disappears.
type noValue struct{}

// stack evaluates the template's intrinsic functions the way CloudFormation
// would for one set of parameter values, with made-up physical ids and
// attributes for resources. It implements only the functions the template
// uses and fails the test on anything else; it does not model resources
// whose Condition is false beyond what the caller skips.
type stack struct {
	t      *testing.T
	tp     template
	params map[string]string // given values; defaults fill the rest
	refs   map[string]string // physical ids of resources
	attrs  map[string]string // "Resource.Attr" values
}

// Sample physical values the resolved template is checked against.
const (
	sampleAccount  = "123456789012"
	sampleRegion   = "us-east-1"
	sampleStack    = "mcp"
	sampleStackID  = "arn:aws:cloudformation:us-east-1:123456789012:stack/mcp/4b7c1a2e-1111-2222-3333-444455556666"
	samplePoolID   = "us-east-1_TestPool1"
	sampleTable    = "mcp-RegistrationsTable-1ABC"
	sampleSecret   = "arn:aws:secretsmanager:us-east-1:123456789012:secret:SessionSecret-AbCdEf"
	sampleRoutes   = "/mcp/mcp-gateway/routes"
	sampleClientID = "1example23456789static"
	samplePublic   = "https://mcp.example.com"
)

// newStack resolves tp with params over the parameters' defaults.
func newStack(t *testing.T, tp template, params map[string]string) *stack {
	arn := func(service, rest string) string {
		return "arn:aws:" + service + ":" + sampleRegion + ":" + sampleAccount + ":" + rest
	}
	return &stack{t: t, tp: tp, params: params,
		refs: map[string]string{
			"UserPool":           samplePoolID,
			"RegistrationsTable": sampleTable,
			"SessionSecret":      sampleSecret,
			"RoutesParameter":    sampleRoutes,
			"StaticClient":       sampleClientID,
		},
		attrs: map[string]string{
			"RegistrationsTable.Arn":   arn("dynamodb", "table/"+sampleTable),
			"RegistrationLogGroup.Arn": arn("logs", "log-group:/aws/lambda/"+sampleStack+"-mcp-dcr:*"),
			"GatewayLogGroup.Arn":      arn("logs", "log-group:/ecs/"+sampleStack+"/mcp-gateway:*"),
			"RegistrationFunction.Arn": arn("lambda", "function:"+sampleStack+"-RegistrationFunction-1ABC"),
		},
	}
}

// param returns a parameter's value: given, else its default.
func (s *stack) param(name string) string {
	if v, ok := s.params[name]; ok {
		return v
	}
	p, ok := s.tp.section(s.t, "Parameters")[name].(map[string]any)
	if !ok {
		s.t.Fatalf("Ref to unknown parameter %s", name)
	}
	d, ok := p["Default"]
	if !ok {
		s.t.Fatalf("parameter %s has no default and no sample value", name)
	}
	return scalar(d)
}

// condition evaluates a named condition.
func (s *stack) condition(name string) bool {
	c, ok := s.tp.section(s.t, "Conditions")[name]
	if !ok {
		s.t.Fatalf("unknown condition %s", name)
	}
	b, ok := s.eval(c).(bool)
	if !ok {
		s.t.Fatalf("condition %s is not boolean", name)
	}
	return b
}

// exists reports whether a resource or output is created (its Condition holds).
func (s *stack) exists(def map[string]any) bool {
	c, ok := def["Condition"].(string)
	return !ok || s.condition(c)
}

// str evaluates v and requires a string.
func (s *stack) str(v any) string {
	r := s.eval(v)
	str, ok := r.(string)
	if !ok {
		s.t.Fatalf("%v resolves to %T, not a string", v, r)
	}
	return str
}

// ref resolves Ref: a parameter, a pseudo parameter or a resource.
func (s *stack) ref(name string) any {
	switch name {
	case "AWS::Region":
		return sampleRegion
	case "AWS::AccountId":
		return sampleAccount
	case "AWS::Partition":
		return "aws"
	case "AWS::StackName":
		return sampleStack
	case "AWS::StackId":
		return sampleStackID
	case "AWS::URLSuffix":
		return "amazonaws.com"
	case "AWS::NoValue":
		return noValue{}
	}
	if p, ok := s.tp.section(s.t, "Parameters")[name].(map[string]any); ok {
		v := s.param(name)
		if p["Type"] == "CommaDelimitedList" {
			var l []any
			for _, e := range strings.Split(v, ",") {
				l = append(l, strings.TrimSpace(e))
			}
			return l
		}
		return v
	}
	if _, ok := s.tp.section(s.t, "Resources")[name]; !ok {
		s.t.Fatalf("Ref to unknown name %s", name)
	}
	if v, ok := s.refs[name]; ok {
		return v
	}
	// Ref of a Cognito identity provider is its ProviderName.
	if at(s.tp.section(s.t, "Resources")[name], "Type") == "AWS::Cognito::UserPoolIdentityProvider" {
		return s.str(at(s.tp.section(s.t, "Resources")[name], "Properties", "ProviderName"))
	}
	return name + "-physical-id"
}

// getAtt resolves Fn::GetAtt of a resource.
func (s *stack) getAtt(res, attr string) string {
	if _, ok := s.tp.section(s.t, "Resources")[res]; !ok {
		s.t.Fatalf("GetAtt of unknown resource %s", res)
	}
	if v, ok := s.attrs[res+"."+attr]; ok {
		return v
	}
	return fmt.Sprintf("%s.%s-value", res, attr)
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

// eval resolves every intrinsic function in v.
func (s *stack) eval(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if r := s.eval(e); r != (noValue{}) {
				out = append(out, r)
			}
		}
		return out
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if r, ok := s.function(k, arg); ok {
					return r
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			if r := s.eval(e); r != (noValue{}) {
				out[k] = r
			}
		}
		return out
	case string, bool, nil:
		return x
	default:
		return scalar(x)
	}
}

// function evaluates one intrinsic function; ok is false if k is not one.
func (s *stack) function(k string, arg any) (any, bool) {
	args, _ := arg.([]any)
	switch k {
	case "Ref":
		return s.ref(arg.(string)), true
	case "Condition":
		return s.condition(arg.(string)), true
	case "Fn::GetAtt":
		return s.getAtt(scalar(args[0]), scalar(args[1])), true
	case "Fn::Equals":
		return fmt.Sprint(s.eval(args[0])) == fmt.Sprint(s.eval(args[1])), true
	case "Fn::Not":
		return !s.eval(args[0]).(bool), true
	case "Fn::And", "Fn::Or":
		and := k == "Fn::And"
		for _, a := range args {
			if s.eval(a).(bool) != and {
				return !and, true
			}
		}
		return and, true
	case "Fn::If":
		if s.condition(args[0].(string)) {
			return s.eval(args[1]), true
		}
		return s.eval(args[2]), true
	case "Fn::Split":
		var out []any
		for _, e := range strings.Split(s.str(args[1]), scalar(args[0])) {
			out = append(out, e)
		}
		return out, true
	case "Fn::Select":
		i, err := strconv.Atoi(scalar(s.eval(args[0])))
		l, _ := s.eval(args[1]).([]any)
		if err != nil || i < 0 || i >= len(l) {
			s.t.Fatalf("Fn::Select %v: index out of range of %v", args[0], l)
		}
		return l[i], true
	case "Fn::Join":
		var parts []string
		for _, e := range s.eval(args[1]).([]any) {
			parts = append(parts, scalar(e))
		}
		return strings.Join(parts, scalar(args[0])), true
	case "Fn::Sub":
		return s.sub(arg), true
	}
	if strings.HasPrefix(k, "Fn::") {
		s.t.Fatalf("resolver does not implement %s", k)
	}
	return nil, false
}

// sub resolves Fn::Sub in its string and [string, variables] forms.
func (s *stack) sub(arg any) string {
	text, vars := "", map[string]any{}
	switch a := arg.(type) {
	case string:
		text = a
	case []any:
		text = a[0].(string)
		vars = a[1].(map[string]any)
	}
	return subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			return s.str(v)
		}
		if res, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			return s.getAtt(res, attr)
		}
		return scalar(s.ref(name))
	})
}

// scalar renders a YAML scalar (string, int, float, bool) as CloudFormation does.
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}
