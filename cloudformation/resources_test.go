package cloudformation_test

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"testing"
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
		"Code":                         "map[S3Bucket:example-artifacts S3Key:mcp-dcr-lambda.zip]",
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

// TestHTTPAPI checks the routes mcp-dcr serves, the payload format the
// handler decodes, and stage throttling.
func TestHTTPAPI(t *testing.T) {
	tp := loadTemplate(t)
	want := []string{
		"DELETE /register/{client_id}",
		"GET /.well-known/oauth-authorization-server",
		"GET /.well-known/oauth-authorization-server/{proxy+}",
		"GET /.well-known/openid-configuration",
		"GET /authorize",
		"GET /register/{client_id}",
		"POST /register",
		"POST /token",
		"PUT /register/{client_id}",
	}
	var got []string
	for _, id := range tp.resourcesOfType(t, "AWS::ApiGatewayV2::Route") {
		p := at(tp.resource(t, id), "Properties")
		got = append(got, scalar(at(p, "RouteKey")))
		if !refersTo(at(p, "Target"), "HttpApiIntegration") || !refersTo(at(p, "ApiId"), "HttpApi") {
			t.Errorf("route %s does not target HttpApiIntegration on HttpApi", id)
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("routes = %q\nwant %q", got, want)
	}
	integ := at(tp.resource(t, "HttpApiIntegration"), "Properties")
	if at(integ, "PayloadFormatVersion") != "2.0" || at(integ, "IntegrationType") != "AWS_PROXY" || !refersTo(at(integ, "IntegrationUri"), "RegistrationFunction") {
		t.Errorf("integration = %v, want AWS_PROXY payload 2.0 to RegistrationFunction", integ)
	}
	if at(tp.resource(t, "HttpApi"), "Properties", "ProtocolType") != "HTTP" {
		t.Error("HttpApi is not an HTTP API")
	}
	stage := at(tp.resource(t, "HttpApiStage"), "Properties")
	for _, k := range []string{"ThrottlingRateLimit", "ThrottlingBurstLimit"} {
		if at(stage, "DefaultRouteSettings", k) == nil {
			t.Errorf("stage has no %s", k)
		}
	}
	rule := at(tp.resource(t, "GCSchedule"), "Properties")
	if !refersTo(at(rule, "ScheduleExpression"), "GCScheduleExpression") || !refersTo(at(rule, "Targets", 0, "Arn"), "RegistrationFunction") {
		t.Errorf("gc schedule = %v", rule)
	}
	s := scenarios[0].stack(t, tp)
	if got := s.str(at(rule, "ScheduleExpression")); got != "rate(1 day)" {
		t.Errorf("default gc schedule %q, want rate(1 day)", got)
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
	default:
		return fmt.Errorf("type %v: use String or Number with constraints", p["Type"])
	}
	return nil
}
