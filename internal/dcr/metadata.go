package dcr

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// RFC 7591 §2 values this package understands.
const (
	AuthMethodNone         = "none"
	AuthMethodSecretBasic  = "client_secret_basic"
	AuthMethodSecretPost   = "client_secret_post"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	ResponseTypeCode       = "code"
	// ApplicationTypeNative and ApplicationTypeWeb are the application_type
	// values of OpenID Connect Dynamic Client Registration 1.0 §2.
	ApplicationTypeNative = "native"
	ApplicationTypeWeb    = "web"

	scopeOfflineAccess = "offline_access"
)

// Bounds on free-text metadata (they end up in DynamoDB and in responses).
const (
	maxTextLen     = 256
	maxInfoURILen  = 2048
	maxContacts    = 10
	flowCode       = "code"
	flowClientCred = "client_credentials"
)

// normalized is a request that passed every rule: the metadata to store and
// echo, and the app client to create.
type normalized struct {
	md     ClientMetadata
	spec   AppClientSpec
	public bool
}

// normalize applies the RFC 7591 §2 rules and the policy to md and fills in
// defaults. nameHint replaces an empty client_name in the Cognito name only.
//
// Rules: token_endpoint_auth_method none (the default: MCP clients are public
// native or browser apps; RFC 7591 §2's own default, client_secret_basic,
// would hand a secret to clients that did not ask for one),
// client_secret_basic or client_secret_post; grant_types ⊆
// {authorization_code, refresh_token} containing authorization_code (default
// [authorization_code]), or client_credentials alone when the policy allows
// it, for confidential clients without redirect_uris and response_types;
// response_types [code] (the default); redirect_uris required for the code
// flow (see checkRedirectURIs); scope ⊆ AllowedScopes with offline_access
// dropped (default DefaultScopes; client_credentials keeps only
// "<server>/<scope>" scopes, the only kind Cognito grants to it); client_uri,
// logo_uri, tos_uri, policy_uri absolute https (or loopback http) URLs;
// bounded text; application_type native or web, checked against the
// redirect URIs and inferred when absent (see applicationType). It does
// NOT fetch or dereference any URI.
func (r *rules) normalize(md ClientMetadata, nameHint string) (*normalized, error) {
	out := md
	out.RedirectURIs = slices.Clone(md.RedirectURIs)
	out.Contacts = slices.Clone(md.Contacts)
	if out.TokenEndpointAuthMethod == "" {
		out.TokenEndpointAuthMethod = AuthMethodNone
	}
	switch out.TokenEndpointAuthMethod {
	case AuthMethodNone, AuthMethodSecretBasic, AuthMethodSecretPost:
	default:
		return nil, ErrInvalidClientMetadata(fmt.Sprintf("token_endpoint_auth_method %s is not supported: use none, client_secret_basic or client_secret_post", quoteShort(out.TokenEndpointAuthMethod)))
	}
	public := out.TokenEndpointAuthMethod == AuthMethodNone
	grants, err := r.grantTypes(md, public)
	if err != nil {
		return nil, err
	}
	out.GrantTypes = grants
	clientCred := grants[0] == GrantClientCredentials
	if !clientCred {
		if out.ResponseTypes, err = responseTypes(md.ResponseTypes); err != nil {
			return nil, err
		}
		if len(out.RedirectURIs) == 0 {
			return nil, ErrInvalidRedirectURI("redirect_uris is required")
		}
		if err := r.checkRedirectURIs(out.RedirectURIs); err != nil {
			return nil, err
		}
	}
	if out.ApplicationType, err = applicationType(md.ApplicationType, out.RedirectURIs); err != nil {
		return nil, err
	}
	scopes, err := r.scopes(md.Scope, clientCred)
	if err != nil {
		return nil, err
	}
	out.Scope = strings.Join(scopes, " ")
	if err := checkInfo(out); err != nil {
		return nil, err
	}
	if nameHint == "" || out.ClientName != "" {
		nameHint = out.ClientName
	}
	spec := appClientSpec(out, CognitoClientName(r.ClientNamePrefix, nameHint), scopes, nil)
	return &normalized{md: out, spec: spec, public: public}, nil
}

