package dcr

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// mustRules compiles p or fails the test.
func mustRules(t *testing.T, p Policy) *rules {
	t.Helper()
	r, err := p.compile()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRedirectURIsDefaultPolicy pins, for each URI, the rule that refuses it
// (by its message), so a case cannot pass by being refused for another reason.
func TestRedirectURIsDefaultPolicy(t *testing.T) {
	const (
		ok        = ""
		loopOnly  = "http is allowed only for loopback"
		notAdmit  = "not admitted by the registration policy"
		dotSeg    = "dot segments"
		numeric   = "canonical dotted-quad"
		trailDot  = "must not end with a dot"
		opaque    = "scheme:/path or scheme://authority/path"
		scheme    = "is not allowed"
		userinfo  = "user information"
		fragment  = "fragment"
		ascii     = "must be ASCII"
		spaces    = "spaces or control"
		wildcard  = "wildcards"
		encoded   = "percent-encode"
		badPct    = "malformed percent-encoding"
		emptyURI  = "must not be empty"
		tooLong   = "longer than 1024"
		portRange = "port must be 1-65535"
		emptyPort = "empty port"
		zone      = "zone"
		ipv6      = "IPv6 literal"
		needsHost = "needs a host"
		absolute  = "not an absolute URI"
		backslash = `'\\'`
		label     = "invalid host label"
	)
	tests := []struct{ uri, want string }{
		// Known clients (DESIGN.md).
		{"https://claude.ai/api/mcp/auth_callback", ok},
		{"https://claude.com/api/mcp/auth_callback", ok},
		{"http://localhost:53682/callback", ok},
		{"https://chatgpt.com/connector/oauth/c_abc123", ok},
		{"http://127.0.0.1:33418", ok},
		{"http://127.0.0.1:33418/any/path?x=1", ok},
		{"https://vscode.dev/redirect", ok},
		{"cursor://anysphere.cursor-mcp/oauth/callback", ok},
		{"cursor:/oauth/callback", ok},
		{"http://[::1]:8080/cb", ok},
		{"https://localhost:8443/cb", ok},
		{"https://CLAUDE.AI/api/mcp/auth_callback", ok}, // host case-insensitive; registered as sent
		{"HTTPS://claude.ai/api/mcp/auth_callback", ok},
		{"https://claude.ai:443/api/mcp/auth_callback", ok},
		// Look-alike loopback hosts.
		{"http://localhost.evil.com/cb", loopOnly},
		{"http://127.0.0.1.nip.io/", loopOnly},
		{"http://0.0.0.0/", loopOnly},
		{"http://127.0.0.2/cb", loopOnly},
		{"http://127.1/", numeric},
		{"http://0x7f000001/", numeric},
		{"http://2130706433/", numeric},
		{"http://localhost./cb", trailDot},
		{"http://[::ffff:127.0.0.1]/", ipv6},
		{"http://[::1%25eth0]/", zone},
		{"http://example.com/cb", loopOnly},
		// Look-alike known clients.
		{"https://claude.ai.evil.com/api/mcp/auth_callback", notAdmit},
		{"https://evilclaude.ai/api/mcp/auth_callback", notAdmit},
		{"https://claude.ai/api/mcp/auth_callback/x", notAdmit},
		{"https://claude.ai/api/mcp/auth_callback?next=https://evil", notAdmit},
		{"https://claude.ai:8443/api/mcp/auth_callback", notAdmit},
		{"https://xn--claud-dva.ai/api/mcp/auth_callback", notAdmit}, // punycode look-alike
		{"https://chatgpt.com/connector/oauth/", notAdmit},           // * needs a non-empty segment
		{"https://chatgpt.com/connector/oauth/a/b", notAdmit},        // * stays in one segment
		{"https://example.com/cb", notAdmit},                         // arbitrary https not admitted by default
		{"https://claude.ai./api/mcp/auth_callback", trailDot},
		{"https://claude.ai/api/mcp/auth_callback/../x", dotSeg},
		{"https://claude.ai/api/mcp/./auth_callback", dotSeg},
		{"https://claude.ai/api/mcp/%2e%2e/x", dotSeg},
		{"https://claude.ai/api/mcp/auth_callback%2fx", encoded},
		{"https://claude.ai/api/mcp/auth%2Ecallback", encoded},
		{"https://claude.ai/api/mcp/auth%5ccallback", encoded},
		{"https://claude.ai/api/mcp/auth%0acallback", encoded},
		{"https://claude.ai/api/%zz", badPct},
		{"https://claude.ai/api/%2", badPct},
		{"https://claude%2eai/api/mcp/auth_callback", absolute},
		{"https://claude.ai@evil.com/api/mcp/auth_callback", userinfo},
		{"https://user:pw@claude.ai/api/mcp/auth_callback", userinfo},
		{`https://claude.ai\@evil.com/`, backslash},
		{`https://claude.ai/api\mcp`, backslash},
		{"https://claudé.ai/api/mcp/auth_callback", ascii}, // IDN in Unicode form
		{"https://claude.ai/api/mcp/auth callback", spaces},
		{" https://claude.ai/api/mcp/auth_callback", spaces},
		{"https://claude.ai/api/mcp/auth_callback\n", spaces},
		{"https://claude.ai/api/mcp/auth_callback#", fragment},
		{"https://claude.ai/api/mcp/auth_callback#frag", fragment},
		{"https://*.claude.ai/api", wildcard},
		{"http://localhost:*/cb", wildcard},
		{"https://-claude.ai/", label},
		{"https://claude..ai/", label},
		// Schemes.
		{"javascript:alert(1)", opaque},
		{"javascript://claude.ai/%0aalert(1)", scheme},
		{"data:text/html,<script>", "must not contain '<'"},
		{"data:text/html;base64,PHNjcmlwdD4=", opaque},
		{"file:///etc/passwd", scheme},
		{"ftp://claude.ai/x", scheme},
		{"vscode://vscode.github-authentication/did-authenticate", scheme},
		{"cursor:callback", opaque},
		{"urn:ietf:wg:oauth:2.0:oob", opaque},
		// Structure.
		{"", emptyURI},
		{"/callback", absolute},
		{"//claude.ai/api/mcp/auth_callback", absolute},
		{"https:///api", needsHost},
		{"https:claude.ai/x", opaque},
		{"http://localhost:0/", portRange},
		{"http://localhost:65536/", portRange},
		{"http://localhost:/", emptyPort},
		{"http://localhost/" + strings.Repeat("a", 1024), tooLong},
	}
	r := mustRules(t, DefaultPolicy())
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			err := r.checkRedirectURIs([]string{tt.uri})
			checkRedirectErr(t, err, tt.want)
		})
	}
}

func checkRedirectErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	var be *bearer.Error
	if !errors.As(err, &be) || be.Status != http.StatusBadRequest || be.Code != CodeInvalidRedirectURI {
		t.Fatalf("err = %v, want a 400 invalid_redirect_uri", err)
	}
	if !strings.Contains(be.Description, want) {
		t.Fatalf("refused for %q, want the rule %q", be.Description, want)
	}
}

// TestRedirectURIsPolicyKnobs shows each admission knob widening or
// narrowing exactly what it says.
func TestRedirectURIsPolicyKnobs(t *testing.T) {
	operator := DefaultPolicy()
	operator.RedirectPatterns = []string{"https://*.corp.example/cb", "https://app.example:*/oauth/*/done", "https://q.example/cb?tenant=1"}
	noDefaults := operator
	noDefaults.DisableDefaultRedirects = true
	anyHTTPS := DefaultPolicy()
	anyHTTPS.InsecureAnyHTTPSRedirect = true
	schemes := DefaultPolicy()
	schemes.PrivateUseSchemes = []string{"com.example.app"}
	tests := []struct {
		name string
		p    Policy
		uri  string
		want string
	}{
		{"operator label glob", operator, "https://team1.corp.example/cb", ""},
		{"glob is one label", operator, "https://a.b.corp.example/cb", "not admitted"},
		{"glob needs a label", operator, "https://corp.example/cb", "not admitted"},
		{"glob host suffix only", operator, "https://team1.corp.example.evil/cb", "not admitted"},
		{"glob path exact", operator, "https://team1.corp.example/cb/x", "not admitted"},
		{"port star", operator, "https://app.example:9443/oauth/x/done", ""},
		{"port star no port", operator, "https://app.example/oauth/x/done", ""},
		{"segment glob", operator, "https://app.example/oauth/x/y/done", "not admitted"},
		{"query exact", operator, "https://q.example/cb?tenant=1", ""},
		{"query differs", operator, "https://q.example/cb?tenant=2", "not admitted"},
		{"query missing", operator, "https://q.example/cb", "not admitted"},
		{"defaults kept", operator, "https://claude.ai/api/mcp/auth_callback", ""},
		{"defaults disabled", noDefaults, "https://claude.ai/api/mcp/auth_callback", "not admitted"},
		{"defaults disabled keep operator", noDefaults, "https://x.corp.example/cb", ""},
		{"defaults disabled keep loopback", noDefaults, "http://localhost:1234/callback", ""},
		{"defaults disabled keep cursor", noDefaults, "cursor://anysphere.cursor-mcp/oauth/callback", ""},
		{"any https", anyHTTPS, "https://example.com/cb", ""},
		{"any https still structural", anyHTTPS, "https://example.com/cb#x", "fragment"},
		{"any https not http", anyHTTPS, "http://example.com/cb", "loopback"},
		{"reverse-DNS scheme", schemes, "com.example.app:/oauth2redirect", ""},
		{"cursor dropped", schemes, "cursor://anysphere.cursor-mcp/oauth/callback", "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRedirectErr(t, mustRules(t, tt.p).checkRedirectURIs([]string{tt.uri}), tt.want)
		})
	}
}

