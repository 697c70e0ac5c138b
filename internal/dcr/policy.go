package dcr

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Policy is what an operator decides about registrations, on top of the
// rules RFC 7591 and Cognito impose (which no Policy can relax).
//
// Redirect URIs (RFC 7591 §2, RFC 8252 §7, RFC 9700 §4.1) are admitted when
// they pass the structural rules of parseRedirect (redirect.go) AND one of:
//   - the host is a loopback literal (localhost, 127.0.0.1, [::1]), http or
//     https, any port and path (RFC 8252 §7.3): always admitted, because a
//     code sent there can only reach the user's own machine;
//   - the scheme is in PrivateUseSchemes (RFC 8252 §7.1);
//   - the URI matches one of RedirectPatterns or, unless
//     DisableDefaultRedirects, one of the known MCP clients' https redirects (claude.ai, claude.com, ChatGPT, VS Code web);
//   - InsecureAnyHTTPSRedirect is set and the scheme is https.
//
// By default, then, an arbitrary https redirect URI is NOT admitted: Cognito's
// managed login shows no consent screen, so a client registered with an
// attacker's https redirect URI could turn one click on a crafted link into a
// token for the victim (the user's SSO session logs in silently).
type Policy struct {
	// AllowedScopes is the set a registration's scope must be a subset of
	// (Cognito AllowedOAuthScopes: openid, email, profile, phone,
	// aws.cognito.signin.user.admin, and "<resource-server>/<scope>").
	AllowedScopes []string
	// DefaultScopes are granted when a request names no scope; empty means
	// all of AllowedScopes (MCP clients learn scopes later, from the
	// resource's challenge, and Cognito refuses scopes the app client lacks).
	DefaultScopes []string
	// RedirectPatterns are operator globs for admitted redirect URIs, e.g.
	// "https://*.corp.example/cb". A pattern is an https URL; "*" matches a
	// non-empty run of characters inside ONE host label or ONE path segment
	// (never a "."
	// of the host or a "/" of the path), and a port of "*" matches any port
	// or none. Hosts compare case-insensitively, paths case-sensitively,
	// label by label and segment by segment (same counts). A pattern
	// without a query admits only URIs without one; a query must be equal.
	// The host needs at least two literal labels, the last one literal.
	RedirectPatterns []string
	// DisableDefaultRedirects drops the known clients' https redirects; loopback
	// and PrivateUseSchemes are still admitted.
	DisableDefaultRedirects bool
	// InsecureAnyHTTPSRedirect admits every structurally valid https redirect
	// URI (open registration). Unsafe with Cognito; see the type's doc.
	InsecureAnyHTTPSRedirect bool
	// PrivateUseSchemes are admitted RFC 8252 §7.1 schemes (lower case).
	// A URI with one must be "scheme:/path" or "scheme://authority/path".
	// The reverse-DNS form §7.1 recommends is NOT required (Cursor uses
	// "cursor"). Every scheme here can be claimed by any local application,
	// so the default lists only "cursor".
	PrivateUseSchemes []string
	// AllowClientCredentials lets confidential clients register the
	// client_credentials grant (alone, without redirect URIs).
	AllowClientCredentials bool
	// MaxRegistrations is the ceiling on stored registrations; it must stay
	// below AppClientQuota so that registrations cannot exhaust the pool.
	MaxRegistrations int
	// AppClientQuota is the pool's app-client quota (Cognito default 1,000).
	AppClientQuota int
	// RegistrationTTL is how long a registration lives before `mcp-dcr gc`
	// removes it; 0 means registrations never expire.
	RegistrationTTL time.Duration
	// ReusePublicRegistrations returns the existing registration when a
	// public client registers again with identical normalized metadata,
	// instead of creating another app client.
	ReusePublicRegistrations bool
	// ClientNamePrefix starts every Cognito app client name.
	ClientNamePrefix string
	// LoopbackCallbackLimit bounds the port-specific loopback callback URLs
	// an app client keeps on top of its registered redirect URIs (see
	// [Service.UseRedirectURI]); the least recently used is evicted first,
	// but never one used within [CallbackInUseWindow] (a new port waits
	// instead). The effective bound is also at most 100 (Cognito's callback URL
	// limit) minus the registered URIs.
	LoopbackCallbackLimit int
}

// Policy defaults.
const (
	DefaultMaxRegistrations = 900
	DefaultAppClientQuota   = 1000
	DefaultRegistrationTTL  = 90 * 24 * time.Hour
	DefaultClientNamePrefix = "mcp-"
	// DefaultLoopbackCallbackLimit is the default LoopbackCallbackLimit.
	// A port-specific callback must stay listed from the authorization
	// request until Cognito redirects back (the minutes a login takes), and
	// every user of one client id shares the list (all users of one CIMD
	// client such as Claude Code; all identical public DCR registrations):
	// 20 keeps a login working unless 20 other logins with new ports start
	// through the same client id meanwhile, and leaves 80 of Cognito's 100
	// callback URLs to the registered ones. The list costs nothing in
	// security (every entry is a loopback URI the client registered,
	// port aside); raise it (up to 99) for many concurrent logins.
	DefaultLoopbackCallbackLimit = 20
)

