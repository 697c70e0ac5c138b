package doctor

import (
	"context"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
)

func TestInternetProblem(t *testing.T) {
	for raw, want := range map[string]string{
		"https://gw.example.com":        "",
		"https://gw.example.com:8443/x": "",
		"https://203.0.113.7":           "",
		"http://gw.example.com":         "is not https",
		"http://127.0.0.1:8080":         "is loopback",
		"https://localhost:8443":        "is loopback",
		"https://[::1]:8443":            "is loopback",
		"https://10.1.2.3":              "is a private address",
		"https://192.168.1.10":          "is a private address",
		"https://172.16.0.1":            "is a private address",
		"https://100.64.0.1":            "is a private address",
		"https://[fd00::1]":             "is a private address",
		"https://169.254.169.254":       "is not a routable address",
		"https://0.0.0.0":               "is not a routable address",
		"https://gateway":               "is a local name",
		"https://gw.corp.internal":      "is a local name",
		"https://printer.local":         "is a local name",
		"https://box.home.arpa":         "is a local name",
		"/relative":                     "is not an absolute URL",
	} {
		got := internetProblem(raw)
		if (want == "") != (got == "") || !strings.HasPrefix(got, want) {
			t.Errorf("internetProblem(%q) = %q, want %q", raw, got, want)
		}
	}
}

// TestHostedClients: claude.ai and ChatGPT connect from the internet, so a
// public_url they cannot reach fails them, with the fix; the desktop
// clients are unaffected. The authorization server here is public (a named
// https host), so only public_url decides.
func TestHostedClients(t *testing.T) {
	_, issuer := fakeIdP{rfc8414: true, oidc: true, meta: complete}.start(t)
	for publicURL, why := range map[string]string{
		"http://127.0.0.1:8080":    "public_url http://127.0.0.1:8080 is loopback (127.0.0.1)",
		"https://10.0.0.5":         "public_url https://10.0.0.5 is a private address",
		"http://gw.example.com":    "public_url http://gw.example.com is not https",
		"https://gw.corp.internal": "is a local name",
		"https://gw.example.com":   "",
	} {
		t.Run(publicURL, func(t *testing.T) {
			r := Run(context.Background(), loaded(issuer, func(c *config.Config) { c.PublicURL = publicURL }), testOpts())
			for _, p := range r.Clients {
				hosted := p.Client == ClientClaudeAI || p.Client == ClientChatGPT
				switch {
				case hosted && why != "":
					if p.Outcome != Fail || !strings.Contains(p.Why, why) || !strings.Contains(p.Why, "tunnel") {
						t.Errorf("%s = %+v, want FAIL naming %q and a tunnel", p.Client, p, why)
					}
				case p.Outcome != OK:
					t.Errorf("%s = %+v, want OK", p.Client, p)
				}
			}
			if r.Failed() {
				t.Errorf("Failed() = true: an unreachable public_url fails predictions, not checks: %+v", r.Checks)
			}
		})
	}
}
