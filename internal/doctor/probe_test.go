package doctor

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
)

// TestResourceProbeAnswers: what each kind of answer to the probe means.
// The fake authorization server's endpoints answer as the case says; the
// probe client is "c1" with redirect URI https://app.example.com/cb.
func TestResourceProbeAnswers(t *testing.T) {
	const redirect = "https://app.example.com/cb"
	back := func(q string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, redirect+"?"+q+"&state="+url.QueryEscape(r.URL.Query().Get("state")), http.StatusFound)
		}
	}
	refusing := fakeIdP{rfc8414: true, meta: complete, handlers: map[string]http.HandlerFunc{
		"GET /pool/oauth2/authorize": back("error=invalid_target&error_description=unknown+resource"),
	}}
	_, downstream := refusing.start(t)
	tests := []struct {
		name     string
		handlers map[string]http.HandlerFunc
		par      bool
		want     Status
		detail   string
	}{
		{name: "refused by redirect", want: Fail, detail: "answered with invalid_target: unknown resource",
			handlers: map[string]http.HandlerFunc{"GET /pool/oauth2/authorize": back("error=invalid_target&error_description=unknown+resource")}},
		{name: "code issued", want: OK, detail: "approved at once",
			handlers: map[string]http.HandlerFunc{"GET /pool/oauth2/authorize": back("code=abc")}},
		{name: "sign-in page by redirect", want: OK, detail: "went on to sign-in at https://idp",
			handlers: map[string]http.HandlerFunc{"GET /pool/oauth2/authorize": func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/login?session=1", http.StatusFound)
			}}},
		{name: "sign-in page", want: OK, detail: "answered with a page",
			handlers: map[string]http.HandlerFunc{"GET /pool/oauth2/authorize": func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte("<form>Sign in</form>"))
			}}},
		{name: "another error", want: Warn, detail: "refused for another reason (invalid_scope)",
			handlers: map[string]http.HandlerFunc{"GET /pool/oauth2/authorize": back("error=invalid_scope")}},
		{name: "unknown client", want: Warn, detail: "HTTP 400 without an OAuth error",
			handlers: map[string]http.HandlerFunc{"GET /pool/oauth2/authorize": func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "<html>oops</html>", http.StatusBadRequest)
			}}},
		{name: "refused as JSON", want: Fail, detail: "HTTP 400 invalid_target",
			handlers: map[string]http.HandlerFunc{"GET /pool/oauth2/authorize": func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"invalid_target"}`))
			}}},
		{name: "PAR refuses", par: true, want: Fail, detail: "pushed authorization request was refused with invalid_target",
			handlers: map[string]http.HandlerFunc{"POST /pool/par": func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"invalid_target"}`))
			}}},
		// A confidential probe client cannot push: the authorization
		// endpoint decides.
		{name: "PAR needs client auth", par: true, want: OK, detail: "approved at once",
			handlers: map[string]http.HandlerFunc{
				"POST /pool/par": func(w http.ResponseWriter, _ *http.Request) {
					w.WriteHeader(http.StatusUnauthorized)
					_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
				},
				"GET /pool/oauth2/authorize": back("code=abc"),
			}},
		// mcp-dcr in front of Cognito forwards the request: the next
		// server is asked too.
		{name: "forwarded", want: Fail, detail: "answered with invalid_target",
			handlers: map[string]http.HandlerFunc{"GET /pool/oauth2/authorize": func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, downstream+"/oauth2/authorize?"+r.URL.RawQuery, http.StatusFound)
			}}},
		{name: "forwarded without resource", want: Warn, detail: "without resource: tokens from there will not be bound",
			handlers: map[string]http.HandlerFunc{"GET /pool/oauth2/authorize": func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				q.Del("resource")
				http.Redirect(w, r, downstream+"/oauth2/authorize?"+q.Encode(), http.StatusFound)
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := fakeIdP{rfc8414: true, meta: func(m map[string]any) {
				complete(m)
				if tt.par {
					m["pushed_authorization_request_endpoint"] = m["issuer"].(string) + "/par"
				}
			}, handlers: tt.handlers}
			_, issuer := idp.start(t)
			o := testOpts()
			o.Probe = ProbeOptions{ClientID: "c1", RedirectURI: redirect}
			r := Run(context.Background(), loaded(issuer, func(c *config.Config) { c.RequiredScopes = []string{"mcp:tools"} }), o)
			wantCheck(t, r, "resource", tt.want, tt.detail)
			wantCheck(t, r, "resource", tt.want, `with client "c1"`)
		})
	}
}

// TestProbeRegisterNeedsEndpoint: --probe-register against a server without
// open registration registers nothing and says so.
func TestProbeRegisterNeedsEndpoint(t *testing.T) {
	_, issuer := fakeIdP{oidc: true, meta: cognitoLike}.start(t)
	o := testOpts()
	o.Probe.Register = true
	r := Run(context.Background(), loaded(issuer, nil), o)
	wantCheck(t, r, "resource", Warn, "--probe-register: "+issuer+" has no registration_endpoint")
}
