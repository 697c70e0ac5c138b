package dcrmetrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrmetrics"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// scrape returns the /metrics text of p.
func scrape(t *testing.T, p *dcrmetrics.Prometheus) string {
	t.Helper()
	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d %s", rec.Code, body)
	}
	return string(body)
}

// waitSeries scrapes p until every line of want is in the text (the
// request counter is written as the handler returns, possibly just after
// the client has its answer) and fails with the last text otherwise.
func waitSeries(t *testing.T, p *dcrmetrics.Prometheus, want ...string) string {
	t.Helper()
	var text string
	ok := testkit.Poll(testkit.DefaultTimeout, func() bool {
		text = scrape(t, p)
		for _, w := range want {
			if !strings.Contains(text, "\n"+w+"\n") {
				return false
			}
		}
		return true
	})
	if !ok {
		for _, w := range want {
			if !strings.Contains(text, "\n"+w+"\n") {
				t.Errorf("missing series %q", w)
			}
		}
		t.Fatalf("/metrics:\n%s", text)
	}
	return text
}

// TestPrometheusRegistrations proves a registration created, one refused
// for its redirect URI and one rate limited, through the real HTTP
// handler, appear in the /metrics text as the documented series.
func TestPrometheusRegistrations(t *testing.T) {
	p := dcrmetrics.NewPrometheus()
	registerThree(t, p)
	text := waitSeries(t, p,
		`mcpdcr_registrations_total{reason="none",result="created"} 1`,
		`mcpdcr_registrations_total{reason="invalid_redirect_uri",result="refused"} 1`,
		`mcpdcr_registrations_total{reason="rate_limited",result="refused"} 1`,
		`mcpdcr_rate_limited_total{endpoint="register"} 1`,
		`mcpdcr_requests_total{endpoint="register",status="201"} 1`,
		`mcpdcr_requests_total{endpoint="register",status="400"} 1`,
		`mcpdcr_requests_total{endpoint="register",status="429"} 1`,
		`# TYPE mcpdcr_registrations_total counter`,
		`# TYPE mcpdcr_requests_total counter`,
	)
	if strings.Contains(text, "mcpdcr_cognito") || strings.Contains(text, "mcpdcr_cimd") {
		t.Errorf("series without a measurement:\n%s", text)
	}
}

// TestPrometheusCognitoAndCIMD proves the Cognito call counter and
// duration histogram and the CIMD fetch counter.
func TestPrometheusCognitoAndCIMD(t *testing.T) {
	p := dcrmetrics.NewPrometheus()
	p.CognitoCall("CreateUserPoolClient", dcr.CognitoOK, 120*time.Millisecond)
	p.CognitoCall("CreateUserPoolClient", dcr.CognitoThrottled, 3*time.Second)
	p.CIMDFetch(dcr.CIMDCacheHit)
	p.CIMDFetch(dcr.CIMDFetched)
	p.CIMDFetch(dcr.CIMDFetched)
	waitSeries(t, p,
		`# TYPE mcpdcr_cognito_call_duration_seconds histogram`,
		`mcpdcr_cognito_calls_total{op="CreateUserPoolClient",result="ok"} 1`,
		`mcpdcr_cognito_calls_total{op="CreateUserPoolClient",result="throttled"} 1`,
		`mcpdcr_cognito_call_duration_seconds_bucket{op="CreateUserPoolClient",le="0.1"} 0`,
		`mcpdcr_cognito_call_duration_seconds_bucket{op="CreateUserPoolClient",le="0.25"} 1`,
		`mcpdcr_cognito_call_duration_seconds_bucket{op="CreateUserPoolClient",le="5"} 2`,
		`mcpdcr_cognito_call_duration_seconds_sum{op="CreateUserPoolClient"} 3.12`,
		`mcpdcr_cognito_call_duration_seconds_count{op="CreateUserPoolClient"} 2`,
		`mcpdcr_cimd_fetches_total{result="cache_hit"} 1`,
		`mcpdcr_cimd_fetches_total{result="fetched"} 2`,
	)
}

// TestPrometheusOwnRegistry: two instances do not share series (each has
// its own registry, not the global one).
func TestPrometheusOwnRegistry(t *testing.T) {
	a, b := dcrmetrics.NewPrometheus(), dcrmetrics.NewPrometheus()
	a.RateLimited(dcr.EndpointToken)
	waitSeries(t, a, `mcpdcr_rate_limited_total{endpoint="token"} 1`)
	if strings.Contains(scrape(t, b), "mcpdcr_rate_limited_total{") {
		t.Fatal("a measurement of one instance appears in the other")
	}
}
