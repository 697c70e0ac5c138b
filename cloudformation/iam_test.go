package cloudformation_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dynamo"
)

// Names the DynamoDB adapter reads and writes; the template must create
// exactly them.
const (
	tableKeyAttr      = dynamo.AttrClientID      // partition key ("client_id")
	metadataHashIndex = dynamo.IndexMetadataHash // GSI for reuse of identical public clients ("metadata_hash-index")
	metadataHashAttr  = dynamo.AttrMetadataHash  // the GSI's key ("metadata_hash")
	ttlAttr           = dynamo.AttrExpiresAt     // DynamoDB TTL attribute ("expires_at")
)

// wildcardResourceActions may use Resource "*" because AWS defines them on
// no resource type.
var wildcardResourceActions = []string{"ecr:GetAuthorizationToken"}

// allowedManagedPolicies are the AWS managed policies a role may attach.
var allowedManagedPolicies = []string{"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}

// statement is one IAM policy statement of a role.
type statement struct {
	role, policy string
	raw          map[string]any
}

// statements returns every permission statement of every IAM role and policy
// resource (not the trust policies).
func statements(t *testing.T, tp template) []statement {
	t.Helper()
	var out []statement
	for _, id := range tp.resourcesOfType(t, "AWS::IAM::Role") {
		for _, p := range list(at(tp.resource(t, id), "Properties", "Policies")) {
			name := scalar(at(p, "PolicyName"))
			for _, s := range list(at(p, "PolicyDocument", "Statement")) {
				out = append(out, statement{role: id, policy: name, raw: s.(map[string]any)})
			}
		}
	}
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"} {
		for _, id := range tp.resourcesOfType(t, typ) {
			for _, s := range list(at(tp.resource(t, id), "Properties", "PolicyDocument", "Statement")) {
				out = append(out, statement{role: id, policy: id, raw: s.(map[string]any)})
			}
		}
	}
	return out
}

// TestIAMNoWildcards checks every statement of the template: Allow only, no
// NotAction/NotResource, no wildcard in any action (no "*", no
// "dynamodb:*", no "dynamodb:Get*"), Resource "*" only for actions AWS
// defines on no resource, and never on a dynamodb or cognito-idp statement.
func TestIAMNoWildcards(t *testing.T) {
	tp := loadTemplate(t)
	stmts := statements(t, tp)
	if len(stmts) == 0 {
		t.Fatal("no IAM statements found")
	}
	for _, st := range stmts {
		where := st.role + "/" + st.policy + "/" + scalar(st.raw["Sid"])
		if st.raw["Effect"] != "Allow" {
			t.Errorf("%s: Effect %v (only Allow statements are expected)", where, st.raw["Effect"])
		}
		for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
			if _, ok := st.raw[k]; ok {
				t.Errorf("%s uses %s", where, k)
			}
		}
		actions := list(st.raw["Action"])
		if len(actions) == 0 {
			t.Errorf("%s has no Action", where)
		}
		for _, a := range actions {
			s, ok := a.(string)
			if !ok || strings.Contains(s, "*") || !strings.Contains(s, ":") {
				t.Errorf("%s: action %v is a wildcard or not service:Action", where, a)
			}
		}
		for _, r := range list(st.raw["Resource"]) {
			if r != "*" {
				continue
			}
			for _, a := range actions {
				s := scalar(a)
				if strings.HasPrefix(s, "dynamodb:") || strings.HasPrefix(s, "cognito-idp:") {
					t.Errorf("%s: %s on Resource \"*\"", where, s)
				} else if !slices.Contains(wildcardResourceActions, s) {
					t.Errorf("%s: %s on Resource \"*\" (only %v need it)", where, s, wildcardResourceActions)
				}
			}
		}
	}
	for _, id := range tp.resourcesOfType(t, "AWS::IAM::Role") {
		for _, arn := range list(at(tp.resource(t, id), "Properties", "ManagedPolicyArns")) {
			if !slices.Contains(allowedManagedPolicies, scalar(arn)) {
				t.Errorf("%s attaches managed policy %v", id, arn)
			}
		}
		for _, s := range list(at(tp.resource(t, id), "Properties", "AssumeRolePolicyDocument", "Statement")) {
			svc := list(at(s, "Principal", "Service"))
			if len(svc) != 1 || at(s, "Principal", "AWS") != nil || at(s, "Action") != "sts:AssumeRole" {
				t.Errorf("%s: trust statement %v must let exactly one service assume the role", id, s)
			}
		}
	}
}