// knownClientRedirectPatterns are the redirect URIs of the MCP clients this
// project supports (DESIGN.md "Clients"). Claude Code
// (http://localhost:<port>/callback) and VS Code (http://127.0.0.1:<port>)
// use loopback, which is always admitted; Cursor uses its private-use scheme.
var knownClientRedirectPatterns = []string{
	"https://claude.ai/api/mcp/auth_callback",
	"https://claude.com/api/mcp/auth_callback",
	"https://chatgpt.com/connector/oauth/*",
	"https://vscode.dev/redirect",
}

// DefaultPolicy returns the policy used when an operator sets nothing:
// scopes openid, email and profile; known clients, loopback and "cursor"
// redirects; public and confidential code-flow clients; at most 900 of
// Cognito's 1,000 app clients; 90-day registrations; identical public
// registrations reused; names prefixed "mcp-"; 20 port-specific loopback
// callbacks per app client.
func DefaultPolicy() Policy {
	return Policy{
		AllowedScopes:            []string{"openid", "email", "profile"},
		PrivateUseSchemes:        []string{"cursor"},
		MaxRegistrations:         DefaultMaxRegistrations,
		AppClientQuota:           DefaultAppClientQuota,
		RegistrationTTL:          DefaultRegistrationTTL,
		ReusePublicRegistrations: true,
		ClientNamePrefix:         DefaultClientNamePrefix,
		LoopbackCallbackLimit:    DefaultLoopbackCallbackLimit,
	}
}

// Validate reports every problem of p at once (errors.Join), or nil.
// It applies the Check* rules of rules.go, each of which
// internal/config also calls to report the configuration key: scope syntax,
// DefaultScopes ⊆ AllowedScopes, pattern syntax, scheme syntax,
// 0 < MaxRegistrations < AppClientQuota, a non-negative TTL, the prefix's
// Cognito charset and 1 <= LoopbackCallbackLimit <= 99. It does NOT check that the scopes exist on the pool's
// resource server (Cognito rejects unknown ones at Create).
func (p Policy) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("dcr policy: "+format, args...)) }
	if len(p.AllowedScopes) == 0 {
		add("allowed scopes: at least one scope is required (Cognito code-flow clients need one)")
	}
	for _, s := range p.AllowedScopes {
		if err := CheckAllowedScope(s); err != nil {
			add("allowed scope %q: %v", s, err)
		}
	}
	for _, s := range p.DefaultScopes {
		if err := CheckDefaultScope(s, p.AllowedScopes); err != nil {
			add("default scope %q: %v", s, err)
		}
	}
	for _, raw := range p.RedirectPatterns {
		if err := CheckRedirectPattern(raw); err != nil {
			add("redirect pattern %q: %v", raw, err)
		}
	}
	for _, s := range p.PrivateUseSchemes {
		if err := CheckPrivateUseScheme(s); err != nil {
			add("private-use scheme %q: %v", s, err)
		}
	}
	if err := CheckAppClientQuota(p.AppClientQuota); err != nil {
		add("app client quota %d: %v", p.AppClientQuota, err)
	}
	if err := CheckMaxRegistrations(p.MaxRegistrations, p.AppClientQuota); err != nil {
		add("max registrations %d: %v", p.MaxRegistrations, err)
	}
	if err := CheckRegistrationTTL(p.RegistrationTTL); err != nil {
		add("registration TTL %s: %v", p.RegistrationTTL, err)
	}
	if err := CheckClientNamePrefix(p.ClientNamePrefix); err != nil {
		add("client name prefix %q: %v", p.ClientNamePrefix, err)
	}
	if err := CheckLoopbackCallbackLimit(p.LoopbackCallbackLimit); err != nil {
		add("loopback callback limit %d: %v", p.LoopbackCallbackLimit, err)
	}
	return errors.Join(errs...)
}

// rules is a validated Policy prepared for use.
type rules struct {
	Policy
	patterns []pattern
	defaults []string
}

// compile validates p and prepares its patterns.
func (p Policy) compile() (*rules, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.AllowedScopes = slices.Clone(p.AllowedScopes)
	p.DefaultScopes = slices.Clone(p.DefaultScopes)
	p.PrivateUseSchemes = slices.Clone(p.PrivateUseSchemes)
	r := &rules{Policy: p, defaults: p.DefaultScopes}
	if len(r.defaults) == 0 {
		r.defaults = p.AllowedScopes
	}
	raw := slices.Clone(p.RedirectPatterns)
	if !p.DisableDefaultRedirects {
		raw = append(raw, knownClientRedirectPatterns...)
	}
	for _, s := range raw {
		pt, err := compilePattern(s)
		if err != nil {
			return nil, fmt.Errorf("dcr policy: redirect pattern %q: %w", s, err)
		}
		r.patterns = append(r.patterns, pt)
	}
	return r, nil
}
