package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// base is a valid file's first two lines: a case's own keys start on line 3.
const base = "public_url: https://mcp.example.com\nissuer: https://issuer.example.com\n"

// loadCase is one configuration: a file (none when ""), a .env file and
// the environment. Paths in problems read DIR/ for the case's directory.
type loadCase struct {
	name    string
	file    string
	dotenv  string
	env     []string
	want    []string // whole problem lines, each must be listed
	notWant []string // substrings no problem may contain
}

// load runs Load on tc and returns its problem lines (nil when it loads).
func (tc loadCase) load(t *testing.T) (*Config, []string) {
	t.Helper()
	dir := t.TempDir()
	opts := LoadOptions{Environ: tc.env, DotEnv: os.DevNull}
	if opts.Environ == nil {
		opts.Environ = []string{}
	}
	if tc.file != "" {
		opts.File = filepath.Join(dir, "gateway.yaml")
		if err := os.WriteFile(opts.File, []byte(tc.file), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if tc.dotenv != "" {
		opts.DotEnv = filepath.Join(dir, ".env")
		if err := os.WriteFile(opts.DotEnv, []byte(tc.dotenv), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Load(opts)
	if err == nil {
		return c, nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Load error %T is not Problems: %v", err, err)
	}
	var lines []string
	for _, p := range ps {
		lines = append(lines, strings.ReplaceAll(p.Error(), dir+string(filepath.Separator), "DIR/"))
	}
	return nil, lines
}

func (tc loadCase) check(t *testing.T) {
	t.Helper()
	_, lines := tc.load(t)
	for _, w := range tc.want {
		if !slices.Contains(lines, w) {
			t.Errorf("missing problem\n  %s\namong\n  %s", w, strings.Join(lines, "\n  "))
		}
	}
	for _, nw := range tc.notWant {
		for _, l := range lines {
			if strings.Contains(l, nw) {
				t.Errorf("problem %q must not be reported (it contains %q)", l, nw)
			}
		}
	}
	if len(tc.want) == 0 && lines != nil {
		t.Errorf("want no problems, got\n  %s", strings.Join(lines, "\n  "))
	}
}

// TestUnknownKeys: an unknown key anywhere is reported with its file and
// line, and a suggestion when a known key of that level is close; a key
// of another level says where it belongs.
func TestUnknownKeys(t *testing.T) {
	for _, tc := range []loadCase{
		{name: "top-level typo", file: base + "providr: okta\n",
			want: []string{"DIR/gateway.yaml:3: providr: unknown key; did you mean provider?"}},
		{name: "transposed letters", file: base + "requried_scopes: [mcp]\n",
			want: []string{"DIR/gateway.yaml:3: requried_scopes: unknown key; did you mean required_scopes?"}},
		{name: "nothing close", file: base + "colour: blue\n",
			want: []string{"DIR/gateway.yaml:3: colour: unknown key"}},
		{name: "route typo", file: base + "routes:\n  - path: /mcp\n  - path: /b\n    upstream: builtin\n    tool_scope: {x: [y]}\n",
			want: []string{"DIR/gateway.yaml:7: routes[1].tool_scope: unknown key; did you mean tool_scopes?"}},
		{name: "top-level key in a route", file: base + "routes:\n  - path: /mcp\n    issuer: https://x.example\n",
			want: []string{"DIR/gateway.yaml:5: routes[0].issuer: unknown key here: issuer is a top-level key"}},
		{name: "route key at the top level", file: base + "tool_scopes: {x: [y]}\n",
			want: []string{"DIR/gateway.yaml:3: tool_scopes: unknown key here: tool_scopes is a key of each routes entry"}},
		{name: "several at once, each reported", file: base + "providr: okta\nleewey: 5s\nroutes:\n  - pathh: /mcp\n    upstrem: builtin\n",
			want: []string{
				"DIR/gateway.yaml:3: providr: unknown key; did you mean provider?",
				"DIR/gateway.yaml:4: leewey: unknown key; did you mean leeway?",
				"DIR/gateway.yaml:6: routes[0].pathh: unknown key; did you mean path?",
				"DIR/gateway.yaml:7: routes[0].upstrem: unknown key; did you mean upstream?",
			}},
		{name: "inside MCPGW_ROUTES", env: []string{"MCPGW_PUBLIC_URL=https://a.example", "MCPGW_ISSUER=https://i.example",
			`MCPGW_ROUTES=[{"path":"/mcp","upstrem":"builtin"}]`},
			want: []string{"environment MCPGW_ROUTES: routes[0].upstrem: unknown key; did you mean upstream?"}},
		// Keys compare without case, as the decoder matches them.
		{name: "case-insensitive keys", file: "Public_URL: https://mcp.example.com\nISSUER: https://i.example\nroutes:\n  - Path: /mcp\n"},
		// Anchors and merge keys are YAML, not unknown keys.
		{name: "merge keys", file: base + "routes:\n  - &r {path: /a, upstream: builtin}\n  - <<: *r\n    path: /b\n"},
	} {
		t.Run(tc.name, tc.check)
	}
}

// TestUnknownVariables: an MCPGW_ variable that is no key is reported
// with its source, except names a *_env key points at.
func TestUnknownVariables(t *testing.T) {
	valid := []string{"MCPGW_PUBLIC_URL=https://a.example", "MCPGW_ISSUER=https://i.example"}
	env := func(extra ...string) []string { return append(slices.Clone(valid), extra...) }
	for _, tc := range []loadCase{
		{name: "environment typo", env: env("MCPGW_ISSUR=https://i.example"),
			want: []string{"environment MCPGW_ISSUR: unknown variable; did you mean MCPGW_ISSUER?"}},
		{name: ".env typo", env: env(), dotenv: "MCPGW_LEWAY=5s\n",
			want: []string{"DIR/.env MCPGW_LEWAY: unknown variable; did you mean MCPGW_LEEWAY?"}},
		{name: "lower case name is not read", env: env("MCPGW_leeway=5s"),
			want: []string{"environment MCPGW_leeway: unknown variable; did you mean MCPGW_LEEWAY?"}},
		{name: "nothing close", env: env("MCPGW_COLOUR=blue"),
			want: []string{"environment MCPGW_COLOUR: unknown variable: no configuration key has this name and no *_env key names it"}},
		{name: "nested key as a variable", env: env("MCPGW_ROUTES_0_PATH=/x"),
			want: []string{"environment MCPGW_ROUTES_0_PATH: unknown variable: routes is set as a whole, as YAML or JSON text in MCPGW_ROUTES"}},
		// identity_key_env and static_credential_env name variables of any name.
		{name: "named by a route's *_env key in the file", env: env("MCPGW_UPSTREAM_KEY="+strings.Repeat("k", 32), "MCPGW_UPSTREAM_TOKEN=t"),
			file: "routes:\n  - path: /a\n    upstream: https://a.example/mcp\n    identity: hmac\n    identity_key_env: MCPGW_UPSTREAM_KEY\n" +
				"  - path: /b\n    upstream: https://b.example/mcp\n    identity: static\n    static_credential_env: MCPGW_UPSTREAM_TOKEN\n"},
		{name: "named by a *_env key in MCPGW_ROUTES", env: env("MCPGW_TICKETS_KEY=x",
			`MCPGW_ROUTES=[{"path":"/t","upstream":"https://t.example/mcp","identity":"hmac","identity_key_env":"MCPGW_TICKETS_KEY"}]`)},
		{name: "other prefixes", env: env("MCPDCR_TABLE=regs", "MCPGWX=1", "OTHER_LISTEN=x")},
	} {
		t.Run(tc.name, tc.check)
	}
}

// TestDecodeProblems: a value of the wrong shape or syntax is reported
// under its key with its source, and hides no other problem; Validate's
// verdict on a key that did not decode is left out.
func TestDecodeProblems(t *testing.T) {
	for _, tc := range []loadCase{
		{name: "duration without a unit word", file: base + "leeway: 5 minutes\n",
			want: []string{`DIR/gateway.yaml:3: leeway: "5 minutes" is not a duration: write a number with a unit, such as 30s, 5m or 1h30m`}},
		{name: "number without a unit", file: base + "token_cache_ttl: 60\n",
			want: []string{"DIR/gateway.yaml:3: token_cache_ttl: 60 has no unit: write 60s for seconds (units: ms, s, m, h)"}},
		{name: "zero needs no unit", file: base + "stream_keepalive: 0\n"},
		{name: "list for a string", file: "public_url: https://mcp.example.com\nissuer: [https://a.example, https://b.example]\n",
			want: []string{"DIR/gateway.yaml:2: issuer: expects a string, got a list"}, notWant: []string{"issuer: is required"}},
		{name: "mapping for a list", file: base + "audiences: {a: b}\n",
			want: []string{"DIR/gateway.yaml:3: audiences: expects a list of strings, got a mapping"}},
		{name: "text for the routes", file: base + "routes: builtin\n",
			want: []string{`DIR/gateway.yaml:3: routes: expects a list of mappings, got "builtin"`}},
		{name: "list for a route's mapping", file: base + "routes:\n  - path: /mcp\n    env: [A, B]\n",
			want: []string{"DIR/gateway.yaml:5: routes[0].env: expects a mapping of names to strings, got a list"}},
		{name: "not a number", file: base + "max_token_bytes: 16k\n",
			want: []string{`DIR/gateway.yaml:3: max_token_bytes: "16k" is not a whole number`}},
		{name: "not a boolean", file: base + "insecure_allow_http_issuer: yes please\n",
			want: []string{`DIR/gateway.yaml:3: insecure_allow_http_issuer: "yes please" is not true or false`}},
		{name: "route duration", file: base + "routes:\n  - path: /mcp\n    timeout: forever\n",
			want: []string{`DIR/gateway.yaml:5: routes[0].timeout: "forever" is not a duration: write a number with a unit, such as 30s, 5m or 1h30m`}},
		// Text that does not parse hides no other problem.
		{name: "MCPGW_ROUTES is a mapping", env: []string{"MCPGW_ROUTES=path: /mcp", "MCPGW_ISSUR=x"},
			want: []string{
				"environment MCPGW_ISSUR: unknown variable; did you mean MCPGW_ISSUER?",
				"environment MCPGW_ROUTES: routes: must be YAML or JSON text of a list of mappings, not a mapping",
				"public_url: is required (the external base URL clients use)",
			}},
		{name: "environment duration", file: base, env: []string{"MCPGW_LEEWAY=soon"},
			want: []string{`environment MCPGW_LEEWAY: leeway: "soon" is not a duration: write a number with a unit, such as 30s, 5m or 1h30m`}},
		{name: "every kind at once", file: base + "providr: okta\nleeway: 5 minutes\nroutes:\n  - path: mcp\n",
			want: []string{
				"DIR/gateway.yaml:3: providr: unknown key; did you mean provider?",
				`DIR/gateway.yaml:4: leeway: "5 minutes" is not a duration: write a number with a unit, such as 30s, 5m or 1h30m`,
				`DIR/gateway.yaml:6: routes[0].path: "mcp" must start with /`,
			}},
	} {
		t.Run(tc.name, tc.check)
	}
}

// TestProblemSources: Validate's problems name where the value came from.
func TestProblemSources(t *testing.T) {
	for _, tc := range []loadCase{
		{name: "file line of a nested key", file: base + "routes:\n  - path: /mcp\n  - path: mcp/b\n",
			want: []string{`DIR/gateway.yaml:5: routes[1].path: "mcp/b" must start with /`}},
		{name: "map entry line", file: base + "routes:\n  - path: /mcp\n    tool_scopes:\n      ok: [a]\n      \"get*\": [\"a b\"]\n",
			want: []string{`DIR/gateway.yaml:7: routes[0].tool_scopes["get*"][0]: "a b" is not a valid scope token (RFC 6749 section 3.3)`}},
		{name: "environment overrides the file", file: base + "session_secret: " + strings.Repeat("s", 32) + "\n",
			env:  []string{"MCPGW_SESSION_SECRET=short"},
			want: []string{"environment MCPGW_SESSION_SECRET: session_secret: must be at least 32 bytes"}},
		{name: ".env", dotenv: "MCPGW_PUBLIC_URL=https://a.example\nMCPGW_ISSUER=http://i.example\n",
			want: []string{`DIR/.env MCPGW_ISSUER: issuer: "http://i.example" uses http outside loopback; use https (or set insecure_allow_http_issuer for a lab)`}},
		{name: "set nowhere", file: "public_url: https://mcp.example.com\n",
			want: []string{"issuer: is required (the iss of access tokens)"}},
	} {
		t.Run(tc.name, tc.check)
	}
}

// TestUnreadableInput: text that cannot be read at all is one problem
// naming its source.
func TestUnreadableInput(t *testing.T) {
	for _, tc := range []loadCase{
		{name: "YAML syntax", file: base + "routes: [\n",
			want: []string{"DIR/gateway.yaml:3: invalid YAML: did not find expected node content"}},
		{name: "duplicate key", file: base + "leeway: 5s\nleeway: 6s\n",
			want: []string{`DIR/gateway.yaml:4: invalid YAML: mapping key "leeway" already defined at line 3`}},
		{name: "not a mapping", file: "- a\n- b\n",
			want: []string{"DIR/gateway.yaml:1: the top level must be a mapping of configuration keys"}},
	} {
		t.Run(tc.name, tc.check)
	}
	_, err := Load(LoadOptions{File: "testdata/missing.yaml", Environ: []string{}, DotEnv: os.DevNull})
	if err == nil || !strings.HasPrefix(strings.Split(err.Error(), "\n")[1], "  testdata/missing.yaml: cannot read the configuration file: ") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestSuggest(t *testing.T) {
	keys := Keys()
	for _, tt := range []struct{ name, want string }{
		{"providr", "provider"},
		{"PROVIDER", "provider"},
		{"requried_scopes", "required_scopes"},
		{"public-url", "public_url"},
		{"publicUrl", "public_url"},
		{"leway", "leeway"},
		{"issuers", "issuer"},
		{"colour", ""},
		{"scopes", ""},
		{"x", ""},
	} {
		if got := suggest(tt.name, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "abc", 3}, {"abc", "abc", 0}, {"abc", "acb", 1}, {"kitten", "sitting", 3}, {"ca", "abc", 3}} {
		if got := editDistance(tt.a, tt.b); got != tt.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}

// TestProblemsOrder: unknown keys, then values that do not decode, then
// Validate's rules; each group by source (file lines first).
func TestProblemsOrder(t *testing.T) {
	tc := loadCase{file: base + "leeway: 5 minutes\nroutes:\n  - path: mcp\nprovidr: okta\n",
		env: []string{"MCPGW_ISSUR=x", "MCPGW_SESSION_SECRET=short"}}
	_, lines := tc.load(t)
	want := []string{
		"DIR/gateway.yaml:6: providr:",
		"environment MCPGW_ISSUR:",
		"DIR/gateway.yaml:3: leeway:",
		"DIR/gateway.yaml:5: routes[0].path:",
		"environment MCPGW_SESSION_SECRET:",
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n  %s", len(lines), len(want), strings.Join(lines, "\n  "))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want it to start with %q", i, lines[i], w)
		}
	}
}

// TestDCRUnknownKeys: mcp-dcr's loader shares the reading: file, line and
// suggestion, unknown MCPDCR_ variables, and its rules reported beside them
// (not hidden by them).
func TestDCRUnknownKeys(t *testing.T) {
	_, err := LoadDCR(LoadOptions{File: "testdata/dcr_typo.yaml",
		Environ: []string{"MCPDCR_TABEL=x", "MCPDCR_REGION=mars"}, DotEnv: os.DevNull})
	for _, want := range []string{
		"testdata/dcr_typo.yaml:6: alowed_scopes: unknown key; did you mean allowed_scopes?",
		"environment MCPDCR_TABEL: unknown variable; did you mean MCPDCR_TABLE?",
		`environment MCPDCR_REGION: region: "mars" is not an AWS region name such as us-east-1`,
	} {
		if err == nil || !strings.Contains(err.Error(), "\n  "+want+"\n") && !strings.HasSuffix(err.Error(), "\n  "+want) {
			t.Errorf("LoadDCR error %v does not list %q", err, want)
		}
	}
}
