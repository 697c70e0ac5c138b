package bearer

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestChallengeString(t *testing.T) {
	tests := []struct {
		c    Challenge
		want string
	}{
		{Challenge{}, "Bearer"},
		{Challenge{ResourceMetadata: "https://h/.well-known/oauth-protected-resource/mcp", Scope: []string{"a", "b"}},
			`Bearer resource_metadata="https://h/.well-known/oauth-protected-resource/mcp", scope="a b"`},
		{Challenge{Error: "invalid_token", ErrorDescription: "claim \"aud\" is\\bad\n\u00e9"},
			`Bearer error="invalid_token", error_description="claim 'aud' is/bad   "`},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
	long := Challenge{ErrorDescription: strings.Repeat("x", 1000)}.String()
	if len(long) > 250 {
		t.Errorf("description not capped: %d bytes", len(long))
	}
}

func TestExtractToken(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		headers []string
		token   string
		status  int // 0 = ok
		code    string
	}{
		{"ok", "", []string{"Bearer abc.def-_~+/="}, "abc.def-_~+/=", 0, ""},
		{"scheme case-insensitive", "", []string{"bEaReR tok"}, "tok", 0, ""},
		{"several spaces after scheme", "", []string{"Bearer   tok"}, "tok", 0, ""},
		{"none", "", nil, "", 401, ""},
		{"other scheme", "", []string{"Basic dTpw"}, "", 401, ""},
		{"scheme only", "", []string{"Bearer"}, "", 401, CodeInvalidToken},
		{"empty", "", []string{"Bearer "}, "", 401, CodeInvalidToken},
		{"inner space", "", []string{"Bearer a b"}, "", 401, CodeInvalidToken},
		{"padding then char", "", []string{"Bearer a=b"}, "", 401, CodeInvalidToken},
		{"only padding", "", []string{"Bearer =="}, "", 401, CodeInvalidToken},
		{"quote", "", []string{`Bearer "tok"`}, "", 401, CodeInvalidToken},
		{"two headers", "", []string{"Bearer a", "Bearer b"}, "", 400, CodeInvalidRequest},
		{"query token", "access_token=x", nil, "", 400, CodeInvalidRequest},
		{"query token with header", "access_token=x", []string{"Bearer a"}, "", 400, CodeInvalidRequest},
		{"empty query token", "access_token=", []string{"Bearer a"}, "", 400, CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/mcp?"+tt.query, nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			tok, e := ExtractToken(r)
			if tt.status == 0 {
				if e != nil || tok != tt.token {
					t.Fatalf("got %q, %v; want %q", tok, e, tt.token)
				}
				return
			}
			if e == nil || e.Status != tt.status || e.Code != tt.code {
				t.Fatalf("got %q, %+v; want status %d code %q", tok, e, tt.status, tt.code)
			}
		})
	}
}

type scopes []string

func (s scopes) MissingScopes(req []string) []string {
	var m []string
	for _, r := range req {
		if !slices.Contains(s, r) {
			m = append(m, r)
		}
	}
	return m
}

func TestMiddleware(t *testing.T) {
	verify := func(_ context.Context, raw string) (Token, error) {
		switch raw {
		case "good":
			return scopes{"a", "b"}, nil
		case "narrow":
			return scopes{"a"}, nil
		case "down":
			return nil, errors.New("wrapped: " + ErrUnavailable.Error())
		case "down2":
			return nil, ErrUnavailable
		case "nil":
			return nil, nil
		}
		return nil, errors.New("signature invalid")
	}
	var reached Token
	h := Middleware(Options{Verify: verify, ResourceMetadata: "https://h/.well-known/oauth-protected-resource/mcp", Scopes: []string{"a", "b"}})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = TokenFromContext(r.Context()) }))
	tests := []struct {
		token     string
		status    int
		challenge string
	}{
		{"good", 200, ""},
		{"", 401, `Bearer resource_metadata="https://h/.well-known/oauth-protected-resource/mcp", scope="a b"`},
		{"bad", 401, `error="invalid_token", error_description="signature invalid"`},
		{"nil", 401, `error="invalid_token"`},
		{"narrow", 403, `scope="a b", error="insufficient_scope"`},
		{"down2", 503, ""},
		{"down", 401, `error="invalid_token"`}, // only errors.Is(ErrUnavailable) counts
	}
	for _, tt := range tests {
		reached = nil
		r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
		if tt.token != "" {
			r.Header.Set("Authorization", "Bearer "+tt.token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.token, w.Code, tt.status)
		}
		if got := w.Header().Get("WWW-Authenticate"); !strings.Contains(got, tt.challenge) {
			t.Errorf("%s: challenge %q lacks %q", tt.token, got, tt.challenge)
		}
		if (reached != nil) != (tt.status == 200) {
			t.Errorf("%s: handler reached = %v", tt.token, reached != nil)
		}
		if tt.status == 503 && w.Header().Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After")
		}
		if tt.status != 200 && w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: error response cacheable", tt.token)
		}
	}
}
