package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/joho/godotenv"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// fixture is an AWS describe-stacks answer for the stack's outputs.
const fixture = "testdata/describe-stacks.json"

// fixedNow is the time every test writes into the header.
func fixedNow() time.Time { return time.Date(2026, 11, 30, 10, 3, 0, 0, time.UTC) }

// runStackenv runs the command with args and returns its exit code and stderr.
func runStackenv(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut, fixedNow)
	return code, out.String(), errOut.String()
}

// fixtureOutputs returns the fixture's outputs as key -> value, the keys
// taken from the descriptions.
func fixtureOutputs(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var ds describeStacks
	if err := json.Unmarshal(data, &ds); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, o := range ds.Stacks[0].Outputs {
		key, _, _ := strings.Cut(o.Description, ": ")
		want[key] = o.OutputValue
	}
	return want
}

// TestWritesEnv: the fixture becomes sorted KEY=value lines under the header
// (golden file), and godotenv reads every output's value back.
func TestWritesEnv(t *testing.T) {
	out := filepath.Join(t.TempDir(), ".env")
	code, _, stderr := runStackenv(t, "", "-stack", "mcp-gateway", "-in", fixture, "-out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "testdata/env.golden", data)
	if info, err := os.Stat(out); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, %v; want 0600", info.Mode().Perm(), err)
	}
	got, err := godotenv.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := fixtureOutputs(t); !reflect.DeepEqual(got, want) {
		t.Errorf("godotenv reads\n%v\nwant\n%v", got, want)
	}
	var keys []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.HasPrefix(line, "#") {
			k, _, _ := strings.Cut(line, "=")
			keys = append(keys, k)
		}
	}
	if !sort.StringsAreSorted(keys) {
		t.Errorf("keys not sorted: %v", keys)
	}
}

