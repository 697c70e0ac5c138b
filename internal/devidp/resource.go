package devidp

import (
	"slices"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// canonicalResource is the project's one comparison rule for resource
// identifiers (RFC 8707 §2, MCP canonical URIs).
func canonicalResource(raw string) (string, error) { return oauthmeta.CanonicalResource(raw) }

// resolveResource maps the `resource` parameters of a request to the
// configured resource they name. It returns "" when none was given.
// Several distinct resources in one request are refused: tokens here carry a
// single audience.
func (s *Server) resolveResource(values []string) (string, *oauthError) {
	var found string
	for _, v := range values {
		c, err := canonicalResource(v)
		if err != nil {
			return "", newErr(errInvalidTarget, err.Error())
		}
		match := ""
		for _, r := range s.resources {
			if rc, _ := canonicalResource(r); rc == c {
				match = r
				break
			}
		}
		if match == "" {
			return "", newErr(errInvalidTarget, "resource "+v+" is not served by this authorization server")
		}
		if found != "" && found != match {
			return "", newErr(errInvalidTarget, "only one resource per request is supported")
		}
		found = match
	}
	return found, nil
}

// defaultResource is the audience used when neither the authorization nor
// the token request named a resource: the configured resource when there is
// exactly one, none when none is configured.
func (s *Server) defaultResource() (string, *oauthError) {
	switch len(s.resources) {
	case 0:
		return "", nil
	case 1:
		return s.resources[0], nil
	default:
		return "", newErr(errInvalidTarget, "the resource parameter is required: several resources are configured")
	}
}

// oidcScopes are accepted in requests without being advertised. openid
// triggers an ID token; offline_access is accepted and dropped.
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

// resolveScopes checks a space-separated scope parameter (RFC 6749 §3.3)
// against the configured scopes. When the request names none of the
// configured scopes, all of them are granted. offline_access is removed.
func (s *Server) resolveScopes(raw string) ([]string, *oauthError) {
	var out []string
	named := false
	for _, sc := range strings.Fields(raw) {
		switch {
		case slices.Contains(s.scopes, sc):
			named = true
		case slices.Contains(oidcScopes, sc):
		default:
			return nil, newErr(errInvalidScope, "unknown scope "+sc)
		}
		if sc != "offline_access" && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if !named {
		for _, sc := range s.scopes {
			if !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	return out, nil
}

// narrowScopes applies a refresh or client-credentials scope parameter that
// may only name scopes of granted (RFC 6749 §6). Empty raw keeps granted.
func narrowScopes(raw string, granted []string) ([]string, *oauthError) {
	if strings.TrimSpace(raw) == "" {
		return granted, nil
	}
	var out []string
	for _, sc := range strings.Fields(raw) {
		if sc == "offline_access" {
			continue
		}
		if !slices.Contains(granted, sc) {
			return nil, newErr(errInvalidScope, "scope "+sc+" exceeds the original grant")
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// validScopeToken reports whether sc is an RFC 6749 §3.3 scope-token.
