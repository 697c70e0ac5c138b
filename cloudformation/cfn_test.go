// Package cloudformation_test checks cloudformation/mcp-gateway.yaml: cfn-lint
// must be clean, and the template must keep the invariants the rest of the
// project relies on (least-privilege IAM, the registrations table's names,
// the routes and environment mcp-dcr and the gateway read).
package cloudformation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// cfnLintInstall says how to get cfn-lint when it is missing.
const cfnLintInstall = "cfn-lint is not on PATH: install it with `pip install cfn-lint` (v1.x)"

// lintIgnore is a cfn-lint finding the template accepts, with the reason.
type lintIgnore struct {
	rule, path, why string
}

// lintIgnores are the only accepted cfn-lint findings. Each must still occur
// (a stale entry fails the test, so the list stays honest).
var lintIgnores = []lintIgnore{
	{
		rule: "W1030",
		path: "Resources/UserPoolCustomDomain/Properties/CustomDomainConfig/CertificateArn/Ref",
		why: `cfn-lint resolves the Ref to the parameter's default "" and finds no ACM ARN; ` +
			"the resource exists only under HasCustomDomain, where Rule CustomDomainNeedsCertificate " +
			"requires the ARN and its AllowedPattern admits only us-east-1 ACM certificate ARNs",
	},
}

// cfnLintMatch is one finding of `cfn-lint --format json`.
type cfnLintMatch struct {
	Level   string `json:"Level"`
	Message string `json:"Message"`
	Rule    struct {
		ID string `json:"Id"`
	} `json:"Rule"`
	Location struct {
		Path  []any `json:"Path"`
		Start struct {
			LineNumber int `json:"LineNumber"`
		} `json:"Start"`
	} `json:"Location"`
}

func (m cfnLintMatch) path() string {
	parts := make([]string, len(m.Location.Path))
	for i, p := range m.Location.Path {
		parts[i] = scalar(p)
	}
	return strings.Join(parts, "/")
}

// TestCfnLint runs cfn-lint on the template: no errors, and no warnings
// beyond lintIgnores.
func TestCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		testenv.SkipOrFail(t, cfnLintInstall)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--format", "json", "--", templatePath)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		t.Fatalf("cfn-lint: %v\n%s", runErr, stderr.String())
	}
	var matches []cfnLintMatch
	if err := json.Unmarshal(stdout.Bytes(), &matches); err != nil {
		t.Fatalf("cfn-lint output is not JSON (%v): exit %v\nstdout:\n%s\nstderr:\n%s", err, runErr, stdout.String(), stderr.String())
	}
	used := make([]bool, len(lintIgnores))
	for _, m := range matches {
		ignored := false
		for i, ig := range lintIgnores {
			if m.Level != "Error" && m.Rule.ID == ig.rule && m.path() == ig.path {
				ignored, used[i] = true, true
			}
		}
		if !ignored {
			t.Errorf("cfn-lint %s %s at line %d (%s): %s", m.Level, m.Rule.ID, m.Location.Start.LineNumber, m.path(), m.Message)
		}
	}
	for i, ig := range lintIgnores {
		if !used[i] {
			t.Errorf("stale cfn-lint ignore %s at %s: remove it", ig.rule, ig.path)
		}
	}
	if runErr != nil && len(matches) == 0 {
		t.Errorf("cfn-lint failed without findings: %v\n%s", runErr, stderr.String())
	}
}

// TestParameters checks that every parameter is described and constrained,
// that defaults satisfy their own constraints, and that only the values no
// default can supply are required.
func TestParameters(t *testing.T) {
	tp := loadTemplate(t)
	for name, raw := range tp.section(t, "Parameters") {
		p := raw.(map[string]any)
		if d, _ := p["Description"].(string); strings.TrimSpace(d) == "" {
			t.Errorf("parameter %s has no Description", name)
		}
		def, hasDefault := p["Default"]
		if _, required := requiredParams[name]; required == hasDefault {
			t.Errorf("parameter %s: has default = %v; only %v may lack one (and must)", name, hasDefault, keys(requiredParams))
		}
		if !hasDefault {
			def = requiredParams[name]
		}
		if err := checkConstraint(p, scalar(def)); err != nil {
			t.Errorf("parameter %s: %v", name, err)
		}
	}
}

// TestOutputs checks the outputs other tools and the README rely on.
func TestOutputs(t *testing.T) {
	tp := loadTemplate(t)
	outs := tp.section(t, "Outputs")
	for _, name := range []string{"IssuerURL", "JWKSURL", "RegistrationAPIURL", "ManagedLoginURL", "GatewayURL", "UserPoolId", "TableName"} {
		if _, ok := outs[name]; !ok {
			t.Errorf("output %s is missing", name)
		}
	}
	if c := at(outs, "GatewayURL", "Condition"); c != "CreateGateway" {
		t.Errorf("output GatewayURL has Condition %v, want CreateGateway", c)
	}
	s := scenarios[0].stack(t, tp)
	want := map[string]string{
		"IssuerURL":          "https://cognito-idp.us-east-1.amazonaws.com/" + samplePoolID,
		"JWKSURL":            "https://cognito-idp.us-east-1.amazonaws.com/" + samplePoolID + "/.well-known/jwks.json",
		"RegistrationAPIURL": sampleEndpoint,
		"ManagedLoginURL":    "https://mcp-example.auth.us-east-1.amazoncognito.com",
		"TableName":          sampleTable,
	}
	for name, w := range want {
		if got := s.str(at(outs, name, "Value")); got != w {
			t.Errorf("output %s = %q, want %q", name, got, w)
		}
	}
}

// TestGatewayOptional checks that the gateway's resources exist only when an
// image is given, and that the gateway's role may only read the table.
func TestGatewayOptional(t *testing.T) {
	tp := loadTemplate(t)
	want := map[string]string{
		"GatewayService":      "CreateGateway",
		"GatewayInstanceRole": "CreateGateway",
		"GatewayAccessRole":   "GatewayFromPrivateECR",
	}
	for id, cond := range want {
		if got := tp.resource(t, id)["Condition"]; got != cond {
			t.Errorf("%s has Condition %v, want %s", id, got, cond)
		}
	}
	for id, raw := range tp.section(t, "Resources") {
		if _, listed := want[id]; !listed && refersTo(raw, "GatewayImageIdentifier") {
			t.Errorf("%s uses GatewayImageIdentifier but is not conditional on it", id)
		}
	}
	for _, sc := range scenarios {
		s := sc.stack(t, tp)
		if got := s.condition("CreateGateway"); got != sc.gateway {
			t.Errorf("%s: CreateGateway = %v, want %v", sc.name, got, sc.gateway)
		}
	}
}

func keys(m map[string]string) []string {
	var l []string
	for k := range m {
		l = append(l, k)
	}
	return l
}