// appClientSpec is the app client a registration maps to: its accepted
// metadata md, Cognito name and scopes, with the port-specific loopback
// callbacks extra added after the registered redirect URIs. It is the one
// definition used at registration and whenever a stored registration is
// pushed to Cognito again (see specOf).
func appClientSpec(md ClientMetadata, name string, scopes []string, extra []LoopbackCallback) AppClientSpec {
	spec := AppClientSpec{
		Name:           name,
		CallbackURLs:   slices.Clone(md.RedirectURIs),
		Scopes:         slices.Clone(scopes),
		GenerateSecret: md.TokenEndpointAuthMethod != AuthMethodNone,
		Flows:          []string{flowCode},
		RefreshTokens:  slices.Contains(md.GrantTypes, GrantRefreshToken),
	}
	for _, c := range extra {
		spec.CallbackURLs = append(spec.CallbackURLs, c.URI)
	}
	if len(md.GrantTypes) > 0 && md.GrantTypes[0] == GrantClientCredentials {
		spec.Flows = []string{flowClientCred}
	}
	return spec
}

// specOf is the app client the stored registration reg maps to.
func specOf(reg *Registration) AppClientSpec {
	return appClientSpec(reg.Metadata, reg.CognitoClientName, reg.Scopes, reg.LoopbackCallbacks)
}

// grantTypes checks and orders grant_types (see normalize).
func (r *rules) grantTypes(md ClientMetadata, public bool) ([]string, error) {
	if len(md.GrantTypes) == 0 {
		return []string{GrantAuthorizationCode}, nil
	}
	if slices.Contains(md.GrantTypes, GrantClientCredentials) {
		switch {
		case !r.AllowClientCredentials:
			return nil, ErrInvalidClientMetadata("grant_types: client_credentials is not allowed by this server")
		case slices.ContainsFunc(md.GrantTypes, func(g string) bool { return g != GrantClientCredentials }):
			return nil, ErrInvalidClientMetadata("grant_types: client_credentials must be registered alone")
		case public:
			return nil, ErrInvalidClientMetadata("grant_types: client_credentials needs a confidential client (client_secret_basic or client_secret_post)")
		case len(md.RedirectURIs) > 0 || len(md.ResponseTypes) > 0:
			return nil, ErrInvalidClientMetadata("grant_types: a client_credentials client has no redirect_uris or response_types")
		}
		return []string{GrantClientCredentials}, nil
	}
	var out []string
	for _, g := range []string{GrantAuthorizationCode, GrantRefreshToken} {
		if slices.Contains(md.GrantTypes, g) {
			out = append(out, g)
		}
	}
	for _, g := range md.GrantTypes {
		if g != GrantAuthorizationCode && g != GrantRefreshToken {
			return nil, ErrInvalidClientMetadata(fmt.Sprintf("grant_types: %s is not supported (authorization_code and refresh_token only)", quoteShort(g)))
		}
	}
	if !slices.Contains(out, GrantAuthorizationCode) {
		return nil, ErrInvalidClientMetadata("grant_types must include authorization_code")
	}
	return out, nil
}

// responseTypes checks response_types: only "code" (default [code]).
func responseTypes(in []string) ([]string, error) {
	for _, rt := range in {
		if rt != ResponseTypeCode {
			return nil, ErrInvalidClientMetadata(fmt.Sprintf("response_types: %s is not supported (code only)", quoteShort(rt)))
		}
	}
	return []string{ResponseTypeCode}, nil
}

