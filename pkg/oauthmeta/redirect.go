package oauthmeta

import (
	"net/url"
	"strings"
)

// RedirectURIMatches reports whether the redirect_uri a client sent (got)
// matches one it registered (registered) under RFC 6749 §3.1.2.3 simple
// string comparison, with the one exception of RFC 8252 §7.3: when the
// registered URI is a loopback IP literal URI (http://127.0.0.1 or
// http://[::1]) or http://localhost (RFC 8252 §8.3 discourages localhost but
// clients such as Claude Code register it) and names no port, got may use any
// port and must otherwise equal it byte for byte (scheme, host, path and query
// included). A registered URI that names a port must match exactly, port
// included. It does not check that got is a valid redirect URI otherwise
// (fragment, scheme policy): registration rules do that.
func RedirectURIMatches(registered, got string) bool {
	if registered == got {
		return true
	}
	reg, ok := portlessLoopback(registered)
	if !ok {
		return false
	}
	u, err := url.Parse(got)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Port() == "" || u.Opaque != "" {
		return false
	}
	// got with its port removed must equal the registered URI exactly.
	host := u.Host[:len(u.Host)-len(u.Port())-1]
	rest := strings.TrimPrefix(got, "http://"+u.Host)
	return rest != got && "http://"+host+rest == reg
}

// RedirectURIListed reports whether got matches any of registered under
// [RedirectURIMatches].
func RedirectURIListed(registered []string, got string) bool {
	for _, r := range registered {
		if RedirectURIMatches(r, got) {
			return true
		}
	}
	return false
}

// portlessLoopback returns raw when it is an http URI on a loopback host
// (127.0.0.1, [::1] or localhost) with no port, the form RFC 8252 §7.3 lets
// match any port.
func portlessLoopback(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Opaque != "" || u.Port() != "" ||
		strings.HasSuffix(u.Host, ":") {
		return "", false
	}
	switch u.Host {
	case "127.0.0.1", "[::1]", "localhost":
		return raw, true
	}
	return "", false
}
