package httpapi_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/httpapi"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// wantEvents waits until m has recorded len(want) lines (the request line
// is recorded as the handler returns, which may be just after the client
// has read the answer) and compares those after the first from with want.
// It returns the number of lines seen, the next call's from.
func wantEvents(t *testing.T, m *dcrtest.Metrics, from int, want ...string) int {
	t.Helper()
	n := from + len(want)
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { return len(m.Events()) >= n },
		fmt.Sprintf("%d metric events", n))
	if got := m.Events()[from:]; !slices.Equal(got, want) {
		t.Fatalf("metric events:\n got %q\nwant %q", got, want)
	}
	return n
}

// TestMetricsRegistration proves every POST /register is counted once by
// its outcome, the refusals before the service included, and every request
// by endpoint and status; preflights and wrong methods are requests, not
// registrations.
func TestMetricsRegistration(t *testing.T) {
	throttled := errors.New("throttled")
	m := &dcrtest.Metrics{}
	e := newEnv(t, nil, func(o *httpapi.Options) {
		o.Metrics, o.InitialAccessToken = m, iat
		o.Retryable = func(err error) bool { return errors.Is(err, throttled) }
	})
	auth := []string{"Authorization", "Bearer " + iat}
	n := 0
	step := func(method, path, body string, status int, header []string, want ...string) {
		t.Helper()
		if r := e.do(t, method, path, body, header...); r.status != status {
			t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.raw, status)
		}
		n = wantEvents(t, m, n, want...)
	}
	step("POST", "/register", claudeCode, 401, nil, "registration refused invalid_token", "request register 401")
	step("POST", "/register", claudeCode, 201, auth, "registration created none", "request register 201")
	step("POST", "/register", claudeCode, 201, auth, "registration reused none", "request register 201")
	step("POST", "/register", strings.Replace(claudeCode, "http://localhost:3334/callback", "https://evil.example/cb", 1), 400, auth,
		"registration refused invalid_redirect_uri", "request register 400")
	step("POST", "/register", `{"redirect_uris":`, 400, auth, "registration refused invalid_client_metadata", "request register 400")
	e.apps.FailNextCreate(errors.New("boom"))
	step("POST", "/register", confidential, 500, auth, "registration error cognito", "request register 500")
	e.apps.FailNextCreate(fmt.Errorf("create: %w", throttled))
	step("POST", "/register", confidential, 503, auth, "registration error cognito", "request register 503")
	e.store.FailNextCreate(errors.New("disk on fire"))
	step("POST", "/register", confidential, 500, auth, "registration error store", "request register 500")
	step("OPTIONS", "/register", "", 204, nil, "request register 204")
	step("GET", "/register", "", 405, nil, "request register 405")
	step("GET", "/register/nope", "", 401, []string{"Authorization", "Bearer x"}, "request register_manage 401")
	step("GET", "/.well-known/oauth-authorization-server", "", 200, nil, "request metadata 200")
	step("GET", "/nope", "", 404, nil, "request other 404")
}

// TestMetricsRateLimited proves a request refused by the rate limit is
// counted as rate limited on its endpoint and, on /register, as a refused
// registration; and that a Cognito write the bridge's /authorize was
// refused is counted on authorize.
func TestMetricsRateLimited(t *testing.T) {
	m := &dcrtest.Metrics{}
	host := newDocHost(t)
	e := newEnv(t, nil, func(o *httpapi.Options) {
		o.Metrics, o.RateLimit, o.RateBurst = m, 1, 1
		withDocBridge(t, o, host)
	})
	e.register(t, claudeCode)
	n := wantEvents(t, m, 0, "registration created none", "request register 201")
	if r := e.do(t, "POST", "/register", claudeCode); r.status != http.StatusTooManyRequests {
		t.Fatalf("over the limit: %d %s", r.status, r.raw)
	}
	n = wantEvents(t, m, n, "rate_limited register", "registration refused rate_limited", "request register 429")
	if r := e.do(t, "DELETE", "/register/x", "", "Authorization", "Bearer x"); r.status != http.StatusTooManyRequests {
		t.Fatalf("management over the limit: %d %s", r.status, r.raw)
	}
	n = wantEvents(t, m, n, "rate_limited register_manage", "request register_manage 429")
	r := e.do(t, "GET", authorizePath(host.URL+"/c.json", "http://localhost/callback"), "")
	if loc, _ := url.Parse(r.header.Get("Location")); r.status != http.StatusFound || loc.Query().Get("error") != "temporarily_unavailable" {
		t.Fatalf("a new document over the limit: %d %s", r.status, r.header.Get("Location"))
	}
	wantEvents(t, m, n, "rate_limited authorize", "request authorize 302")
}