// scopes parses the space-separated scope member (RFC 7591 §2) and returns
// the granted scopes in AllowedScopes order (see normalize).
func (r *rules) scopes(raw string, clientCred bool) ([]string, error) {
	requested := map[string]bool{}
	for _, s := range strings.Fields(raw) {
		if s == scopeOfflineAccess {
			continue
		}
		if !slices.Contains(r.AllowedScopes, s) {
			return nil, ErrInvalidClientMetadata(fmt.Sprintf("scope %s is not allowed; allowed: %s", quoteShort(s), strings.Join(r.AllowedScopes, " ")))
		}
		if clientCred && !strings.Contains(s, "/") {
			return nil, ErrInvalidClientMetadata(fmt.Sprintf("scope %s cannot be used with client_credentials (only resource-server scopes)", quoteShort(s)))
		}
		requested[s] = true
	}
	if len(requested) == 0 {
		for _, s := range r.defaults {
			if !clientCred || strings.Contains(s, "/") {
				requested[s] = true
			}
		}
	}
	var out []string
	for _, s := range r.AllowedScopes {
		if requested[s] {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, ErrInvalidClientMetadata("scope: no allowed scope applies to this client")
	}
	return out, nil
}

// checkInfo bounds the informational members RFC 7591 §2 lists; they are
// stored and echoed but never used by Cognito.
func checkInfo(md ClientMetadata) error {
	type field struct{ name, v string }
	for _, f := range []field{{"client_name", md.ClientName}, {"software_id", md.SoftwareID}, {"software_version", md.SoftwareVersion}} {
		name, v := f.name, f.v
		if len(v) > maxTextLen || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return ErrInvalidClientMetadata(fmt.Sprintf("%s: at most %d characters, no control characters", name, maxTextLen))
		}
	}
	if len(md.Contacts) > maxContacts {
		return ErrInvalidClientMetadata(fmt.Sprintf("contacts: at most %d", maxContacts))
	}
	for _, c := range md.Contacts {
		if c == "" || len(c) > maxTextLen || strings.ContainsFunc(c, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return ErrInvalidClientMetadata(fmt.Sprintf("contacts: each non-empty, at most %d characters, no control characters", maxTextLen))
		}
	}
	for _, f := range []field{{"client_uri", md.ClientURI}, {"logo_uri", md.LogoURI}, {"tos_uri", md.TosURI}, {"policy_uri", md.PolicyURI}} {
		name, v := f.name, f.v
		if v == "" {
			continue
		}
		if err := checkInfoURI(v); err != nil {
			return ErrInvalidClientMetadata(fmt.Sprintf("%s %s: %v", name, quoteShort(v), err))
		}
	}
	return nil
}

// checkInfoURI accepts an absolute https URL (or http on a loopback host)
// without user information.
func checkInfoURI(raw string) error {
	if len(raw) > maxInfoURILen {
		return fmt.Errorf("longer than %d characters", maxInfoURILen)
	}
	if err := checkURIChars(strings.ReplaceAll(raw, "#", "%23")); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		return errors.New("not an absolute URL")
	case u.User != nil:
		return errors.New("must not contain user information")
	case u.Scheme == "https", u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return errors.New("must be https")
}

// applicationType returns the effective application_type of a client
// with redirect URIs uris (already checked by checkRedirectURIs), following
// OpenID Connect Dynamic Client Registration 1.0 §2 as MCP 2026-07-28 uses
// it:
//   - "web": every redirect URI must be https on a host that is not a
//     loopback literal (invalid_redirect_uri otherwise);
//   - "native": loopback http(s), private-use schemes (RFC 8252 §7.1) and
//     claimed https URIs (RFC 8252 §7.2) are all allowed, so the policy's
//     own admission rules are the only limit;
//   - absent: inferred, so that clients that do not send it keep
//     registering: "native" when any redirect URI is a loopback or
//     private-use one (Claude Code, Cursor, and VS Code, whose loopback and
//     https://vscode.dev/redirect mix go-sdk's inferApplicationType leaves
//     unset), else "web" (claude.ai, ChatGPT; and OIDC's default, also for
//     client_credentials clients without redirect URIs).
//
// Any other value is invalid_client_metadata. The effective value is stored
// and returned.
func applicationType(sent string, uris []string) (string, error) {
	native := false
	for _, raw := range uris {
		if u, err := url.Parse(raw); err == nil && (u.Scheme != "https" && u.Scheme != "http" || isLoopback(u.Hostname())) {
			native = true
		}
	}
	switch sent {
	case "":
		if native {
			return ApplicationTypeNative, nil
		}
		return ApplicationTypeWeb, nil
	case ApplicationTypeNative:
		return sent, nil
	case ApplicationTypeWeb:
		for _, raw := range uris {
			if u, err := url.Parse(raw); err != nil || u.Scheme != "https" || isLoopback(u.Hostname()) {
				return "", ErrInvalidRedirectURI(fmt.Sprintf("redirect_uri %s: application_type web allows only https redirect URIs on a host that is not loopback (register as native)", quoteShort(raw)))
			}
		}
		return sent, nil
	}
	return "", ErrInvalidClientMetadata(fmt.Sprintf("application_type %s is not supported: use native or web", quoteShort(sent)))
}
