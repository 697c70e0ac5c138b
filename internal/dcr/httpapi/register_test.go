package httpapi_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/httpapi"
)

func TestRegisterPublicAndConfidential(t *testing.T) {
	tests := []struct {
		name       string
		md         string
		authMethod string
		secret     bool
	}{
		{"public (Claude Code)", claudeCode, "none", false},
		{"confidential (claude.ai)", confidential, "client_secret_basic", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, nil)
			r := e.do(t, "POST", "/register", tt.md)
			if r.status != http.StatusCreated {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("headers %v", r.header)
			}
			id := r.str("client_id")
			app, ok := e.apps.Client(id)
			if !ok {
				t.Fatalf("no app client %q created", id)
			}
			if r.str("token_endpoint_auth_method") != tt.authMethod {
				t.Fatalf("token_endpoint_auth_method = %q", r.str("token_endpoint_auth_method"))
			}
			if got := r.str("client_secret"); (got != "") != tt.secret || (tt.secret && got != app.Secret) {
				t.Fatalf("client_secret %q (app secret %q)", got, app.Secret)
			}
			if tt.secret && r.body["client_secret_expires_at"] != float64(0) {
				t.Fatalf("client_secret_expires_at = %v", r.body["client_secret_expires_at"])
			}
			if r.str("registration_access_token") == "" || r.str("registration_client_uri") != publicURL+"/register/"+id {
				t.Fatalf("RFC 7592 members: %s", r.raw)
			}
			if r.body["client_id_issued_at"] != float64(e.clock.Now().Unix()) {
				t.Fatalf("client_id_issued_at = %v", r.body["client_id_issued_at"])
			}
			if r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("no CORS on /register")
			}
		})
	}
}

func TestRegisterReusedPublicClientGetsNoToken(t *testing.T) {
	e := newEnv(t, nil, nil)
	id, _ := e.register(t, claudeCode)
	r := e.do(t, "POST", "/register", claudeCode)
	if r.status != http.StatusCreated || r.str("client_id") != id {
		t.Fatalf("second registration: %d %s", r.status, r.raw)
	}
	if r.str("registration_access_token") != "" || r.str("registration_client_uri") != "" || e.apps.Len() != 1 {
		t.Fatalf("reused registration must not be manageable by the new requester: %s", r.raw)
	}
}

func TestRegisterRefusals(t *testing.T) {
	big := `{"redirect_uris":["http://localhost/cb"],"client_name":"` + strings.Repeat("a", 20<<10) + `"}`
	tests := []struct {
		name        string
		method      string
		path        string
		body        string
		contentType string
		status      int
		code        string
		desc        string
	}{
		{"malformed JSON", "POST", "/register", `{"redirect_uris":`, "", 400, "invalid_client_metadata", "not valid JSON"},
		{"JSON array", "POST", "/register", `[1]`, "", 400, "invalid_client_metadata", "JSON object"},
		{"JSON null", "POST", "/register", `null`, "", 400, "invalid_client_metadata", "JSON object"},
		{"trailing data", "POST", "/register", claudeCode + `{}`, "", 400, "invalid_client_metadata", ""},
		{"redirect_uris a string", "POST", "/register", `{"redirect_uris":"http://localhost/cb"}`, "", 400,
			"invalid_client_metadata", "redirect_uris must be a JSON array"},
		{"form body", "POST", "/register", "redirect_uris=x", "application/x-www-form-urlencoded", 415,
			"invalid_client_metadata", "application/json"},
		{"no content type", "POST", "/register", claudeCode, "-", 415, "invalid_client_metadata", ""},
		{"oversized body", "POST", "/register", big, "", 413, "invalid_client_metadata", "exceeds 16384 bytes"},
		{"no redirect_uris", "POST", "/register", `{"client_name":"x"}`, "", 400, "invalid_redirect_uri", ""},
		{"foreign https redirect", "POST", "/register", `{"redirect_uris":["https://evil.example/cb"]}`, "", 400,
			"invalid_redirect_uri", ""},
		{"fragment", "POST", "/register", `{"redirect_uris":["http://localhost/cb#x"]}`, "", 400, "invalid_redirect_uri", ""},
		{"implicit grant", "POST", "/register", `{"redirect_uris":["http://localhost/cb"],"response_types":["token"]}`, "",
			400, "invalid_client_metadata", ""},
		{"scope outside policy", "POST", "/register", `{"redirect_uris":["http://localhost/cb"],"scope":"admin"}`, "",
			400, "invalid_client_metadata", ""},
		{"GET /register", "GET", "/register", "", "", 405, "invalid_request", "POST"},
		{"unknown route", "GET", "/nope", "", "", 404, "invalid_request", "no such endpoint"},
		{"bridge not mounted", "GET", "/authorize", "", "", 404, "invalid_request", ""},
		{"nested client path", "GET", "/register/a/b", "", "", 404, "invalid_request", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, nil)
			var hdr []string
			switch tt.contentType {
			case "":
			case "-":
				hdr = []string{"Content-Type", ""}
			default:
				hdr = []string{"Content-Type", tt.contentType}
			}
			r := e.do(t, tt.method, tt.path, tt.body, hdr...)
			wantError(t, r, tt.status, tt.code)
			if !strings.Contains(r.str("error_description"), tt.desc) {
				t.Fatalf("error_description %q lacks %q", r.str("error_description"), tt.desc)
			}
			if e.apps.Len() != 0 {
				t.Fatalf("a refused request created an app client")
			}
		})
	}
}

