package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cimd"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/httpapi"
)

// portless is a public client registering a portless loopback redirect URI
// (RFC 8252 §7.3), as Claude Code's document does: every port it uses is
// a new callback URL for its app client.
const portless = `{"redirect_uris":["http://localhost/callback"],"client_name":"Claude Code",` +
	`"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"]}`

// withBridge mounts the real CIMD bridge over the env's service.
func withBridge(t *testing.T, o *httpapi.Options) {
	t.Helper()
	b, err := cimd.NewBridge(cimd.BridgeOptions{Fetcher: cimd.NewFetcher(cimd.FetcherOptions{}),
		Registrar: o.Service.(*dcr.Service), CognitoDomain: cognitoDomain})
	if err != nil {
		t.Fatal(err)
	}
	o.Bridge = b
}

// authorizePath is a valid authorization request for clientID and ru.
func authorizePath(clientID, ru string) string {
	return "/authorize?" + url.Values{"client_id": {clientID}, "redirect_uri": {ru}, "response_type": {"code"},
		"state": {"st-9"}, "scope": {"mcp/tools"}, "code_challenge_method": {"S256"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}}.Encode()
}

// TestAuthorizeRateLimit proves /authorize requests that would add a
// callback URL (a new loopback port: a Cognito write) spend the
// registration rate limit's tokens, from the same per-source bucket:
// after the burst a new port is redirected back with
// temporarily_unavailable and state, without a Cognito write; listed ports
// and the registered URI are never limited; another source has its own
// bucket; registration from the spent source is refused too; and the
// bucket refills.
func TestAuthorizeRateLimit(t *testing.T) {
	e := newEnv(t, nil, func(o *httpapi.Options) {
		o.RateLimit, o.RateBurst, o.TrustForwardedFor = 1, 3, true // one token a minute
		withBridge(t, o)
	})
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip + ", 10.0.0.1"} }
	a, b := from("203.0.113.1"), from("198.51.100.9")
	r := e.do(t, "POST", "/register", portless, a...) // token 1 of source a
	if r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.raw)
	}
	id := r.str("client_id")
	port := func(p string) string { return "http://localhost:" + p + "/callback" }
	toCognito := func(ru string, src []string) {
		t.Helper()
		r := e.do(t, "GET", authorizePath(id, ru), "", src...)
		if loc := r.header.Get("Location"); r.status != http.StatusFound || !strings.HasPrefix(loc, cognitoDomain+"/oauth2/authorize?") {
			t.Fatalf("%s: %d Location %q, want Cognito", ru, r.status, loc)
		}
	}
	toCognito(port("50001"), a) // token 2
	toCognito(port("50002"), a) // token 3
	updates := e.apps.Calls(dcrtest.OpUpdate)
	r = e.do(t, "GET", authorizePath(id, port("50003")), "", a...)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil || r.status != http.StatusFound || !strings.HasPrefix(loc.String(), port("50003")+"?") {
		t.Fatalf("over the limit: %d Location %q", r.status, r.header.Get("Location"))
	}
	if q := loc.Query(); q.Get("error") != "temporarily_unavailable" || q.Get("state") != "st-9" ||
		!strings.Contains(q.Get("error_description"), "retry after 60s") {
		t.Fatalf("over the limit: error parameters %v", q)
	}
	if e.apps.Calls(dcrtest.OpUpdate) != updates {
		t.Fatal("a rate-limited request wrote the app client")
	}
	for _, ru := range []string{port("50001"), port("50002"), "http://localhost/callback"} {
		toCognito(ru, a) // no new callback URL: not limited
	}
	toCognito(port("50003"), b) // another source's bucket
	if r := e.do(t, "POST", "/register", portless, a...); r.status != http.StatusTooManyRequests {
		t.Fatalf("registration from the spent source: %d, want 429 (one bucket)", r.status)
	}
	e.clock.Advance(time.Minute)
	toCognito(port("50004"), a)
	app, _ := e.apps.Client(id)
	if got := strings.Join(app.Spec.CallbackURLs, " "); got != strings.Join([]string{"http://localhost/callback",
		port("50001"), port("50002"), port("50003"), port("50004")}, " ") {
		t.Fatalf("app client callback URLs %s", got)
	}
}
