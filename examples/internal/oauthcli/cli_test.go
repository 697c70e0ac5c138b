package oauthcli

import (
	"context"
	"errors"
	"flag"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// errMatches reports whether err is nil when want is "", else whether it
// contains want.
func errMatches(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && strings.Contains(err.Error(), want)
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		in, wantErr string
		wantLen     int
	}{
		{in: `{}`},
		{in: `{"message":"hi","n":1}`, wantLen: 2},
		{in: `[1]`, wantErr: `--args "[1]": want a JSON object`},
		{in: `null`, wantErr: "want a JSON object"},
		{in: `1`, wantErr: "want a JSON object"},
		{in: `{`, wantErr: "want a JSON object"},
	}
	for _, tc := range tests {
		got, err := parseArgs(tc.in)
		if !errMatches(err, tc.wantErr) || (err == nil && (got == nil || len(got) != tc.wantLen)) {
			t.Errorf("parseArgs(%q) = %v, %v; want %d members or %q", tc.in, got, err, tc.wantLen, tc.wantErr)
		}
	}
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: ""},
		{in: "mcp:tools, mcp:read offline_access\topenid", want: []string{"mcp:tools", "mcp:read", "offline_access", "openid"}},
		{in: `a"b`, wantErr: `--scopes: "a\"b" is not a valid scope (RFC 6749 §3.3)`},
		{in: `x\y`, wantErr: "not a valid scope"},
	}
	for _, tc := range tests {
		got, err := parseScopes(tc.in)
		if !errMatches(err, tc.wantErr) || !slices.Equal(got, tc.want) {
			t.Errorf("parseScopes(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestFlags parses the shared flags as an example does: defaults, values,
// and Check's refusals.
func TestFlags(t *testing.T) {
	tests := []struct {
		name    string
		argv    []string
		want    Flags
		wantErr string
	}{
		{name: "defaults", want: Flags{Args: map[string]any{}, RedirectPort: 8765, Timeout: 5 * time.Minute}},
		{name: "all set", argv: []string{"--url", "u", "--tool", "echo", "--args", `{"m":"x"}`, "--scopes", "a,b", "--no-browser", "--redirect-port", "0", "--timeout", "1s"},
			want: Flags{URL: "u", Tool: "echo", Args: map[string]any{"m": "x"}, Scopes: []string{"a", "b"}, NoBrowser: true, Timeout: time.Second}},
		{name: "bad args", argv: []string{"--args", "[]"}, wantErr: "want a JSON object"},
		{name: "bad scope", argv: []string{"--scopes", `a"b`}, wantErr: "not a valid scope"},
		{name: "port out of range", argv: []string{"--redirect-port", "70000"}, wantErr: "--redirect-port 70000: out of range"},
		{name: "negative port", argv: []string{"--redirect-port", "-1"}, wantErr: "out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f Flags
			fs := f.FlagSet("x", io.Discard, FlagHelp{URL: "the URL", Scopes: "the scopes", RedirectPort: "the port", DefaultPort: 8765})
			if err := Parse(fs, tc.argv); err != nil {
				t.Fatal(err)
			}
			err := f.Check()
			if !errMatches(err, tc.wantErr) {
				t.Fatalf("Check = %v, want %q", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if f.URL != tc.want.URL || f.Tool != tc.want.Tool || f.NoBrowser != tc.want.NoBrowser || f.RedirectPort != tc.want.RedirectPort ||
				f.Timeout != tc.want.Timeout || !slices.Equal(f.Scopes, tc.want.Scopes) || !maps.Equal(f.Args, tc.want.Args) {
				t.Errorf("flags = %+v, want %+v", f, tc.want)
			}
		})
	}
	// The per-example help texts reach the usage output.
	var usage strings.Builder
	fs := new(Flags).FlagSet("x", &usage, FlagHelp{URL: "URL-HELP", Scopes: "SCOPES-HELP", RedirectPort: "PORT-HELP", DefaultPort: 8765})
	if err := Parse(fs, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	if err := Parse(fs, []string{"stray"}); err == nil || !strings.Contains(err.Error(), `unexpected arguments ["stray"]`) {
		t.Errorf("positional argument: %v", err)
	}
	for _, want := range []string{"URL-HELP", "SCOPES-HELP", "PORT-HELP (default 8765)", `"open: <url>"`, "(default 5m0s)"} {
		if !strings.Contains(usage.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, usage.String())
		}
	}
}

func TestUsageStatus(t *testing.T) {
	var stderr strings.Builder
	if code := UsageStatus("x-client", &stderr, flag.ErrHelp); code != ExitOK || stderr.Len() != 0 {
		t.Errorf("--help: exit %d, stderr %q; want 0 and nothing more", code, stderr.String())
	}
	if code := UsageStatus("x-client", &stderr, errors.New("--url is required")); code != ExitUsage || stderr.String() != "x-client: --url is required\n" {
		t.Errorf("bad flag: exit %d, stderr %q", code, stderr.String())
	}
}

func TestRun(t *testing.T) {
	hint := func(err error) string {
		if strings.Contains(err.Error(), "refused") {
			return "is it up?"
		}
		return ""
	}
	tests := []struct {
		name       string
		hint       func(error) string
		err        error
		wantCode   int
		wantStderr string
	}{
		{name: "success", err: nil, hint: hint, wantCode: ExitOK},
		{name: "failure with hint", err: errors.New("connection refused"), hint: hint, wantCode: ExitFailed,
			wantStderr: "x-client: FAILED: connection refused\nx-client: hint: is it up?\n"},
		{name: "failure without hint", err: errors.New("other"), hint: hint, wantCode: ExitFailed, wantStderr: "x-client: FAILED: other\n"},
		{name: "no hint function", err: errors.New("connection refused"), wantCode: ExitFailed, wantStderr: "x-client: FAILED: connection refused\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			code := Run("x-client", &stderr, time.Hour, tc.hint, func(context.Context) error { return tc.err })
			if code != tc.wantCode || stderr.String() != tc.wantStderr {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr.String(), tc.wantCode, tc.wantStderr)
			}
		})
	}

	t.Run("timeout cancels the context", func(t *testing.T) {
		var stderr strings.Builder
		code := Run("x-client", &stderr, time.Nanosecond, nil, func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})
		if code != ExitFailed || !strings.Contains(stderr.String(), "context deadline exceeded") {
			t.Errorf("exit %d, stderr %q", code, stderr.String())
		}
	})
}
