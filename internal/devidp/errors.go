package devidp

import (
	"encoding/json"
	"net/http"
	"net/url"
)

// Error codes used by this package (RFC 6749 §4.1.2.1 and §5.2, RFC 7591
// §3.2.2, RFC 8707 §2, RFC 7009 §2.2.1).
const (
	errInvalidRequest          = "invalid_request"
	errInvalidClient           = "invalid_client"
	errInvalidGrant            = "invalid_grant"
	errUnauthorizedClient      = "unauthorized_client"
	errUnsupportedGrantType    = "unsupported_grant_type"
	errUnsupportedResponseType = "unsupported_response_type"
	errInvalidScope            = "invalid_scope"
	errInvalidTarget           = "invalid_target"
	errInvalidRedirectURI      = "invalid_redirect_uri"
	errInvalidClientMetadata   = "invalid_client_metadata"
	errServerError             = "server_error"
	errTemporarilyUnavailable  = "temporarily_unavailable"
)

// oauthError is an OAuth error response. It is rendered either as the
// RFC 6749 §5.2 JSON body (writeError) or as query parameters of an
// authorization error redirect (RFC 6749 §4.1.2.1, redirectError).
type oauthError struct {
	Code        string
	Description string
	// Status is the HTTP status for JSON rendering; 400 when zero.
	Status int
	// BasicChallenge adds `WWW-Authenticate: Basic` to a 401, required when
	// the client tried HTTP Basic authentication (RFC 6749 §5.2).
	BasicChallenge bool
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func newErr(code, desc string) *oauthError { return &oauthError{Code: code, Description: desc} }

// errBody is the RFC 6749 §5.2 error document.
type errBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// writeError is the one place that writes an OAuth error as JSON.
func writeError(w http.ResponseWriter, e *oauthError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	if status == http.StatusUnauthorized && e.BasicChallenge {
		w.Header().Set("WWW-Authenticate", `Basic realm="devidp", charset="UTF-8"`)
	}
	writeJSON(w, status, errBody{Error: e.Code, ErrorDescription: e.Description})
}

// redirectError sends an authorization error back to an already validated
// redirect URI (RFC 6749 §4.1.2.1), with `iss` per RFC 9207.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state string, e *oauthError) {
	q := url.Values{"error": {e.Code}, "iss": {s.issuer}}
	if e.Description != "" {
		q.Set("error_description", e.Description)
	}
	if state != "" {
		q.Set("state", state)
	}
	s.log.Info("devidp: authorization error", "error", e.Code, "description", e.Description)
	http.Redirect(w, r, appendQuery(redirectURI, q), http.StatusFound)
}

// writeJSON writes v as JSON with the no-store caching headers every
// response of this server carries (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// appendQuery adds q to the query of raw, keeping the query it already has
// (RFC 6749 §3.1.2).
func appendQuery(raw string, q url.Values) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	existing := u.Query()
	for k, vs := range q {
		existing[k] = vs
	}
	u.RawQuery = existing.Encode()
	return u.String()
}
