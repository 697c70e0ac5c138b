package lambdahttp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/httpapi"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// registrationHandler is mcp-dcr's real handler (real dcr.Service over the
// dcrtest fakes) with a rate limit of one registration per source and
// minute, and TrustForwardedFor off, as behind an ALB.
func registrationHandler(t *testing.T) http.Handler {
	t.Helper()
	clock := testkit.NewClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	store := dcrtest.NewMemStore()
	store.SetNow(clock.Now)
	svc, err := dcr.NewService(dcrtest.NewFakeApps(), store, dcr.DefaultPolicy(), dcr.ServiceOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Options{
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
