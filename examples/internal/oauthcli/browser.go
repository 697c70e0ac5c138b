package oauthcli

import (
	"os/exec"
	"runtime"
)

// OpenBrowser starts the system browser on u (open on macOS, rundll32 on
// Windows, xdg-open elsewhere) and does not wait for it. It reports only
// whether the command started: NOT whether a browser window showed u.
func OpenBrowser(u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// startBrowser is what Steps.Open calls; tests replace it.
var startBrowser = OpenBrowser

// Open prints authURL as "open: <url>" on its own line (what users and
// tests look for) and, when browser is true, starts the system browser on
// it. A browser that cannot start is reported as a detail line, not an
// error: the user can still open the printed URL.
func (s *Steps) Open(authURL string, browser bool) {
	s.Line("open: %s", authURL)
	if !browser {
		return
	}
	if err := startBrowser(authURL); err != nil {
		s.Detail("could not start a browser (%v): open the URL above yourself", err)
	}
}
