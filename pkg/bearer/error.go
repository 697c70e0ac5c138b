// Package bearer is the resource-server side of RFC 6750 for MCP servers: it
// extracts bearer tokens from requests, writes the one WWW-Authenticate
// challenge (with the RFC 9728 §5.1 resource_metadata parameter), and offers a
// net/http middleware that any Go MCP server can embed. It knows nothing of
// JWTs: verification is a function the caller supplies.
package bearer

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Error codes of RFC 6750 §3.1, plus the 503 this package uses when the
// verifier cannot reach its keys.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
	CodeUnavailable       = "temporarily_unavailable"
)

// Error is the one OAuth error a protected resource returns. Status is the
// HTTP status; Scopes, for insufficient_scope, lists every scope the
// operation needs (RFC 6750 §3.1, MCP step-up authorization).
type Error struct {
	Status      int
	Code        string
	Description string
	Scopes      []string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// ErrInvalidRequest builds a 400 invalid_request (RFC 6750 §3.1).
func ErrInvalidRequest(desc string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: desc}
}

// ErrInvalidToken builds a 401 invalid_token (RFC 6750 §3.1).
func ErrInvalidToken(desc string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: desc}
}

// ErrInsufficientScope builds a 403 insufficient_scope naming every scope
// the operation needs, not only the missing ones, so a client can request
// them all at once (MCP step-up authorization).
func ErrInsufficientScope(scopes []string) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeInsufficientScope,
		Description: "the token lacks a scope this operation requires", Scopes: scopes}
}

// ErrNoToken is a request with no bearer credentials: 401 with no error code
// (RFC 6750 §3.1: "the resource server SHOULD NOT include an error code").
var ErrNoToken = &Error{Status: http.StatusUnauthorized}

// Challenge is one RFC 6750 §3 Bearer challenge.
type Challenge struct {
	// ResourceMetadata is the RFC 9728 §5.1 metadata URL.
	ResourceMetadata string
	// Scope lists the scopes the client should request.
	Scope []string
	// Error and ErrorDescription are empty when no credentials were sent.
	Error            string
	ErrorDescription string
}

// String renders the challenge as a WWW-Authenticate value. Parameter values
// are quoted-strings; characters RFC 6750 §3 forbids in them are replaced
// rather than escaped, because many clients do not unescape: a double quote
// becomes a single quote, a backslash a slash, controls and non-ASCII a space.
func (c Challenge) String() string {
	var params []string
	add := func(k, v string) {
		if v != "" {
			params = append(params, k+`="`+sanitize(v)+`"`)
		}
	}
	add("resource_metadata", c.ResourceMetadata)
	add("scope", strings.Join(c.Scope, " "))
	add("error", c.Error)
	add("error_description", c.ErrorDescription)
	if len(params) == 0 {
		return "Bearer"
	}
	return "Bearer " + strings.Join(params, ", ")
}

// sanitize keeps %x20-21 / %x23-5B / %x5D-7E (RFC 6750 §3) and caps length.
func sanitize(s string) string {
	const max = 200
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(b) < max; i++ {
		c := s[i]
		switch {
		case c == '"':
			c = '\''
		case c == '\\':
			c = '/'
		case c < 0x20 || c > 0x7e:
			c = ' '
		}
		b = append(b, c)
	}
	return string(b)
}

// WriteError is the single place this project turns an authorization failure
// into an HTTP response: the status, one Bearer challenge (for 401 and 403)
// and a JSON body {"error","error_description"}. scope is the list to name in
// a 401 challenge; for 403, e.Scopes is used. A 503 carries Retry-After and no
// challenge.
func WriteError(w http.ResponseWriter, e *Error, resourceMetadata string, scope []string) {
	h := w.Header()
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusBadRequest:
		ch := Challenge{ResourceMetadata: resourceMetadata, Scope: scope,
			Error: e.Code, ErrorDescription: e.Description}
		if e.Code == CodeInsufficientScope {
			ch.Scope = e.Scopes
		}
		h.Set("WWW-Authenticate", ch.String())
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "5")
	}
	WriteJSON(w, e)
}

// WriteJSON writes e as an OAuth error response body (RFC 6749 §5.2,
// RFC 7591 §3.2.2): status, no-store, and {"error","error_description"}.
// It sets no challenge; services that are not a protected resource (the
// registration endpoint) answer with it directly.
func WriteJSON(w http.ResponseWriter, e *Error) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	if e.Code == "" {
		_, _ = w.Write([]byte(`{"error":"unauthorized","error_description":"a bearer token is required"}` + "\n"))
		return
	}
	body := map[string]string{"error": e.Code}
	if e.Description != "" {
		body["error_description"] = sanitize(e.Description)
	}
	_ = json.NewEncoder(w).Encode(body)
}
