package authz_test

import (
	"encoding/json"
	"fmt"
	"strings"
)

// This file builds FuzzAuthzInvariant's exchanges from fuzz bytes: a
// client request, a principal and an upstream's answer. Every name it
// writes is a spelling of a canonical name, and it records which, so that
// the oracle can judge what the client receives.

// gen reads choices from fuzz bytes (zeros once they run out).
type gen struct {
	b []byte
	i int
}

func (g *gen) byte() byte {
	if g.i >= len(g.b) {
		return 0
	}
	g.i++
	return g.b[g.i-1]
}

func (g *gen) n(k int) int { return int(g.byte()) % k }

func pick[T any](g *gen, xs []T) T { return xs[g.n(len(xs))] }

// The universe: canonical names by kind. fuzzPolicy restricts admin.* and
// *.delete tools, secret_* prompts and the secret resources.
var (
	fuzzTools     = []string{"echo", "admin.reset", "repo.delete", "Admin.reset", "admin", "x.delete.y"}
	fuzzPrompts   = []string{"greet", "secret_plan", "Secret_plan"}
	fuzzResources = []string{"file:///public/a", "file:///secret/b", "https://example.com/secret/c", "https://example.com/public/d", "file:///secrets/e"}
	fuzzTemplates = []string{"file:///secret/{x}", "file:///public/{x}", "https://example.com/secret/{y}"}
)

// canon is a spelled name's kind ("tool", "prompt", "resource") and the
// canonical name it denotes.
type canon struct{ kind, name string }

// spellings maps what was written (after JSON decoding) to what it means.
type spellings map[canon]map[string]bool

// names returns the canonical names of kind.
func names(kind string) []string {
	switch kind {
	case "tool":
		return fuzzTools
	case "prompt":
		return fuzzPrompts
	case "template":
		return fuzzTemplates
	}
	return fuzzResources
}

// spell picks a canonical name of kind and writes it in one of the
// spellings an upstream treats as the same; clean reports the canonical
// spelling. Templates are resources to the oracle.
func (g *gen) spell(kind string) (name string, c canon, clean bool) {
	c = canon{kind, pick(g, names(kind))}
	if kind == "template" {
		c.kind = "resource"
	}
	if kind != "resource" && kind != "template" {
		return c.name, c, true // names are exact: spelled as they are
	}
	mask := g.byte()
	if mask&0x80 == 0 {
		return c.name, c, true
	}
	return respell(c.name, mask), c, false
}

// respell applies equivalences (RFC 3986 §6.2.2/§6.2.3, and the WHATWG
// URL parser's, which the TypeScript SDK applies) chosen by mask bits.
func respell(uri string, mask byte) string {
	scheme, rest, _ := strings.Cut(uri, "://")
	host, path, _ := strings.Cut(rest, "/")
	path = "/" + path
	if mask&1 != 0 {
		scheme = strings.ToUpper(scheme[:1]) + scheme[1:]
	}
	if mask&2 != 0 {
		host = strings.ToUpper(host)
	}
	if mask&4 != 0 {
		if scheme == "file" || scheme == "File" {
			host = "localhost"
		} else {
			host += ":443"
		}
	}
	if mask&8 != 0 { // percent-encode the first unreserved letter of the path
		if i := strings.IndexAny(path, "abcdefghijklmnopqrstuvwxyz"); i >= 0 {
			hex := fmt.Sprintf("%%%x", path[i])
			if mask&16 != 0 {
				hex = strings.ToUpper(hex)
			}
			path = path[:i] + hex + path[i+1:]
		}
	}
	if mask&32 != 0 {
		dots := "/zz/../"
		if mask&16 != 0 {
			dots = "/zz/%2e%2E/./"
		}
		path = dots + path[1:]
	}
	if mask&64 != 0 {
		path = strings.Replace(path, "/", "\\", 1)
		scheme = strings.Replace(scheme, "e", "\te", 1)
	}
	return scheme + "://" + host + path
}

// jsonString encodes s, escaping some characters as \u00XX when mask
// says so (a JSON escape is the same string to every peer).
func jsonString(s string, mask byte) string {
	if mask&0x40 == 0 {
		b, _ := json.Marshal(s)
		return string(b)
	}
	var out strings.Builder
	out.WriteByte('"')
	for i, c := range s {
		if c >= 'a' && c <= 'z' && (i+int(mask))%3 == 0 {
			fmt.Fprintf(&out, `\u%04x`, c)
			continue
		}
		b, _ := json.Marshal(string(c))
		out.Write(b[1 : len(b)-1])
	}
	out.WriteByte('"')
	return out.String()
}

// idForms spell request ids: numbers in several forms (one key to
// mcpwire.KeyOf) and strings.
var idForms = []func(n int) string{
	func(n int) string { return fmt.Sprint(n) },
	func(n int) string { return fmt.Sprintf("%d.0", n) },
	func(n int) string { return fmt.Sprintf("%de0", n) },
	func(n int) string { return fmt.Sprintf("%q", fmt.Sprint(n)) },
	func(n int) string { return fmt.Sprintf(`"a%d"`, n) },
}
