package bearer

import (
	"net/http"
	"strings"
)

// ExtractToken returns the bearer token of r per RFC 6750 §2.1. It returns
// ErrNoToken when there is no Authorization header or its scheme is not
// Bearer; a 401 invalid_token when the credentials are not b64token syntax
// or empty (MCP: invalid tokens get 401); and a 400 invalid_request when
// the header is repeated,
// or a token is also offered in the URI query (RFC 6750 §2.3, which OAuth 2.1
// and MCP forbid) or as an access_token form field. It does not read request
// bodies, so a form-encoded access_token in the body is only detected through
// the query.
func ExtractToken(r *http.Request) (string, *Error) {
	if _, ok := r.URL.Query()["access_token"]; ok {
		return "", ErrInvalidRequest("access tokens in the URI query are not accepted; use the Authorization header")
	}
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", ErrNoToken
	case 1:
	default:
		return "", ErrInvalidRequest("more than one Authorization header")
	}
	scheme, token, found := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", ErrNoToken
	}
	token = strings.TrimLeft(token, " ")
	if !found || token == "" {
		return "", ErrInvalidToken("the Bearer credentials are empty")
	}
	if !IsB64Token(token) {
		return "", ErrInvalidToken("the token is not a b64token (RFC 6750 section 2.1)")
	}
	return token, nil
}

// IsB64Token checks the RFC 6750 §2.1 b64token syntax:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". It is the
// one check of that syntax: configuration uses it for secrets that travel
// as bearer credentials. It does not check length or entropy.
func IsB64Token(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}
