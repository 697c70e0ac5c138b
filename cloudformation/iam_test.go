package cloudformation_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

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
				for _, st := range branches(s) {
					out = append(out, statement{role: id, policy: name, raw: st})
				}
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

// branches returns a statement, or the statements of both branches of an
// Fn::If (a conditional statement), leaving out AWS::NoValue.
func branches(v any) []map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	if args, ok := m["Fn::If"].([]any); ok && len(args) == 3 {
		return append(branches(args[1]), branches(args[2])...)
	}
	if m["Ref"] == "AWS::NoValue" {
		return nil
	}
	return []map[string]any{m}
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

// codeRoles are the roles whose principal runs this project's code, with
// the binary and the roots tools/awscalls starts from: their AWS actions must
// be exactly the calls that code can make.
var codeRoles = map[string]awsCallsSpec{
	"RegistrationFunctionRole": {pkg: "./cmd/mcp-dcr", tags: "lambda.norpc", roots: []string{"runLambda"}},
	"GatewayTaskRole":          {pkg: "./cmd/mcp-gateway", roots: []string{"wire", "*app.run"}},
}

// awsCallsSpec says what tools/awscalls analyzes for one role.
type awsCallsSpec struct {
	pkg, tags string
	roots     []string
}

// derivedActions runs tools/awscalls for every code role, concurrently, and
// returns role -> actions (cognito-idp:..., dynamodb:...).
func derivedActions(t *testing.T) map[string][]string {
	t.Helper()
	type result struct {
		role    string
		actions []string
		err     error
	}
	ch := make(chan result, len(codeRoles))
	for role, spec := range codeRoles {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			args := append([]string{"run", "./tools/awscalls", "-tags", spec.tags, spec.pkg}, spec.roots...)
			cmd := exec.CommandContext(ctx, "go", args...)
			cmd.Dir = ".."
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				err = fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
			}
			ch <- result{role, strings.Fields(string(out)), err}
		}()
	}
	got := map[string][]string{}
	for range codeRoles {
		r := <-ch
		if r.err != nil {
			t.Fatal(r.err)
		}
		if len(r.actions) == 0 {
			t.Fatalf("tools/awscalls found no AWS call for %s: the analysis is broken", r.role)
		}
		got[r.role] = r.actions
	}
	return got
}

// TestIAMExactGrants resolves each role's statements and compares action ->
// resources with the exact least-privilege grant. For the roles that run
// this project's code, the actions are derived from the code
// (tools/awscalls): a new SDK call without a grant, or a grant no code path
// uses, fails here.
func TestIAMExactGrants(t *testing.T) {
	tp := loadTemplate(t)
	sc := scenarios[1] // routes from the stack's SSM parameter: every statement exists
	s := sc.stack(t, tp)
	arn := func(service, region, rest string) string {
		return "arn:aws:" + service + ":" + region + ":" + sampleAccount + ":" + rest
	}
	pool := arn("cognito-idp", sampleRegion, "userpool/"+samplePoolID)
	table := arn("dynamodb", sampleRegion, "table/"+sampleTable)
	index := table + "/index/" + metadataHashIndex
	resourcesOf := map[string]map[string][]string{
		"RegistrationFunctionRole": {"cognito-idp": {pool}, "dynamodb": {table, index}},
		"GatewayTaskRole":          {"dynamodb": {table}},
	}
	want := map[string]map[string][]string{
		"RegistrationFunctionRole": {
			"logs:CreateLogStream": {arn("logs", sampleRegion, "log-group:/aws/lambda/"+sampleStack+"-mcp-dcr:*")},
			"logs:PutLogEvents":    {arn("logs", sampleRegion, "log-group:/aws/lambda/"+sampleStack+"-mcp-dcr:*")},
		},
		"GatewayTaskRole": {},
		"GatewayExecutionRole": {
			"ecr:GetAuthorizationToken":       {"*"},
			"ecr:BatchCheckLayerAvailability": {arn("ecr", "eu-west-1", "repository/team/mcp-gateway")},
			"ecr:BatchGetImage":               {arn("ecr", "eu-west-1", "repository/team/mcp-gateway")},
			"ecr:GetDownloadUrlForLayer":      {arn("ecr", "eu-west-1", "repository/team/mcp-gateway")},
			"logs:CreateLogStream":            {arn("logs", sampleRegion, "log-group:/ecs/"+sampleStack+"/mcp-gateway:*")},
			"logs:PutLogEvents":               {arn("logs", sampleRegion, "log-group:/ecs/"+sampleStack+"/mcp-gateway:*")},
			"secretsmanager:GetSecretValue":   {sampleSecret},
			"ssm:GetParameters":               {arn("ssm", sampleRegion, "parameter"+sampleRoutes)},
		},
	}
	for role, actions := range derivedActions(t) {
		t.Logf("%s: the code calls %v", role, actions)
		for _, a := range actions {
			service, _, _ := strings.Cut(a, ":")
			rs, ok := resourcesOf[role][service]
			if !ok {
				t.Errorf("%s: the code calls %s, a service the template grants this role nothing of", role, a)
				continue
			}
			want[role][a] = rs
		}
	}
	got := map[string]map[string][]string{}
	for _, st := range statements(t, tp) {
		if !s.exists(tp.resource(t, st.role)) {
			t.Fatalf("%s is not created in scenario %q", st.role, sc.name)
		}
		if got[st.role] == nil {
			got[st.role] = map[string][]string{}
		}
		raw := s.eval(st.raw)
		if raw == (noValue{}) {
			continue
		}
		resources := list(at(raw, "Resource"))
		for _, a := range list(at(raw, "Action")) {
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

// TestInvokePermissions checks that only the load balancer's mcp-dcr
// target group and the gc schedule may invoke the function, each scoped to
// its own ARN, and that the target group's fixed name matches the permission.
func TestInvokePermissions(t *testing.T) {
	tp := loadTemplate(t)
	s := scenarios[0].stack(t, tp)
	suffix := "4b7c1a2e" // first group of sampleStackID's UUID
	want := map[string]string{
		"elasticloadbalancing.amazonaws.com": fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/mcp-dcr-%s/*", sampleRegion, sampleAccount, suffix),
		"events.amazonaws.com":               "GCSchedule.Arn-value",
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
	if name := s.str(at(tp.resource(t, "RegistrationTargetGroup"), "Properties", "Name")); name != "mcp-dcr-"+suffix {
		t.Errorf("mcp-dcr target group name %q, want mcp-dcr-%s (the permission's SourceArn names it)", name, suffix)
	}
}
