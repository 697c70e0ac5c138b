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
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// cfnLintInstall says how to get cfn-lint when it is missing.
const cfnLintInstall = "cfn-lint is not on PATH: install it with `pip install cfn-lint` (v1.x)"

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

// TestCfnLint runs cfn-lint on the template: no finding at all. A finding
// the template accepts is suppressed in the template itself (resource
// Metadata cfn-lint.config.ignore_checks) with a comment giving the reason,
// so that the reason sits next to what it excuses.
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
	for _, m := range matches {
		t.Errorf("cfn-lint %s %s at line %d (%s): %s", m.Level, m.Rule.ID, m.Location.Start.LineNumber, m.path(), m.Message)
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

// outputKey is the configuration key an output's Description starts with
// ("MCPGW_ISSUER: ..."); tools/stackenv relies on the same rule.
var outputKey = regexp.MustCompile(`^((?:MCPGW|MCPDCR)_[A-Z0-9_]+): \S`)

// TestOutputs checks that every output is exactly one configuration key of
// internal/config (no key twice), that its value is the one the deployed
// service gets for that key, and that the outputs cover every key a service
// needs to run elsewhere: the .env `make outputs` writes loads and validates
// through both configuration loaders.
func TestOutputs(t *testing.T) {
	tp := loadTemplate(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			s := sc.stack(t, tp)
			outs := outputsEnv(t, s)
			gw, dcr := gatewayEnv(t, s), lambdaEnv(t, s)
			for key, v := range outs {
				var deployed map[string]string
				switch {
				case strings.HasPrefix(key, config.EnvPrefix+"_"):
					deployed = gw
				default:
					deployed = dcr
				}
				if d, ok := deployed[key]; !ok || d != v {
					t.Errorf("output %s = %q, but the deployed service gets %q (set: %v)", key, v, d, ok)
				}
			}
			for _, k := range append(slices.Clone(requiredGatewayEnv), requiredDCREnv...) {
				if _, ok := outs[k]; !ok && !slices.Contains(notOutputs, k) {
					t.Errorf("no output for %s", k)
				}
			}
			env := environ(outs)
			if _, err := config.Load(config.LoadOptions{Environ: env, DotEnv: os.DevNull}); err != nil {
				t.Errorf("the gateway refuses the outputs' .env: %v", err)
			}
			if _, err := config.LoadDCR(config.LoadOptions{Environ: env, DotEnv: os.DevNull}); err != nil {
				t.Errorf("mcp-dcr refuses the outputs' .env: %v", err)
			}
		})
	}
}

// notOutputs are deployment details of the stack's own services, not site
// facts another deployment of either service needs.
var notOutputs = []string{
	"MCPGW_LISTEN", "MCPGW_LOG_FORMAT", "MCPDCR_LOG_FORMAT",
	"MCPDCR_MANAGED_LOGIN_BRANDING", "MCPDCR_MAX_REGISTRATIONS", "MCPDCR_REGISTRATION_TTL",
	"MCPDCR_RATE_LIMIT", "MCPDCR_INITIAL_ACCESS_TOKEN", "MCPDCR_ACCESS_TOKEN_VALIDITY",
	"MCPDCR_ID_TOKEN_VALIDITY", "MCPDCR_REFRESH_TOKEN_VALIDITY", "MCPDCR_REFRESH_TOKEN_ROTATION",
	"MCPDCR_REFRESH_TOKEN_ROTATION_GRACE",
}

// outputsEnv resolves the outputs that exist in s as KEY -> value, checking
// the one-key-per-output rule.
func outputsEnv(t *testing.T, s *stack) map[string]string {
	t.Helper()
	known := map[string]bool{}
	for _, k := range config.Keys() {
		known[config.EnvPrefix+"_"+strings.ToUpper(k)] = true
	}
	for _, k := range config.DCRKeys() {
		known[config.DCREnvPrefix+"_"+strings.ToUpper(k)] = true
	}
	env := map[string]string{}
	for name, raw := range s.tp.section(t, "Outputs") {
		def := raw.(map[string]any)
		m := outputKey.FindStringSubmatch(scalar(def["Description"]))
		if m == nil {
			t.Errorf("output %s: Description %q does not start with one configuration key and \": \"", name, def["Description"])
			continue
		}
		if !known[m[1]] {
			t.Errorf("output %s names %s, which is not a configuration key of internal/config", name, m[1])
		}
		if !s.exists(def) {
			continue
		}
		if _, dup := env[m[1]]; dup {
			t.Errorf("two outputs name %s", m[1])
		}
		env[m[1]] = s.str(def["Value"])
	}
	return env
}

func keys(m map[string]string) []string {
	var l []string
	for k := range m {
		l = append(l, k)
	}
	return l
}
