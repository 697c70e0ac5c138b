package oauthmeta_test

import (
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// loopbackHosts are the hosts RFC 8252 §7.3 (and this project) let a
// registered portless http redirect URI match on any port.
var loopbackHosts = []string{"127.0.0.1", "[::1]", "localhost"}

// portVariant is the oracle of RedirectURIMatches' one exception, written
// without net/url: registered is "http://" + a loopback host + rest, where
// rest is empty or starts the path, query or fragment, and got is the same
// with ":" and a non-empty decimal port after the host.
func portVariant(registered, got string) bool {
	for _, h := range loopbackHosts {
		prefix := "http://" + h
		rest, ok := strings.CutPrefix(registered, prefix)
		if !ok || rest != "" && !strings.ContainsRune("/?#", rune(rest[0])) {
			continue
		}
		port, ok := strings.CutPrefix(got, prefix+":")
		if !ok {
			continue
		}
		port, ok = strings.CutSuffix(port, rest)
		if ok && port != "" && strings.Trim(port, "0123456789") == "" {
			return true
		}
	}
	return false
}

// FuzzRedirectURIMatches checks RedirectURIMatches (RFC 6749 §3.1.2.3 simple
// string comparison, RFC 8252 §7.3 any port on a portless loopback URI) on
// arbitrary pairs. Properties: it never panics; every URI matches itself;
// two different URIs match only as portVariant says (so a URI that is not
// http on a loopback host without a port matches only itself, byte for
// byte); matching is antisymmetric (a, b and b, a both match only when a
// == b); RedirectURIListed agrees with it. Seeds:
// testdata/fuzz/FuzzRedirectURIMatches.
func FuzzRedirectURIMatches(f *testing.F) {
	f.Fuzz(func(t *testing.T, registered, got string) {
		m := oauthmeta.RedirectURIMatches(registered, got)
		if !oauthmeta.RedirectURIMatches(registered, registered) || !oauthmeta.RedirectURIMatches(got, got) {
			t.Fatalf("a URI does not match itself: %q or %q", registered, got)
		}
		if m && registered != got && !portVariant(registered, got) {
			t.Fatalf("%q matched registered %q, which is not the same URI with a port", got, registered)
		}
		if m && registered != got && oauthmeta.RedirectURIMatches(got, registered) {
			t.Fatalf("%q and %q match both ways", registered, got)
		}
		if oauthmeta.RedirectURIListed([]string{registered}, got) != m {
			t.Fatalf("RedirectURIListed disagrees on %q, %q", registered, got)
		}
		other := oauthmeta.RedirectURIMatches("https://client.example/cb", got)
		if oauthmeta.RedirectURIListed([]string{"https://client.example/cb", registered}, got) != (m || other) {
			t.Fatalf("RedirectURIListed of two entries disagrees on %q, %q", registered, got)
		}
	})
}