// TestIAMExactGrants resolves each role's statements (with a private-ECR
// gateway, so every role exists) and compares action -> resources with the
// exact least-privilege grant.
func TestIAMExactGrants(t *testing.T) {
	tp := loadTemplate(t)
	s := scenarios[1].stack(t, tp)
	arn := func(service, rest string) string {
		return "arn:aws:" + service + ":" + sampleRegion + ":" + sampleAccount + ":" + rest
	}
	pool := arn("cognito-idp", "userpool/"+samplePoolID)
	table := arn("dynamodb", "table/"+sampleTable)
	index := table + "/index/" + metadataHashIndex
	logGroup := arn("logs", "log-group:/aws/lambda/"+sampleStack+"-mcp-dcr:*")
	repo := "arn:aws:ecr:eu-west-1:123456789012:repository/team/mcp-gateway"
	want := map[string]map[string][]string{
		"RegistrationFunctionRole": {
			"cognito-idp:CreateUserPoolClient":       {pool},
			"cognito-idp:UpdateUserPoolClient":       {pool},
			"cognito-idp:DeleteUserPoolClient":       {pool},
			"cognito-idp:DescribeUserPoolClient":     {pool},
			"cognito-idp:CreateManagedLoginBranding": {pool},
			"cognito-idp:ListResourceServers":        {pool},
			"dynamodb:GetItem":                       {table, index},
			"dynamodb:PutItem":                       {table, index},
			"dynamodb:UpdateItem":                    {table, index},
			"dynamodb:DeleteItem":                    {table, index},
			"dynamodb:Query":                         {table, index},
			"dynamodb:Scan":                          {table, index},
			"dynamodb:DescribeTable":                 {table, index},
			"logs:CreateLogStream":                   {logGroup},
			"logs:PutLogEvents":                      {logGroup},
		},
		"GatewayInstanceRole": {"dynamodb:GetItem": {table}},
		"GatewayAccessRole": {
			"ecr:GetAuthorizationToken":       {"*"},
			"ecr:BatchCheckLayerAvailability": {repo},
			"ecr:BatchGetImage":               {repo},
			"ecr:DescribeImages":              {repo},
			"ecr:GetDownloadUrlForLayer":      {repo},
		},
	}
	got := map[string]map[string][]string{}
	for _, st := range statements(t, tp) {
		if !s.exists(tp.resource(t, st.role)) {
			t.Fatalf("%s is not created in scenario %q", st.role, scenarios[1].name)
		}
		if got[st.role] == nil {
			got[st.role] = map[string][]string{}
		}
		resources := list(s.eval(st.raw["Resource"]))
		for _, a := range list(st.raw["Action"]) {
			for _, r := range resources {
				got[st.role][scalar(a)] = append(got[st.role][scalar(a)], scalar(r))
			}
		}
	}
	for role, grants := range want {
		if diff := grantDiff(grants, got[role]); diff != "" {
			t.Errorf("%s grants differ (want -, got +):\n%s", role, diff)
		}
	}
	for role := range got {
		if _, ok := want[role]; !ok {
			t.Errorf("unexpected role with permissions: %s", role)
		}
	}
}

// grantDiff lists the action/resource pairs only in want (-) or only in got (+).
func grantDiff(want, got map[string][]string) string {
	pairs := func(m map[string][]string) map[string]bool {
		out := map[string]bool{}
		for a, rs := range m {
			for _, r := range rs {
				out[a+" on "+r] = true
			}
		}
		return out
	}
	w, g := pairs(want), pairs(got)
	var lines []string
	for p := range w {
		if !g[p] {
			lines = append(lines, "- "+p)
		}
	}
	for p := range g {
		if !w[p] {
			lines = append(lines, "+ "+p)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestInvokePermissions checks that only the HTTP API and the gc schedule
// may invoke the function, each scoped to its own ARN.
func TestInvokePermissions(t *testing.T) {
	tp := loadTemplate(t)
	s := scenarios[0].stack(t, tp)
	want := map[string]string{
		"apigateway.amazonaws.com": fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/*", sampleRegion, sampleAccount, sampleAPIID),
		"events.amazonaws.com":     "GCSchedule.Arn-value",
	}
	ids := tp.resourcesOfType(t, "AWS::Lambda::Permission")
	if len(ids) != len(want) {
		t.Errorf("%d Lambda permissions %v, want %d", len(ids), ids, len(want))
	}
	for _, id := range ids {
		p := at(tp.resource(t, id), "Properties")
		principal := scalar(at(p, "Principal"))
		if w, ok := want[principal]; !ok || s.str(at(p, "SourceArn")) != w {
			t.Errorf("%s: principal %s source %q, want one of %v", id, principal, s.str(at(p, "SourceArn")), want)
		}
		if at(p, "Action") != "lambda:InvokeFunction" || !refersTo(at(p, "FunctionName"), "RegistrationFunction") {
			t.Errorf("%s: %v", id, p)
		}
	}
}
