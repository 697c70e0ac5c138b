package lambdahttp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cimd"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/httpapi"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// registrationHandler is mcp-dcr's real handler (real dcr.Service over the
// dcrtest fakes, the real CIMD bridge) with a rate limit of one
// registration per source and minute, and TrustForwardedFor off, as behind
// an ALB.
func registrationHandler(t *testing.T) http.Handler {
	t.Helper()
	clock := testkit.NewClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	store := dcrtest.NewMemStore()
	store.SetNow(clock.Now)
	svc, err := dcr.NewService(dcrtest.NewFakeApps(), store, dcr.DefaultPolicy(), dcr.ServiceOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	bridge, err := cimd.NewBridge(cimd.BridgeOptions{Fetcher: cimd.NewFetcher(cimd.FetcherOptions{}), Registrar: svc,
		CognitoDomain: "https://auth.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Options{
		Bridge:        bridge,
		Service:       svc,
		PublicURL:     "https://mcp.example.com",
		CognitoDomain: "https://auth.example.com",
		JWKSURI:       "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test1/.well-known/jwks.json",
		Scopes:        func(context.Context) ([]string, error) { return []string{"openid"}, nil },
		RateLimit:     1,
		RateBurst:     1,
		Now:           clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestALBRateLimitKey: behind an ALB the registration rate limit keys on
// the peer ALB appended to X-Forwarded-For, so a client cannot escape its
// bucket (or spend another source's) by sending its own X-Forwarded-For
// prefix; another peer still has its own bucket. Both header modes.
func TestALBRateLimitKey(t *testing.T) {
	for _, file := range []string{"alb_multi_post_register.json", "alb_single_post_register.json"} {
		t.Run(file, func(t *testing.T) {
			h := registrationHandler(t)
			steps := []struct {
				xff    string
				status int
			}{
				{"203.0.113.7", http.StatusCreated},
				{"198.51.100.1, 203.0.113.7", http.StatusTooManyRequests},            // a fresh first hop gets no fresh bucket
				{"192.0.2.9, 198.51.100.2, 203.0.113.7", http.StatusTooManyRequests}, // nor do several
				{"203.0.113.9, 203.0.113.8", http.StatusCreated},                     // peer .8 naming .9 is charged to .8,
				{"203.0.113.8", http.StatusTooManyRequests},                          // as .8 finds out,
				{"203.0.113.9", http.StatusCreated},                                  // and .9's bucket is untouched
			}
			for i, st := range steps {
				ev := withEvent(t, file, func(ev map[string]any) { setHeader(ev, "x-forwarded-for", st.xff) })
				a := invokeALB(t, h, nil, ev)
				if a.resp.StatusCode != st.status {
					t.Fatalf("step %d (X-Forwarded-For %q): status %d, want %d: %s", i, st.xff, a.resp.StatusCode, st.status, a.resp.Body)
				}
				if st.status == http.StatusTooManyRequests {
					var e map[string]string
					if err := json.Unmarshal([]byte(a.resp.Body), &e); err != nil || e["error"] != "slow_down" ||
						len(a.header("Retry-After")) != 1 {
						t.Fatalf("step %d: 429 answer %s", i, a.raw)
					}
				} else if !strings.Contains(a.resp.Body, `"client_id":`) {
					t.Fatalf("step %d: registration answer %s", i, a.resp.Body)
				}
			}
		})
	}
}

// TestALBAuthorizeRateLimitKey: behind an ALB, /authorize requests that
// add a loopback callback URL spend the registration bucket of the peer
// ALB appended to X-Forwarded-For, as /register does: after the peer's
// registration spent its only token, a new port is refused whatever first
// hops the client writes; another peer may add one, and a listed port is
// free for anyone. Both header modes.
func TestALBAuthorizeRateLimitKey(t *testing.T) {
	modes := []struct{ register, authorize string }{
		{"alb_multi_post_register.json", "alb_multi_get_authorize.json"},
		{"alb_single_post_register.json", "alb_single_get_authorize.json"},
	}
	for _, m := range modes {
		t.Run(m.authorize, func(t *testing.T) {
			h := registrationHandler(t)
			reg := invokeALB(t, h, nil, withEvent(t, m.register, func(ev map[string]any) {
				body := `{"redirect_uris":["http://localhost/callback"],"client_name":"Claude Code","token_endpoint_auth_method":"none"}`
				ev["body"], ev["isBase64Encoded"] = base64.StdEncoding.EncodeToString([]byte(body)), true
				setHeader(ev, "content-length") // removed: the body changed
				setHeader(ev, "x-forwarded-for", "203.0.113.7")
			}))
			var created struct {
				ClientID string `json:"client_id"`
			}
			if err := json.Unmarshal([]byte(reg.resp.Body), &created); err != nil || created.ClientID == "" {
				t.Fatalf("registration: %d %s", reg.resp.StatusCode, reg.resp.Body)
			}
			steps := []struct {
				xff, port, to string
			}{
				{"198.51.100.1, 203.0.113.7", "50001", "http://localhost:50001/callback?"}, // spent by the registration
				{"192.0.2.9, 198.51.100.2, 203.0.113.7", "50001", "http://localhost:50001/callback?"},
				{"203.0.113.7, 203.0.113.8", "50001", "https://auth.example.com/oauth2/authorize?"}, // peer .8's token
				{"203.0.113.7", "50001", "https://auth.example.com/oauth2/authorize?"},              // listed now: free
				{"203.0.113.8", "50002", "http://localhost:50002/callback?"},                        // .8 has spent its own
			}
			for i, st := range steps {
				ev := withEvent(t, m.authorize, func(ev map[string]any) {
					setQuery(ev, url.Values{"client_id": {created.ClientID}, "redirect_uri": {"http://localhost:" + st.port + "/callback"},
						"response_type": {"code"}, "state": {"s"}, "code_challenge_method": {"S256"},
						"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}})
					setHeader(ev, "x-forwarded-for", st.xff)
				})
				a := invokeALB(t, h, nil, ev)
				loc := a.header("Location")
				if a.resp.StatusCode != http.StatusFound || len(loc) != 1 || !strings.HasPrefix(loc[0], st.to) {
					t.Fatalf("step %d (X-Forwarded-For %q): %d Location %v, want %s...", i, st.xff, a.resp.StatusCode, loc, st.to)
				}
				if q, _ := url.Parse(loc[0]); strings.HasPrefix(st.to, "http://localhost") && q.Query().Get("error") != "temporarily_unavailable" {
					t.Fatalf("step %d: refusal %s", i, loc[0])
				}
			}
		})
	}
}

// setQuery replaces an ALB event's query (kept percent-encoded, as ALB
// sends it) in whichever mode the event uses.
func setQuery(ev map[string]any, q url.Values) {
	multi := map[string]any{}
	single := map[string]any{}
	for k, vs := range q {
		multi[k] = []string{url.QueryEscape(vs[0])}
		single[k] = url.QueryEscape(vs[0])
	}
	if _, ok := ev["multiValueQueryStringParameters"]; ok {
		ev["multiValueQueryStringParameters"] = multi
		return
	}
	ev["queryStringParameters"] = single
}
