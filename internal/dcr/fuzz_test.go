package dcr

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// fuzzPolicies are the policies the fuzz targets pick from by a byte:
// the default, an operator's (own patterns, another private-use scheme,
// client_credentials, resource-server scopes), and open https
// registration.
func fuzzPolicies(f *testing.F) []*rules {
	op := DefaultPolicy()
	op.RedirectPatterns = []string{"https://*.corp.example/cb/*", "https://app.example:*/oauth?x=1"}
	op.DisableDefaultRedirects = true
	op.PrivateUseSchemes = []string{"com.example.app"}
	op.AllowClientCredentials = true
	op.AllowedScopes = []string{"openid", "mcp/tools", "mcp/admin"}
	op.DefaultScopes = []string{"mcp/tools"}
	open := DefaultPolicy()
	open.InsecureAnyHTTPSRedirect = true
	var out []*rules
	for _, p := range []Policy{DefaultPolicy(), op, open} {
		r, err := p.compile()
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// admittedHTTPS is the oracle of each fuzz policy for an https redirect
// URI on a host that is not loopback, written from the policy's documented
// meaning (Policy.RedirectPatterns), not from pattern.go.
func admittedHTTPS(policy int, u *url.URL) bool {
	host, path := strings.ToLower(u.Hostname()), u.EscapedPath()
	noQuery := u.RawQuery == "" && !u.ForceQuery
	defaultPort := u.Port() == "" || u.Port() == "443"
	switch policy {
	case 0:
		last, ok := strings.CutPrefix(path, "/connector/oauth/")
		return noQuery && defaultPort && (path == "/api/mcp/auth_callback" && (host == "claude.ai" || host == "claude.com") ||
			host == "vscode.dev" && path == "/redirect" || host == "chatgpt.com" && ok && last != "" && !strings.Contains(last, "/"))
	case 1:
		labels := strings.Split(host, ".")
		last, ok := strings.CutPrefix(path, "/cb/")
		return noQuery && defaultPort && len(labels) == 3 && labels[0] != "" && labels[1] == "corp" && labels[2] == "example" &&
			ok && last != "" && !strings.Contains(last, "/") ||
			host == "app.example" && path == "/oauth" && u.RawQuery == "x=1"
	}
	return true
}

// checkAdmitted fails unless raw meets the structural rules of
// parseRedirect's doc (re-checked here from RFC 3986 and net/url) and the
// policy's admission rules.
func checkAdmitted(t *testing.T, policy int, r *rules, raw string) {
	t.Helper()
	fail := func(why string) { t.Helper(); t.Fatalf("policy %d admitted redirect URI %q: %s", policy, raw, why) }
	if raw == "" || len(raw) > maxRedirectURILen {
		fail("empty or too long")
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("#*\\\"<>^`{|}", c) >= 0 {
			fail("a character outside RFC 3986, a fragment or a wildcard")
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.User != nil || u.Opaque != "" || u.Fragment != "" {
		fail("not an absolute URI without user information and fragment")
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			fail("a dot segment")
		}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			fail("a port outside 1-65535")
		}
	}
	loopback := u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1" || u.Hostname() == "::1"
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		if !slices.Contains(r.PrivateUseSchemes, u.Scheme) {
			fail("a scheme the policy does not list")
		}
	case u.Host == "":
		fail("no host")
	case loopback:
	case u.Scheme == "http":
		fail("http on a host that is not loopback")
	case !admittedHTTPS(policy, u):
		fail("an https URI the policy does not admit")
	}
}

// FuzzRedirectURIPolicy feeds arbitrary redirect URIs to checkRedirectURIs (RFC
// 7591 §2, RFC 8252 §7, RFC 9700 §4.1) under each fuzz policy. Properties:
// no panic; a refusal is a 400 invalid_redirect_uri; an admitted URI meets
// every structural rule (no fragment, wildcard, userinfo, dot segment,
// control or non-ASCII byte, port 1-65535) and the policy's admission
// rules, both re-checked independently; a list holding it twice is
// refused. FuzzRedirectURI checks the default policy alone, more coarsely.
// Seeds: testdata/fuzz/FuzzRedirectURIPolicy.
func FuzzRedirectURIPolicy(f *testing.F) {
	policies := fuzzPolicies(f)
	f.Fuzz(func(t *testing.T, raw string, policy uint8) {
		i := int(policy) % len(policies)
		r := policies[i]
		err := r.checkRedirectURIs([]string{raw})
		if err != nil {
			var be *bearer.Error
			if !errors.As(err, &be) || be.Status != http.StatusBadRequest || be.Code != CodeInvalidRedirectURI {
				t.Fatalf("refusal of %q is not a 400 invalid_redirect_uri: %v", raw, err)
			}
			return
		}
		checkAdmitted(t, i, r, raw)
		if r.checkRedirectURIs([]string{raw, raw}) == nil {
			t.Fatalf("a duplicate %q was admitted", raw)
		}
	})
}

// FuzzClientMetadata feeds arbitrary registration request bodies, decoded as
// the registration endpoint does (httpapi: one JSON object, json.Unmarshal
// into ClientMetadata), to normalize, the rules Service.Register applies
// (RFC 7591 §2, §3.2.2), under each fuzz policy. Properties: no panic; a
// refusal is a 400 invalid_client_metadata or invalid_redirect_uri; the
// accepted metadata keep only supported values (auth method, grant and
// response types, application_type, scopes within the policy, bounded
// text), every redirect URI is admitted (checkAdmitted), and the metadata,
// marshaled as the response echoes them and registered again, normalize
// to the same metadata and app client. Seeds:
// testdata/fuzz/FuzzClientMetadata.
func FuzzClientMetadata(f *testing.F) {
	policies := fuzzPolicies(f)
	f.Fuzz(func(t *testing.T, body []byte, policy uint8) {
		i := int(policy) % len(policies)
		r := policies[i]
		var md ClientMetadata
		if !strings.HasPrefix(strings.TrimLeft(string(body), " \t\r\n"), "{") || json.Unmarshal(body, &md) != nil {
			return
		}
		n, err := r.normalize(md, "")
		if err != nil {
			var be *bearer.Error
			if !errors.As(err, &be) || be.Status != http.StatusBadRequest ||
				be.Code != CodeInvalidClientMetadata && be.Code != CodeInvalidRedirectURI {
				t.Fatalf("refusal of %s is not a 400 RFC 7591 error: %v", body, err)
			}
			return
		}
		checkNormalized(t, i, r, n)
		echoed, err := json.Marshal(n.md)
		if err != nil {
			t.Fatal(err)
		}
		var md2 ClientMetadata
		if err := json.Unmarshal(echoed, &md2); err != nil {
			t.Fatal(err)
		}
		n2, err := r.normalize(md2, "")
		if err != nil {
			t.Fatalf("accepted %s as %s, which is refused: %v", body, echoed, err)
		}
		// An empty list and an absent one mean the same: compare as echoed.
		again, _ := json.Marshal(n2.md)
		if !bytes.Equal(again, echoed) || n2.public != n.public || !sameSpec(n2.spec, n.spec) {
			t.Fatalf("accepted %s as %s, which normalizes to %s, %+v", body, echoed, again, n2.spec)
		}
	})
}

// checkNormalized checks accepted metadata against normalize's documented
// rules.
func checkNormalized(t *testing.T, policy int, r *rules, n *normalized) {
	t.Helper()
	md := n.md
	fail := func(why string) { t.Helper(); t.Fatalf("policy %d accepted %+v: %s", policy, md, why) }
	switch md.TokenEndpointAuthMethod {
	case AuthMethodNone, AuthMethodSecretBasic, AuthMethodSecretPost:
	default:
		fail("an unsupported token_endpoint_auth_method")
	}
	if n.public != (md.TokenEndpointAuthMethod == AuthMethodNone) || n.spec.GenerateSecret == n.public {
		fail("public and the secret disagree with the auth method")
	}
	code := []string{GrantAuthorizationCode}
	switch {
	case slices.Equal(md.GrantTypes, []string{GrantClientCredentials}):
		if !r.AllowClientCredentials || n.public || len(md.RedirectURIs) > 0 || len(md.ResponseTypes) > 0 {
			fail("a client_credentials client the rules refuse")
		}
	case slices.Equal(md.GrantTypes, code), slices.Equal(md.GrantTypes, []string{GrantAuthorizationCode, GrantRefreshToken}):
		if !slices.Equal(md.ResponseTypes, []string{ResponseTypeCode}) || len(md.RedirectURIs) == 0 {
			fail("a code-flow client without response_types [code] or redirect_uris")
		}
	default:
		fail("unsupported grant_types")
	}
	if len(md.RedirectURIs) > maxRedirectURIs {
		fail("too many redirect_uris")
	}
	for i, u := range md.RedirectURIs {
		if slices.Contains(md.RedirectURIs[:i], u) {
			fail("a duplicate redirect URI")
		}
		checkAdmitted(t, policy, r, u)
		if p, _ := url.Parse(u); md.ApplicationType == ApplicationTypeWeb && (p.Scheme != "https" || isLoopback(p.Hostname())) {
			fail("application_type web with a native redirect URI")
		}
	}
	if md.ApplicationType != ApplicationTypeNative && md.ApplicationType != ApplicationTypeWeb {
		fail("an unsupported application_type")
	}
	scopes := strings.Fields(md.Scope)
	if len(scopes) == 0 || strings.Join(scopes, " ") != md.Scope || !slices.Equal(scopes, n.spec.Scopes) {
		fail("an empty or unnormalized scope")
	}
	for i, s := range scopes {
		if !slices.Contains(r.AllowedScopes, s) || slices.Contains(scopes[:i], s) {
			fail("a scope outside the policy, or twice")
		}
	}
	for _, s := range append([]string{md.ClientName, md.SoftwareID, md.SoftwareVersion}, md.Contacts...) {
		if len(s) > maxTextLen || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			fail("unbounded text or a control character")
		}
	}
	for _, s := range []string{md.ClientURI, md.LogoURI, md.TosURI, md.PolicyURI} {
		if p, err := url.Parse(s); s != "" && (err != nil || p.User != nil || p.Host == "" ||
			p.Scheme != "https" && !(p.Scheme == "http" && isLoopback(p.Hostname()))) {
			fail("an informational URI that is not https")
		}
	}
}
