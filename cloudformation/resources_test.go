package cloudformation_test

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRegistrationsTable checks the names internal/dcr/dynamo relies on and
// the table's protections.
func TestRegistrationsTable(t *testing.T) {
	tp := loadTemplate(t)
	p := at(tp.resource(t, "RegistrationsTable"), "Properties")
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"billing mode", at(p, "BillingMode"), "PAY_PER_REQUEST"},
		{"partition key", at(p, "KeySchema", 0, "AttributeName"), tableKeyAttr},
		{"partition key type", at(p, "KeySchema", 0, "KeyType"), "HASH"},
		{"no sort key", at(p, "KeySchema", 1), nil},
		{"GSI name", at(p, "GlobalSecondaryIndexes", 0, "IndexName"), metadataHashIndex},
		{"GSI key", at(p, "GlobalSecondaryIndexes", 0, "KeySchema", 0, "AttributeName"), metadataHashAttr},
		{"GSI key type", at(p, "GlobalSecondaryIndexes", 0, "KeySchema", 0, "KeyType"), "HASH"},
		{"GSI projection", at(p, "GlobalSecondaryIndexes", 0, "Projection", "ProjectionType"), "ALL"},
		{"one GSI", at(p, "GlobalSecondaryIndexes", 1), nil},
		{"TTL attribute", at(p, "TimeToLiveSpecification", "AttributeName"), ttlAttr},
		{"TTL enabled", at(p, "TimeToLiveSpecification", "Enabled"), true},
		{"point-in-time recovery", at(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"), true},
		{"SSE", at(p, "SSESpecification", "SSEEnabled"), true},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	defs := map[string]string{}
	for _, d := range list(at(p, "AttributeDefinitions")) {
		defs[scalar(at(d, "AttributeName"))] = scalar(at(d, "AttributeType"))
	}
	if want := map[string]string{tableKeyAttr: "S", metadataHashAttr: "S"}; fmt.Sprint(defs) != fmt.Sprint(want) {
		t.Errorf("AttributeDefinitions = %v, want %v (only key attributes are declared)", defs, want)
	}
}

// TestRegistrationFunction checks the Lambda's runtime shape.
func TestRegistrationFunction(t *testing.T) {
	tp := loadTemplate(t)
	s := scenarios[0].stack(t, tp)
	p := at(tp.resource(t, "RegistrationFunction"), "Properties")
	want := map[string]string{
		"Runtime":                      "provided.al2023",
		"Architectures":                "[arm64]",
		"Handler":                      "bootstrap",
		"MemorySize":                   "256",
		"Timeout":                      "10",
		"Code":                         "map[S3Bucket:example-artifacts S3Key:mcp-dcr/mcp-dcr-lambda-0123abcd.zip]",
		"LoggingConfig":                "map[LogGroup:RegistrationLogGroup-physical-id]",
		"Role":                         "RegistrationFunctionRole.Arn-value",
		"ReservedConcurrentExecutions": "10",
	}
	for k, w := range want {
		if got := fmt.Sprint(s.eval(at(p, k))); got != w {
			t.Errorf("%s = %s, want %s", k, got, w)
		}
	}
	if r := at(tp.resource(t, "RegistrationLogGroup"), "Properties", "RetentionInDays"); r == nil {
		t.Error("the Lambda's log group has no retention")
	}
}

// albPathMatch reports whether an ALB path-pattern value matches path: "*"
// matches any run of characters, "?" exactly one, everything else itself
// (case-sensitive), and the whole path must match.
func albPathMatch(pattern, path string) bool {
	var re strings.Builder
	for _, r := range pattern {
		switch r {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return regexp.MustCompile("^" + re.String() + "$").MatchString(path)
}

// TestLoadBalancerRoutes checks the one origin: mcp-dcr's paths go to the
// Lambda target group, everything else (MCP, protected-resource metadata,
// health) to the gateway, at rule limits ALB accepts.
func TestLoadBalancerRoutes(t *testing.T) {
	tp := loadTemplate(t)
	type rule struct {
		priority int
		patterns []string
		target   string
	}
	var rules []rule
	for _, id := range tp.resourcesOfType(t, "AWS::ElasticLoadBalancingV2::ListenerRule") {
		p := at(tp.resource(t, id), "Properties")
		if !refersTo(at(p, "ListenerArn"), "HttpsListener") {
			t.Errorf("%s is not on the HTTPS listener", id)
		}
		var pats []string
		for _, v := range list(at(p, "Conditions", 0, "PathPatternConfig", "Values")) {
			pats = append(pats, scalar(v))
		}
		if len(pats) == 0 || len(pats) > 5 || at(p, "Conditions", 1) != nil {
			t.Errorf("%s: %d path patterns (ALB allows 1-5 condition values per rule) %v", id, len(pats), p)
		}
		prio, _ := strconv.Atoi(scalar(at(p, "Priority")))
		target, _ := at(p, "Actions", 0, "TargetGroupArn", "Ref").(string)
		rules = append(rules, rule{prio, pats, target})
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].priority < rules[j].priority })
	def, _ := at(tp.resource(t, "HttpsListener"), "Properties", "DefaultActions", 0, "TargetGroupArn", "Ref").(string)
	route := func(path string) string {
		for _, r := range rules {
			for _, p := range r.patterns {
				if albPathMatch(p, path) {
					return r.target
				}
			}
		}
		return def
	}
	const lambda, gateway = "RegistrationTargetGroup", "GatewayTargetGroup"
	for path, want := range map[string]string{
		"/register":        lambda,
		"/register/abc123": lambda,
		"/.well-known/oauth-authorization-server":     lambda,
		"/.well-known/oauth-authorization-server/mcp": lambda,
		"/.well-known/openid-configuration":           lambda,
		"/.well-known/openid-configuration/mcp":       lambda,
		"/authorize":                                  lambda,
		"/token":                                      lambda,
		"/mcp":                                        gateway,
		"/tickets":                                    gateway,
		"/.well-known/oauth-protected-resource":       gateway,
		"/.well-known/oauth-protected-resource/mcp":   gateway,
		"/healthz":                                    gateway,
		"/readyz":                                     gateway,
		"/registerx":                                  gateway,
		"/token/extra":                                gateway,
		"/.well-known/oauth-authorization-server-evil": gateway,
	} {
		if got := route(path); got != want {
			t.Errorf("%s goes to %s, want %s", path, got, want)
		}
	}
	tg := at(tp.resource(t, lambda), "Properties")
	if at(tg, "TargetType") != "lambda" || !refersTo(at(tg, "Targets", 0, "Id"), "RegistrationFunction") {
		t.Errorf("%s = %v, want a Lambda target group of RegistrationFunction", lambda, tg)
	}
	attrs := map[string]string{}
	for _, a := range list(at(tg, "TargetGroupAttributes")) {
		attrs[scalar(at(a, "Key"))] = scalar(at(a, "Value"))
	}
	if attrs["lambda.multi_value_headers.enabled"] != "true" {
		t.Errorf("%s attributes %v: multi-value headers must be on (lambdahttp answers in the event's mode)", lambda, attrs)
	}
	s := scenarios[0].stack(t, tp)
	lb := map[string]string{}
	for _, a := range list(s.eval(at(tp.resource(t, "LoadBalancer"), "Properties", "LoadBalancerAttributes"))) {
		lb[scalar(at(a, "Key"))] = scalar(at(a, "Value"))
	}
	idle, _ := strconv.Atoi(lb["idle_timeout.timeout_seconds"])
	keep, err := time.ParseDuration(s.param("StreamKeepalive"))
	if err != nil || idle < 600 || keep <= 0 || keep >= 30*time.Second || time.Duration(idle)*time.Second <= keep {
		t.Errorf("idle timeout %ds with keep-alive %v: want a long idle timeout and keep-alive below CloudFront's 30 s and the idle timeout", idle, keep)
	}
	// mcp-dcr's rate limit keys on the last X-Forwarded-For hop, which only
	// "append" makes the load balancer's own.
	if lb["routing.http.xff_header_processing.mode"] != "append" || lb["deletion_protection.enabled"] != "true" {
		t.Errorf("load balancer attributes %v", lb)
	}
	gc := at(tp.resource(t, "GCSchedule"), "Properties")
	if !refersTo(at(gc, "ScheduleExpression"), "GCScheduleExpression") || !refersTo(at(gc, "Targets", 0, "Arn"), "RegistrationFunction") {
		t.Errorf("gc schedule = %v", gc)
	}
}

// TestGatewayService checks the Fargate service: arm64, the image's port on
// every hop, /readyz health checks, autoscaling bounds from the parameters,
// a log group with retention, a read-only root file system.
func TestGatewayService(t *testing.T) {
	tp := loadTemplate(t)
	s := scenarios[0].stack(t, tp)
	td := s.eval(at(tp.resource(t, "GatewayTaskDefinition"), "Properties"))
	c := gatewayContainer(t, s)
	env := gatewayEnv(t, s)
	tg := s.eval(at(tp.resource(t, "GatewayTargetGroup"), "Properties"))
	svc := s.eval(at(tp.resource(t, "GatewayService"), "Properties"))
	scal := s.eval(at(tp.resource(t, "GatewayScalableTarget"), "Properties"))
	checks := []struct {
		name      string
		got, want any
	}{
		{"CPU architecture", at(td, "RuntimePlatform", "CpuArchitecture"), "ARM64"},
		{"compatibility", at(td, "RequiresCompatibilities", 0), "FARGATE"},
		{"network mode", at(td, "NetworkMode"), "awsvpc"},
		{"container port", scalar(at(c, "PortMappings", 0, "ContainerPort")), "8080"},
		{"listen", env["MCPGW_LISTEN"], "0.0.0.0:8080"},
		{"target port", scalar(at(tg, "Port")), "8080"},
		{"target type", at(tg, "TargetType"), "ip"},
		{"health check", at(tg, "HealthCheckPath"), "/readyz"},
		{"service target port", scalar(at(svc, "LoadBalancers", 0, "ContainerPort")), "8080"},
		{"service container", at(svc, "LoadBalancers", 0, "ContainerName"), at(c, "Name")},
		{"launch type", at(svc, "LaunchType"), "FARGATE"},
		{"desired count", scalar(at(svc, "DesiredCount")), s.param("GatewayMinTasks")},
		{"min tasks", scalar(at(scal, "MinCapacity")), s.param("GatewayMinTasks")},
		{"max tasks", scalar(at(scal, "MaxCapacity")), s.param("GatewayMaxTasks")},
		{"read-only root", at(c, "ReadonlyRootFilesystem"), true},
		{"tmp volume", at(c, "MountPoints", 0, "ContainerPath"), "/tmp"},
		{"log driver", at(c, "LogConfiguration", "LogDriver"), "awslogs"},
		{"log group", at(c, "LogConfiguration", "Options", "awslogs-group"), "GatewayLogGroup-physical-id"},
		{"task role", at(td, "TaskRoleArn"), "GatewayTaskRole.Arn-value"},
		{"execution role", at(td, "ExecutionRoleArn"), "GatewayExecutionRole.Arn-value"},
		{"circuit breaker", at(svc, "DeploymentConfiguration", "DeploymentCircuitBreaker", "Rollback"), true},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	pol := s.eval(at(tp.resource(t, "GatewayScalingPolicy"), "Properties"))
	if at(pol, "PolicyType") != "TargetTrackingScaling" || at(pol, "TargetTrackingScalingPolicyConfiguration", "PredefinedMetricSpecification", "PredefinedMetricType") != "ECSServiceAverageCPUUtilization" {
		t.Errorf("scaling policy = %v, want target tracking on CPU", pol)
	}
	for _, lg := range []string{"GatewayLogGroup", "RegistrationLogGroup"} {
		if r := at(tp.resource(t, lg), "Properties", "RetentionInDays"); r == nil {
			t.Errorf("%s has no retention", lg)
		}
	}
}

// checkConstraint checks a parameter's constraint declarations and that
// value satisfies them. String parameters need AllowedPattern or
// AllowedValues; Number parameters need bounds or AllowedValues.
func checkConstraint(p map[string]any, value string) error {
	if vals, ok := p["AllowedValues"].([]any); ok {
		for _, v := range vals {
			if scalar(v) == value {
				return nil
			}
		}
		return fmt.Errorf("%q is not in AllowedValues %v", value, vals)
	}
	switch p["Type"] {
	case "String":
		pat, ok := p["AllowedPattern"].(string)
		if !ok {
			return fmt.Errorf("no AllowedPattern or AllowedValues")
		}
		// CloudFormation matches the whole value (Java regular expressions;
		// these patterns use only the syntax RE2 shares).
		re, err := regexp.Compile(`^(?:` + pat + `)$`)
		if err != nil {
			return fmt.Errorf("AllowedPattern: %w", err)
		}
		if !re.MatchString(value) {
			return fmt.Errorf("%q does not match AllowedPattern %s", value, pat)
		}
	case "Number":
		lo, okLo := p["MinValue"]
		hi, okHi := p["MaxValue"]
		if !okLo || !okHi {
			return fmt.Errorf("no MinValue/MaxValue or AllowedValues")
		}
		n, err := strconv.ParseFloat(value, 64)
		l, _ := strconv.ParseFloat(scalar(lo), 64)
		h, _ := strconv.ParseFloat(scalar(hi), 64)
		if err != nil || n < l || n > h {
			return fmt.Errorf("%q is outside %v..%v", value, lo, hi)
		}
	case "CommaDelimitedList", "AWS::EC2::VPC::Id", "List<AWS::EC2::Subnet::Id>":
		// CloudFormation checks AWS-specific types against the account;
		// a CommaDelimitedList is checked where it is used.
	default:
		return fmt.Errorf("type %v: use String or Number with constraints", p["Type"])
	}
	return nil
}