// TestStdinToStdout: -in - and -out - read and write the standard streams.
func TestStdinToStdout(t *testing.T) {
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runStackenv(t, string(data), "-stack", "mcp-gateway", "-in", "-", "-out", "-")
	if code != 0 || !strings.HasPrefix(stdout, Marker+" from CloudFormation stack mcp-gateway at 2026-11-30T10:03:00Z.") {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
}

// describeJSON builds a describe-stacks answer for stack "s".
func describeJSON(t *testing.T, status string, outs ...output) string {
	t.Helper()
	type stack struct {
		StackName   string
		StackStatus string
		Outputs     []output `json:",omitempty"`
	}
	data, err := json.Marshal(map[string][]stack{"Stacks": {{"s", status, outs}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestRefusals: outputs that cannot become a .env are refused with exit 1,
// every problem named, and nothing written.
func TestRefusals(t *testing.T) {
	ok := output{OutputKey: "Table", OutputValue: "t", Description: "MCPDCR_TABLE: the table"}
	tests := []struct {
		name   string
		status string
		outs   []output
		want   []string
	}{
		{name: "no key", status: "CREATE_COMPLETE",
			outs: []output{ok, {OutputKey: "Loose", OutputValue: "x", Description: "the load balancer"}},
			want: []string{"output Loose: its Description \"the load balancer\" does not start with one configuration key"}},
		{name: "key without colon-space", status: "CREATE_COMPLETE",
			outs: []output{{OutputKey: "A", OutputValue: "x", Description: "MCPGW_ISSUER:the issuer"}},
			want: []string{"output A: its Description"}},
		{name: "two keys", status: "CREATE_COMPLETE",
			outs: []output{{OutputKey: "T", OutputValue: "t", Description: "MCPDCR_TABLE, MCPGW_CLIENT_IDS_TABLE: the table"}},
			want: []string{"output T: its Description"}},
		{name: "lower-case key", status: "CREATE_COMPLETE",
			outs: []output{{OutputKey: "L", OutputValue: "x", Description: "mcpgw_issuer: the issuer"}},
			want: []string{"output L: its Description"}},
		{name: "unknown key", status: "CREATE_COMPLETE",
			outs: []output{ok, {OutputKey: "DNS", OutputValue: "x", Description: "MCPGW_LOAD_BALANCER: its DNS name"}},
			want: []string{"output DNS: MCPGW_LOAD_BALANCER is not a key the gateway or mcp-dcr configuration reads"}},
		{name: "duplicate key", status: "UPDATE_COMPLETE",
			outs: []output{ok, {OutputKey: "Table2", OutputValue: "u", Description: "MCPDCR_TABLE: again"}},
			want: []string{"outputs Table and Table2 both set MCPDCR_TABLE"}},
		{name: "secret", status: "CREATE_COMPLETE",
			outs: []output{{OutputKey: "S", OutputValue: "hunter2", Description: "MCPGW_SESSION_SECRET: the key"}},
			want: []string{"output S: MCPGW_SESSION_SECRET is a secret"}},
		{name: "every problem at once", status: "CREATE_COMPLETE",
			outs: []output{
				{OutputKey: "A", OutputValue: "x", Description: "nothing"},
				{OutputKey: "B", OutputValue: "x", Description: "MCPGW_NOPE: x"},
				{OutputKey: "C", OutputValue: "x", Description: "MCPDCR_INITIAL_ACCESS_TOKEN: x"},
			},
			want: []string{"output A:", "output B: MCPGW_NOPE", "output C: MCPDCR_INITIAL_ACCESS_TOKEN is a secret"}},
		{name: "in progress", status: "UPDATE_IN_PROGRESS", outs: []output{ok},
			want: []string{"stack s is UPDATE_IN_PROGRESS"}},
		{name: "rolled back", status: "ROLLBACK_COMPLETE", outs: []output{ok},
			want: []string{"stack s is ROLLBACK_COMPLETE"}},
		{name: "no outputs", status: "CREATE_COMPLETE",
			want: []string{"stack s has no outputs"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), ".env")
			code, _, stderr := runStackenv(t, describeJSON(t, tc.status, tc.outs...), "-stack", "s", "-in", "-", "-out", out)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stderr %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s written despite the refusal", out)
			}
		})
	}
	t.Run("other stack", func(t *testing.T) {
		code, _, stderr := runStackenv(t, describeJSON(t, "CREATE_COMPLETE", ok), "-stack", "other", "-in", "-", "-out", "-")
		if code != 1 || !strings.Contains(stderr, "no stack other") {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})
	t.Run("usage", func(t *testing.T) {
		if code, _, _ := runStackenv(t, "", "-in", fixture); code != 2 {
			t.Errorf("no -stack: exit %d, want 2", code)
		}
	})
}

// TestOverwrite: a hand-written .env is kept unless -force; a file stackenv
// wrote is replaced.
func TestOverwrite(t *testing.T) {
	tests := []struct {
		name     string
		existing string
		force    bool
		wantCode int
	}{
		{name: "hand-written", existing: "MCPGW_ISSUER=https://mine\n", wantCode: 1},
		{name: "hand-written, -force", existing: "MCPGW_ISSUER=https://mine\n", force: true},
		{name: "written by stackenv", existing: Marker + " from CloudFormation stack old at 2026-01-01T00:00:00Z.\nMCPDCR_TABLE=old\n"},
		{name: "absent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), ".env")
			if tc.existing != "" {
				if err := os.WriteFile(out, []byte(tc.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"-stack", "mcp-gateway", "-in", fixture, "-out", out}
			if tc.force {
				args = append(args, "-force")
			}
			code, _, stderr := runStackenv(t, "", args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d: %s", code, tc.wantCode, stderr)
			}
			data, _ := os.ReadFile(out)
			if tc.wantCode != 0 {
				if string(data) != tc.existing || !strings.Contains(stderr, "FORCE=1") {
					t.Errorf("file changed to %q or no FORCE hint: %s", data, stderr)
				}
				return
			}
			if !bytes.HasPrefix(data, []byte(Marker+" from CloudFormation stack mcp-gateway")) {
				t.Errorf("not rewritten: %q", data)
			}
		})
	}
}

// TestQuoteRoundTrip: every value quote accepts, godotenv reads back
// unchanged; values it cannot carry are errors, not silent corruption.
func TestQuoteRoundTrip(t *testing.T) {
	tests := []struct {
		value   string
		want    string // the quoted form
		wantErr bool
	}{
		{value: "", want: ""},
		{value: "https://mcp.example.com/mcp/tools", want: "https://mcp.example.com/mcp/tools"},
		{value: "COGNITO,Corporate", want: "COGNITO,Corporate"},
		{value: "007", want: "007"},
		{value: "a=b", want: "a=b"},
		{value: "openid email profile", want: "'openid email profile'"},
		{value: "https://cognito-idp.us-east-1.amazonaws.com/${UserPool}", want: "'https://cognito-idp.us-east-1.amazonaws.com/${UserPool}'"},
		{value: "$HOME", want: "'$HOME'"},
		{value: "a #not a comment", want: "'a #not a comment'"},
		{value: `{"routes":[{"path":"/mcp"}]}`, want: `'{"routes":[{"path":"/mcp"}]}'`},
		{value: `C:\dir\file`, want: `'C:\dir\file'`},
		{value: "  padded  ", want: "'  padded  '"},
		{value: "café", want: "'café'"},
		{value: "it's", want: `"it's"`},
		{value: "routes:\n  - path: /mcp\n", want: `"routes:\n  - path: /mcp\n"`},
		{value: "it's $5\nnow", want: `"it's \$5\nnow"`},
		{value: `ends with \`, wantErr: true},
		{value: "it's \"quoted\"", wantErr: true},
		{value: "line\nwith \"quote\"", wantErr: true},
	}
	for _, tc := range tests {
		got, err := quote(tc.value)
		if tc.wantErr {
			if err == nil {
				t.Errorf("quote(%q) = %s, want an error", tc.value, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("quote(%q): %v", tc.value, err)
			continue
		} else if got != tc.want {
			t.Errorf("quote(%q) = %s, want %s", tc.value, got, tc.want)
		}
		back, err := godotenv.Unmarshal("K=" + got + "\n")
		if err != nil || back["K"] != tc.value {
			t.Errorf("godotenv reads %s as %q (%v), want %q", got, back["K"], err, tc.value)
		}
	}
}

// TestRunsAWSCLI: without -in, stackenv runs the AWS CLI's describe-stacks
// for the stack, with -region and -endpoint-url passed through.
func TestRunsAWSCLI(t *testing.T) {
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	fixtureAbs, err := filepath.Abs(fixture)
	if err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(dir, "aws")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\ncat " + fixtureAbs + "\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runStackenv(t, "", "-stack", "mcp-gateway", "-aws", fake, "-region", "eu-west-1",
		"-endpoint-url", "http://localhost:5000", "-out", "-")
	if code != 0 || !strings.Contains(stdout, "MCPDCR_TABLE=mcp-gateway-RegistrationsTable-1K2L3M4N5O6P\n") {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	data, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cloudformation", "describe-stacks", "--stack-name", "mcp-gateway", "--output", "json",
		"--region", "eu-west-1", "--endpoint-url", "http://localhost:5000"}
	if got := strings.Fields(string(data)); !slices.Equal(got, want) {
		t.Errorf("aws args = %q, want %q", got, want)
	}

	failing := filepath.Join(dir, "aws-fails")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\necho 'Stack with id nope does not exist' >&2\nexit 254\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runStackenv(t, "", "-stack", "nope", "-aws", failing, "-out", "-")
	if code != 1 || !strings.Contains(stderr, "Stack with id nope does not exist") {
		t.Errorf("failing CLI: exit %d, stderr %s", code, stderr)
	}
}

// TestSecretKeys pins which configuration keys IsSecret refuses, so that a
// new secret key whose name the rule misses is noticed here.
func TestSecretKeys(t *testing.T) {
	var secret []string
	for k := range KnownKeys() {
		if IsSecret(k) {
			secret = append(secret, k)
		}
	}
	sort.Strings(secret)
	if want := []string{"MCPDCR_INITIAL_ACCESS_TOKEN", "MCPGW_SESSION_SECRET"}; !slices.Equal(secret, want) {
		t.Errorf("secret keys = %v, want %v", secret, want)
	}
	if known := KnownKeys(); !known["MCPGW_ROUTES"] || !known["MCPDCR_USER_POOL_ID"] || len(known) != len(config.Keys())+len(config.DCRKeys()) {
		t.Errorf("KnownKeys = %d keys, want MCPGW_ROUTES, MCPDCR_USER_POOL_ID and one per config key", len(known))
	}
}
