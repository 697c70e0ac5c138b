package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/joho/godotenv"
	"go.yaml.in/yaml/v3"
)

// Paths from this package's directory.
var (
	templateFile = filepath.FromSlash("../../cloudformation/mcp-gateway.yaml")
	deployScript = filepath.FromSlash("../../cloudformation/deploy.sh")
	exampleFile  = filepath.FromSlash("../../.env.deploy.example")
)

// deploySettings are the example's keys that are not template parameters
// (cloudformation/deploy.sh reads them).
var deploySettings = []string{"AWS_REGION", "CODE_BUCKET", "GATEWAY_IMAGE", "STACK_NAME"}

// derivedParameters are set by deploy.sh, never by the example.
var derivedParameters = []string{"CodeBucket", "CodeKey", "GatewayImage"}

// templateParameters returns the template's parameters: name -> default
// (nil when it has none).
func templateParameters(t *testing.T) map[string]*string {
	t.Helper()
	data, err := os.ReadFile(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Parameters map[string]struct {
			Default yaml.Node `yaml:"Default"`
		} `yaml:"Parameters"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", templateFile, err)
	}
	if len(doc.Parameters) == 0 {
		t.Fatalf("%s has no Parameters", templateFile)
	}
	params := map[string]*string{}
	for name, p := range doc.Parameters {
		if p.Default.Kind != 0 {
			v := p.Default.Value
			params[name] = &v
		} else {
			params[name] = nil
		}
	}
	return params
}

// TestDeployExampleCoversParameters: .env.deploy.example names every template
// parameter (except those deploy.sh derives) with the template's default, plus
// the deploy settings, and nothing else.
func TestDeployExampleCoversParameters(t *testing.T) {
	params := templateParameters(t)
	example, err := godotenv.Read(exampleFile)
	if err != nil {
		t.Fatalf("%s: %v", exampleFile, err)
	}
	for name, def := range params {
		v, ok := example[name]
		switch {
		case slices.Contains(derivedParameters, name):
			if ok {
				t.Errorf("%s sets %s, which deploy.sh derives", exampleFile, name)
			}
		case !ok:
			t.Errorf("%s lacks template parameter %s", exampleFile, name)
		case def != nil && v != *def:
			t.Errorf("%s: %s=%q, but the template's default is %q", exampleFile, name, v, *def)
		}
	}
	for key := range example {
		if _, isParam := params[key]; !isParam && !slices.Contains(deploySettings, key) {
			t.Errorf("%s sets %s: neither a template parameter nor a deploy setting %v", exampleFile, key, deploySettings)
		}
	}
}

// TestDeployScriptParameters: deploy.sh's own reading of the template's
// parameter names (awk, no YAML parser) agrees with a YAML parser's.
func TestDeployScriptParameters(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	out, err := exec.Command(bash, deployScript, "parameters").Output()
	if err != nil {
		t.Fatalf("deploy.sh parameters: %v", err)
	}
	got := strings.Fields(string(out))
	var want []string
	for name := range templateParameters(t) {
		want = append(want, name)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("deploy.sh parameters = %v\nYAML parameters = %v", got, want)
	}
}

// deploySettingsOutput runs `deploy.sh settings` with envFile and extra
// environment entries, and returns its stdout parsed into key -> value, the
// exit code and stderr.
func deploySettingsOutput(t *testing.T, envFile string, env ...string) (map[string]string, int, string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	cmd := exec.Command(bash, deployScript, "settings")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "DEPLOY_ENV_FILE=" + envFile}, env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		exitErr, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = exitErr.ExitCode()
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			got[k] = v
		}
	}
	return got, code, stderr.String()
}

// TestDeployScriptReadsExample: deploy.sh's own .env.deploy reader (bash,
// nothing expanded) gets the example's values as godotenv does, and passes
// every template parameter but the derived ones.
func TestDeployScriptReadsExample(t *testing.T) {
	got, code, stderr := deploySettingsOutput(t, exampleFile)
	if code != 0 {
		t.Fatalf("deploy.sh settings: exit %d: %s", code, stderr)
	}
	example, err := godotenv.Read(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range example {
		if k == "GATEWAY_IMAGE" {
			continue // not printed: deploy resolves it (dist/image-uri)
		}
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("deploy.sh reads %s=%q (present %v), godotenv %q", k, v, ok, want)
		}
	}
	for _, p := range derivedParameters {
		if _, ok := got[p]; ok {
			t.Errorf("deploy.sh settings prints %s, which deploy derives", p)
		}
	}
}

// TestDeployScriptSettings: the environment overrides the file; quotes and
// comments are read like godotenv; secrets are masked; unknown keys, keys
// deploy.sh derives and a missing STACK_NAME are refused before any AWS call.
func TestDeployScriptSettings(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		env      []string
		want     map[string]string
		wantCode int
		wantErr  string
	}{
		{name: "quotes, comments, environment",
			file: "# a comment\nSTACK_NAME=s1\nAWS_REGION=eu-west-1 # trailing comment\nPublicURL=\"https://a.example.com\"\n" +
				"OIDCAuthorizeScopes='openid email'\nGCScheduleExpression=\"rate(1 day)\"\nInitialAccessToken=abcdefghijklmnopqrstuvwxyz0123456789\nCustomDomainName=\n",
			env: []string{"PublicURL=https://b.example.com", "StreamKeepalive=30s"},
			want: map[string]string{"STACK_NAME": "s1", "AWS_REGION": "eu-west-1", "PublicURL": "https://b.example.com",
				"OIDCAuthorizeScopes": "openid email", "GCScheduleExpression": "rate(1 day)", "InitialAccessToken": "****",
				"CustomDomainName": "", "StreamKeepalive": "30s"}},
		{name: "stack from the environment", file: "PublicURL=https://a.example.com\n", env: []string{"STACK_NAME=s2"},
			want: map[string]string{"STACK_NAME": "s2", "PublicURL": "https://a.example.com"}},
		{name: "typo", file: "STACK_NAME=s\nPublicUrl=https://a.example.com\n", wantCode: 1,
			wantErr: "PublicUrl is neither a template parameter nor a deploy setting"},
		{name: "derived", file: "STACK_NAME=s\nCodeKey=x.zip\n", wantCode: 1, wantErr: "CodeKey is set by deploy.sh"},
		{name: "no stack", file: "PublicURL=https://a.example.com\n", wantCode: 1, wantErr: "STACK_NAME is not set"},
		{name: "not a pair", file: "STACK_NAME=s\njust words\n", wantCode: 1, wantErr: ":2: not a KEY=VALUE line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".env.deploy")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			got, code, stderr := deploySettingsOutput(t, path, tc.env...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("exit %d, stderr %q; want exit %d with %q", code, stderr, tc.wantCode, tc.wantErr)
			}
			for k, want := range tc.want {
				if v, ok := got[k]; !ok || v != want {
					t.Errorf("%s = %q (present %v), want %q", k, v, ok, want)
				}
			}
		})
	}
}