func TestInitialAccessToken(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		status int
	}{
		{"missing", nil, 401},
		{"wrong", []string{"Authorization", "Bearer " + iat + "x"}, 401},
		{"other scheme", []string{"Authorization", "Basic " + iat}, 401},
		{"right", []string{"Authorization", "Bearer " + iat}, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, func(o *httpapi.Options) { o.InitialAccessToken = iat })
			r := e.do(t, "POST", "/register", claudeCode, tt.header...)
			if r.status != tt.status {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			if tt.status == 401 {
				wantError(t, r, 401, "invalid_token")
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`) {
					t.Fatalf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
				}
				if e.apps.Len() != 0 {
					t.Fatal("unauthorized registration created an app client")
				}
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, nil, func(o *httpapi.Options) {
		o.RateLimit, o.RateBurst, o.TrustForwardedFor = 6, 3, true // one token per 10s
	})
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip + ", 10.0.0.1"} }
	for i := range 3 {
		if r := e.do(t, "POST", "/register", claudeCode, from("203.0.113.1")...); r.status != 201 {
			t.Fatalf("request %d within the burst: %d %s", i, r.status, r.raw)
		}
	}
	r := e.do(t, "POST", "/register", claudeCode, from("203.0.113.1")...)
	wantError(t, r, http.StatusTooManyRequests, "slow_down")
	if r.header.Get("Retry-After") != "10" {
		t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	// management requests count against the same bucket
	if r := e.do(t, "GET", "/register/x", "", from("203.0.113.1")...); r.status != 429 {
		t.Fatalf("RFC 7592 request not limited: %d", r.status)
	}
	// another source has its own bucket; metadata is never limited
	if r := e.do(t, "POST", "/register", claudeCode, from("198.51.100.9")...); r.status != 201 {
		t.Fatalf("other source: %d %s", r.status, r.raw)
	}
	if r := e.do(t, "GET", "/.well-known/oauth-authorization-server", "", from("203.0.113.1")...); r.status != 200 {
		t.Fatalf("metadata limited: %d", r.status)
	}
	e.clock.Advance(10 * time.Second)
	if r := e.do(t, "POST", "/register", claudeCode, from("203.0.113.1")...); r.status != 201 {
		t.Fatalf("after refill: %d %s", r.status, r.raw)
	}
}

func TestRateLimitIgnoresForwardedForUnlessTrusted(t *testing.T) {
	e := newEnv(t, nil, func(o *httpapi.Options) { o.RateLimit, o.RateBurst = 1, 1 })
	if r := e.do(t, "POST", "/register", claudeCode, "X-Forwarded-For", "192.0.2.1"); r.status != 201 {
		t.Fatalf("first: %d", r.status)
	}
	if r := e.do(t, "POST", "/register", claudeCode, "X-Forwarded-For", "192.0.2.2"); r.status != 429 {
		t.Fatalf("a spoofed X-Forwarded-For escaped the limit: %d", r.status)
	}
}

func TestServerErrors(t *testing.T) {
	throttled := errors.New("throttled")
	tests := []struct {
		name   string
		inject func(*env)
		status int
		code   string
	}{
		{"throttled is 503", func(e *env) { e.apps.FailNextCreate(throttled) }, 503, "temporarily_unavailable"},
		{"store failure is 500", func(e *env) { e.store.FailNextCreate(errors.New("disk on fire")) }, 500, "server_error"},
		{"quota exceeded in Cognito", func(e *env) { e.apps.FailNextCreate(dcrtest.ErrLimitExceeded) }, 500, "server_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, func(o *httpapi.Options) {
				o.Retryable = func(err error) bool { return errors.Is(err, throttled) }
			})
			tt.inject(e)
			r := e.do(t, "POST", "/register", claudeCode)
			wantError(t, r, tt.status, tt.code)
			if tt.status == 503 && r.header.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
			if strings.Contains(r.raw, "fire") || strings.Contains(r.raw, "dcrtest") {
				t.Fatalf("internal cause leaked: %s", r.raw)
			}
			if e.apps.Len() != 0 {
				t.Fatalf("app client left behind: %v", e.apps.IDs())
			}
		})
	}
}

func TestRegistrationCeiling(t *testing.T) {
	e := newEnv(t, func(p *dcr.Policy) { p.MaxRegistrations = 1 }, nil)
	e.register(t, claudeCode)
	r := e.do(t, "POST", "/register", confidential)
	wantError(t, r, http.StatusServiceUnavailable, "temporarily_unavailable")
	if !strings.Contains(r.str("error_description"), "at most 1") || r.header.Get("Retry-After") == "" {
		t.Fatalf("ceiling answer: %v %s", r.header, r.raw)
	}
}

func TestPreflight(t *testing.T) {
	e := newEnv(t, nil, nil)
	for _, path := range []string{"/register", "/register/abc"} {
		r := e.do(t, "OPTIONS", path, "")
		if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Fatalf("%s preflight: %d %v", path, r.status, r.header)
		}
	}
}
