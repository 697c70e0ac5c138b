package authz

import (
	"testing"
)

// TestNormalURI: RFC 3986's own examples of equivalent URIs (§6.2.2,
// §6.2.3) normalize to one string.
func TestNormalURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"eXAMPLE://a/./b/../b/%63/%7bfoo%7d", "example://a/b/c/%7Bfoo%7D"}, // §6.2.2
		{"HTTP://www.Example.com/", "http://www.example.com/"},              // §6.2.2.1
		{"http://example.com/%7Esmith/", "http://example.com/~smith/"},      // §6.2.2.2
		{"http://example.com/%7esmith/", "http://example.com/~smith/"},
		{"http://example.com", "http://example.com/"}, // §6.2.3
		{"http://example.com:/", "http://example.com/"},
		{"http://example.com:80/", "http://example.com/"},
		{"https://example.com:0443/a", "https://example.com/a"},
		{"https://example.com:8443/a", "https://example.com:8443/a"},
		{"http://[::1]:80/a", "http://[::1]/a"},
		{"http://[::1]/a", "http://[::1]/a"},
		{"mailto:Joe@Example.COM", "mailto:Joe@Example.COM"}, // opaque: path untouched
		{"urn:x:../y", "urn:x:../y"},
		{"file:///a/%2f/b", "file:///a/%2F/b"}, // reserved: kept encoded
		{"%zz", "%zz"},
		{"/a/b/../../../c", "/c"},
		{"http://u%7eser@H%4fST/a?Q=%7e#F%7e", "http://u~ser@host/a?Q=~#F~"},
	}
	for _, tt := range tests {
		if got := normalURI(tt.in); got != tt.want {
			t.Errorf("normalURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestResourceSpellings: a resource rule applies to every spelling an
// upstream may treat as the rule's resource (RFC 3986 §6.2.2 and §6.2.3,
// the WHATWG URL parser the TypeScript SDK uses, servers that decode a
// path before resolving it), and to no other resource. Patterns are
// normalized the same way. The cases marked new passed the old
// dot-segments-only matching unrestricted.
func TestResourceSpellings(t *testing.T) {
	rs, err := compileRules("resource", map[string][]string{
		"file:///secret/*":                        {"res:secret"},
		"https://example.com/secret/*":            {"res:secret"},
		"HTTPS://Docs.Example.COM:443/%7eadmin/*": {"res:secret"},
		"db://Host/secret/*":                      {"res:secret"},
	}, uriPatternViews)
	if err != nil {
		t.Fatal(err)
	}
	restricted := []string{
		"file:///secret/b",
		"file:///secret/{x}",
		"file:///public/../secret/b",
		"file:///pub%2F..%2Fsecret/b",
		"FILE:///secret/b",                                    // new: scheme case
		"File:///secret/b",                                    // new
		"https://EXAMPLE.com/secret/c",                        // new: host case
		"HTTPS://Example.Com/secret/c",                        // new
		"https://ex%41mple.com/secret/c",                      // new: unreserved in host
		"https://example.com:443/secret/c",                    // new: default port
		"https://example.com:0443/secret/c",                   // new
		"https://example.com:/secret/c",                       // new: empty port
		"file:///%73ecret/b",                                  // new: unreserved decoded
		"file:///%73%65cret/b",                                // new
		"file:///public/%2e%2E/secret/b",                      // encoded dot segments
		"https://example.com/public/.%2E/secret/c",            //
		"file:///./secret/b",                                  //
		"https://example.com/secret%2Fc",                      // new: decoded before resolving
		"file://localhost/secret/b",                           // new: RFC 8089
		"file:/secret/b",                                      // new: WHATWG
		"file:secret/b",                                       // new
		"https:example.com/secret/c",                          // new
		"https:/example.com/secret/c",                         // new
		"https:///example.com/secret/c",                       // new
		"https:\\\\example.com\\secret\\c",                    // new: WHATWG "\" is "/"
		"file:///public\\..\\secret\\b",                       // new
		"file:///secr\tet/b",                                  // new: WHATWG drops tabs
		"file:///se\ncret/b",                                  // new
		" file:///secret/b",                                   // new: WHATWG trims
		"file:////secret/b",                                   // new: repeated slashes
		"https://docs.example.com/~admin/x",                   // new: pattern normalized
		"https://docs.example.com/%7Eadmin/x",                 // new
		"HTTPS://DOCS.EXAMPLE.COM:443/%7eadmin/../%7Eadmin/x", // new
		"DB://host/secret/x",                                  // new: non-special scheme, host case
		"db://h%4Fst/./secret/x",                              // new
	}
	open := []string{
		"file:///public/a",
		"file:///secrets/b",
		"file:///Secret/b", // paths are case-sensitive
		"file:///secret",
		"https://example.com/public/d",
		"https://example.org/secret/c",
		"http://example.com/secret/c",
		"https://example.com:8443/secret/c",
		"https://docs.example.com/admin/x",
		"db://host/public/x",
		"urn:secret:b",
	}
	for _, uri := range restricted {
		if got := rs.needs(uriViews(uri)); len(got) == 0 {
			t.Errorf("%q needs no scope; views %q", uri, uriViews(uri))
		}
	}
	for _, uri := range open {
		if got := rs.needs(uriViews(uri)); len(got) != 0 {
			t.Errorf("%q needs %q; views %q", uri, got, uriViews(uri))
		}
	}
}

// TestPatternGlobs: normalizing a pattern keeps its globs wherever they
// stand.
func TestPatternGlobs(t *testing.T) {
	tests := []struct{ pattern, normal, loose string }{
		{"file:///secret/*", "file:///secret/*", "file:///secret/*"},
		{"*", "*", "*"},
		{"HTTPS://*.Example.COM:443/*", "https://*.example.com/*", "https://*.example.com/*"},
		{"*://h/a", "*://h/a", "*://h/a"},
		{"file:///a/*/%7e*", "file:///a/*/~*", "file:///a/*/~*"},
	}
	for _, tt := range tests {
		v := uriPatternViews(tt.pattern)
		if v[viewRaw] != tt.pattern || v[viewNormal] != tt.normal || v[viewLoose] != tt.loose {
			t.Errorf("uriPatternViews(%q) = %q, want [%q %q %q]", tt.pattern, v, tt.pattern, tt.normal, tt.loose)
		}
	}
}
