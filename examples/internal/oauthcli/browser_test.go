package oauthcli

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// TestOpen checks the prompt: "open: <url>" on its own line always, the
// browser started only when asked, and a browser that fails to start
// reported as a detail rather than an error.
func TestOpen(t *testing.T) {
	const u = "https://as.example/authorize?client_id=c"
	tests := []struct {
		name       string
		browser    bool
		startErr   error
		wantStarts int
		wantDetail bool
	}{
		{name: "no browser", browser: false},
		{name: "browser", browser: true, wantStarts: 1},
		{name: "browser fails", browser: true, startErr: errors.New("no display"), wantStarts: 1, wantDetail: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var started []string
			startBrowser = func(u string) error { started = append(started, u); return tc.startErr }
			t.Cleanup(func() { startBrowser = OpenBrowser })
			var out strings.Builder
			NewSteps(&out).Open(u, tc.browser)
			if !strings.HasPrefix(out.String(), "open: "+u+"\n") {
				t.Errorf("output does not start with the open line:\n%s", out.String())
			}
			if len(started) != tc.wantStarts || (tc.wantStarts > 0 && started[0] != u) {
				t.Errorf("browser started with %q, want %d start(s) on %s", started, tc.wantStarts, u)
			}
			if got := strings.Contains(out.String(), "could not start a browser (no display)"); got != tc.wantDetail {
				t.Errorf("failure detail shown = %t, want %t:\n%s", got, tc.wantDetail, out.String())
			}
		})
	}
}

// TestOpenBrowser runs OpenBrowser against a fake xdg-open on PATH and
// checks it is started with the URL as its only argument.
func TestOpenBrowser(t *testing.T) {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Skip("the fake browser is an xdg-open shell script")
	}
	dir := t.TempDir()
	got := filepath.Join(dir, "got")
	script := "#!/bin/sh\nprintf '%s' \"$*\" > " + got + "\n" // builtins only: PATH holds just dir
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	const u = "http://127.0.0.1:1/authorize?a=1&b=2"
	if err := OpenBrowser(u); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { b, _ := os.ReadFile(got); return string(b) == u }, "the fake xdg-open to get "+u)

	t.Setenv("PATH", t.TempDir()) // no xdg-open at all
	if err := OpenBrowser(u); err == nil {
		t.Error("OpenBrowser without a browser command: no error")
	}
}
