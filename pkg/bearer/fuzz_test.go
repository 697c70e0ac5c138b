package bearer_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// bearerCredentials is the oracle's reading of RFC 6750 §2.1, written
// independently of ExtractToken: "Bearer" in any ASCII case, one or more
// spaces, then a b64token and nothing else.
var bearerCredentials = regexp.MustCompile(`^(?i:bearer) +([A-Za-z0-9._~+/-]+=*)$`)

// FuzzExtractToken feeds ExtractToken requests with no, one or two
// Authorization headers of arbitrary bytes and an arbitrary URI query.
// Properties: it never panics; it accepts exactly when there is one header
// holding "Bearer", spaces and an RFC 6750 §2.1 b64token (checked by the
// bearerCredentials oracle) and the query has no access_token (§2.3); the
// token returned is that b64token, non-empty, without surrounding
// whitespace; a refusal is a *bearer.Error with an RFC 6750 §3.1 code and
// its status (ErrNoToken, with no code, only when no Bearer credentials
// were offered). Seeds: testdata/fuzz/FuzzExtractToken.
func FuzzExtractToken(f *testing.F) {
	f.Fuzz(func(t *testing.T, auth, second, query string, headers uint8) {
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/mcp", RawQuery: query}, Header: http.Header{}}
		n := int(headers % 3)
		if n >= 1 {
			r.Header.Add("Authorization", auth)
		}
		if n == 2 {
			r.Header.Add("Authorization", second)
		}
		_, queryToken := r.URL.Query()["access_token"]
		m := bearerCredentials.FindStringSubmatch(auth)

		tok, e := bearer.ExtractToken(r)
		if e == nil {
			if tok == "" || tok != strings.TrimSpace(tok) {
				t.Fatalf("accepted an empty or padded token %q from %q", tok, auth)
			}
			if n != 1 || queryToken || m == nil || m[1] != tok {
				t.Fatalf("accepted %q from %d header(s) %q, query %q; the oracle refuses", tok, n, auth, query)
			}
			return
		}
		if tok != "" {
			t.Fatalf("a refusal returned the token %q", tok)
		}
		switch {
		case e.Code == "" && (e != bearer.ErrNoToken || e.Status != http.StatusUnauthorized):
			t.Fatalf("a refusal without a code that is not ErrNoToken: %+v", e)
		case e.Code == bearer.CodeInvalidRequest && e.Status != http.StatusBadRequest,
			e.Code == bearer.CodeInvalidToken && e.Status != http.StatusUnauthorized:
			t.Fatalf("%s with status %d", e.Code, e.Status)
		case e.Code != "" && e.Code != bearer.CodeInvalidRequest && e.Code != bearer.CodeInvalidToken:
			t.Fatalf("a refusal with code %q, not an RFC 6750 request or token error", e.Code)
		}
		switch {
		case queryToken || n == 2:
			if e.Code != bearer.CodeInvalidRequest {
				t.Fatalf("a query token or a repeated header gave %+v, want invalid_request", e)
			}
		case n == 0:
			if e != bearer.ErrNoToken {
				t.Fatalf("no header gave %+v, want ErrNoToken", e)
			}
		case m != nil:
			t.Fatalf("refused %q, which the oracle accepts: %+v", auth, e)
		}
	})
}
