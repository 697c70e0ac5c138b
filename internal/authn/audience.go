package authn

import (
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// audience is an accepted audience in comparable form.
type audience struct {
	raw   string
	canon string // "" when raw is not an absolute http(s) URL
}

func newAudience(raw string) audience {
	return audience{raw: raw, canon: canonicalURL(raw)}
}

// matches reports whether a token's aud value names this audience. URL
// audiences compare by RFC 3986 §6.2.2-§6.2.3 normalization: scheme and
// host case-insensitive, default port (80/443) equal to no port, and one
// trailing slash tolerated ("https://a/mcp/" == "https://a/mcp"). Path,
// query and percent-encoding are otherwise exact: no prefix matching, no
// dot-segment removal, and URLs with userinfo or a fragment never match.
// Non-URL audiences (Entra client ids, Auth0 identifiers) compare exactly.
func (a audience) matches(got string) bool {
	if got == a.raw {
		return got != ""
	}
	if a.canon == "" {
		return false
	}
	c := canonicalURL(got)
	return c != "" && c == a.canon
}

// canonicalURL returns the normalized form of an absolute http(s) URL per
// the project's one rule (oauthmeta.CanonicalResource), or "" if raw is not
// one (or carries userinfo or a fragment).
func canonicalURL(raw string) string {
	c, err := oauthmeta.CanonicalResource(raw)
	if err != nil {
		return ""
	}
	return c
}