func TestRedirectURIList(t *testing.T) {
	r := mustRules(t, DefaultPolicy())
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("http://localhost:%d/callback", 1000+i)
	}
	checkRedirectErr(t, r.checkRedirectURIs(many[:100]), "")
	checkRedirectErr(t, r.checkRedirectURIs(many), "at most 100")
	checkRedirectErr(t, r.checkRedirectURIs([]string{"http://localhost:1/cb", "https://vscode.dev/redirect", "http://localhost:1/cb"}), "listed twice")
	checkRedirectErr(t, r.checkRedirectURIs([]string{"http://localhost:1/cb", "https://evil.example/cb"}), "not admitted")
}

func TestCompilePattern(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"https://*.corp.example/cb", ""},
		{"https://app-*.corp.example:*/oauth/*", ""},
		{"https://corp.example", ""},
		{"HTTPS://Corp.Example/cb", ""},
		{"http://corp.example/cb", "must start with https://"},
		{"cursor://x/y", "must start with https://"},
		{"https://*/cb", "two literal labels"},
		{"https://*.example/cb", "two literal labels"},
		{"https://corp.*/cb", "two literal labels"},
		{"https://a.corp.*/cb", "literal last label"},
		{"https://corp.example/cb#x", "'#'"},
		{"https://u@corp.example/cb", "'@'"},
		{"https://corp.example/%2e", "'%'"},
		{"https://[::1]/cb", "'['"},
		{"https://corp.example/a/../b", "dot segments"},
		{"https://corp.example/cb?x=*", "query"},
		{"https://corp.example:0/cb", "port"},
		{"https://corp.example:x/cb", "port"},
		{"https://corp..example/cb", "empty host label"},
		{"https://corp_x.example/cb", "host labels may contain"},
		{"https:///cb", "needs a host"},
	}
	for _, tt := range tests {
		_, err := compilePattern(tt.pattern)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("compilePattern(%q) = %v", tt.pattern, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("compilePattern(%q) = %v, want %q", tt.pattern, err, tt.want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"*", "x", true},
		{"*", "", false},
		{"app-*", "app-1", true},
		{"app-*", "app-", false},
		{"*-prod", "eu-prod", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"a*c", "abcbc", true},
		{"", "", true},
		{"", "a", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pat, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}

// FuzzRedirectURI checks invariants of every URI the default policy admits:
// http only to loopback literals, https only to known clients or loopback,
// otherwise the cursor scheme; never a fragment, userinfo or backslash.
func FuzzRedirectURI(f *testing.F) {
	for _, s := range []string{claudeCB, "http://localhost:1/cb", "cursor://anysphere.cursor-mcp/oauth/callback",
		"https://chatgpt.com/connector/oauth/x", "http://127.0.0.1.nip.io/", "https://claude.ai@evil.com/"} {
		f.Add(s)
	}
	r, err := DefaultPolicy().compile()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if r.checkRedirectURIs([]string{raw}) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.User != nil || u.Fragment != "" || strings.ContainsAny(raw, "#\\ ") {
			t.Fatalf("admitted %q", raw)
		}
		host := strings.ToLower(u.Hostname())
		switch u.Scheme {
		case "http":
			if !isLoopback(host) {
				t.Fatalf("admitted non-loopback http %q", raw)
			}
		case "https":
			if !isLoopback(host) && host != "claude.ai" && host != "claude.com" && host != "chatgpt.com" && host != "vscode.dev" {
				t.Fatalf("admitted unknown https host %q", raw)
			}
		case "cursor":
		default:
			t.Fatalf("admitted scheme %q", raw)
		}
	})
}
