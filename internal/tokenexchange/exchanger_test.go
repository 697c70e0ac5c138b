package tokenexchange_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/tokenexchange"
)

// TestRequestParameters checks the exact form each grant posts: its own
// parameters, scope, the client's authentication and nothing else (no
// code, redirect_uri, client_credentials grant...).
func TestRequestParameters(t *testing.T) {
	keys(t)
	keyAuth, err := tokenexchange.KeyAuth(pkcs8(t, ecKey), "k1")
	if err != nil {
		t.Fatal(err)
	}
	exchange := func(extra url.Values) url.Values {
		v := url.Values{
			"grant_type":    {tokenexchange.GrantTypeTokenExchange},
			"subject_token": {subjectToken},
		}
		for k, vv := range extra {
			v[k] = vv
		}
		return v
	}
	obo := func(extra url.Values) url.Values {
		v := url.Values{
			"grant_type":          {tokenexchange.GrantTypeJWTBearer},
			"assertion":           {subjectToken},
			"requested_token_use": {"on_behalf_of"},
		}
		for k, vv := range extra {
			v[k] = vv
		}
		return v
	}
	const atType = "urn:ietf:params:oauth:token-type:access_token"
	for _, tt := range []struct {
		name       string
		set        func(o *tokenexchange.Options)
		want       url.Values
		wantHeader bool // client_secret_basic
	}{
		{
			name: "exchange, audience, default subject_token_type, basic",
			set:  func(o *tokenexchange.Options) { o.Audience = "https://api.example/" },
			want: exchange(url.Values{"subject_token_type": {atType}, "audience": {"https://api.example/"}}), wantHeader: true,
		},
		{
			name: "exchange, resource, custom subject_token_type, scopes, basic",
			set: func(o *tokenexchange.Options) {
				o.Audience, o.Resource = "", "https://api.example/mcp"
				o.SubjectTokenType = "urn:acme:legacy-token"
				o.Scopes = []string{"tickets:read", "tickets:write", "openid"}
			},
			want:       exchange(url.Values{"subject_token_type": {"urn:acme:legacy-token"}, "resource": {"https://api.example/mcp"}, "scope": {"tickets:read tickets:write openid"}}),
			wantHeader: true,
		},
		{
			name: "exchange, requested_token_type, basic",
			set: func(o *tokenexchange.Options) {
				o.RequestedTokenType = "urn:ietf:params:oauth:token-type:jwt"
			},
			want:       exchange(url.Values{"subject_token_type": {atType}, "audience": {"https://upstream.example/"}, "requested_token_type": {"urn:ietf:params:oauth:token-type:jwt"}}),
			wantHeader: true,
		},
		{
			name: "exchange, audience and resource, post",
			set: func(o *tokenexchange.Options) {
				o.Audience, o.Resource = "tickets", "https://api.example/mcp"
				o.Auth = secretAuth(t, tokenexchange.AuthClientSecretPost)
			},
			want: exchange(url.Values{
				"subject_token_type": {atType}, "audience": {"tickets"}, "resource": {"https://api.example/mcp"},
				"client_id": {clientID}, "client_secret": {clientSecret},
			}),
		},
		{
			name: "entra-obo, post",
			set: func(o *tokenexchange.Options) {
				o.Grant, o.Audience, o.Scopes = tokenexchange.GrantEntraOBO, "", []string{"api://tickets/.default"}
				o.Auth = secretAuth(t, tokenexchange.AuthClientSecretPost)
			},
			want: obo(url.Values{"scope": {"api://tickets/.default"}, "client_id": {clientID}, "client_secret": {clientSecret}}),
		},
		{
			name: "entra-obo, basic",
			set: func(o *tokenexchange.Options) {
				o.Grant, o.Audience, o.Scopes = tokenexchange.GrantEntraOBO, "", []string{"api://tickets/.default", "offline_access"}
			},
			want: obo(url.Values{"scope": {"api://tickets/.default offline_access"}}), wantHeader: true,
		},
		{
			name: "entra-obo, private_key_jwt",
			set: func(o *tokenexchange.Options) {
				o.Grant, o.Audience, o.Scopes = tokenexchange.GrantEntraOBO, "", []string{"api://tickets/.default"}
				o.Auth = keyAuth
			},
			want: obo(url.Values{
				"scope": {"api://tickets/.default"}, "client_id": {clientID},
				"client_assertion_type": {tokenexchange.ClientAssertionTypeJWTBearer}, "client_assertion": {"<assertion>"},
			}),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			te := newTokenEndpoint(t, nil)
			o := options(t, te)
			tt.set(&o)
			if _, err := newExchanger(t, o).Exchange(context.Background(), subjectToken); err != nil {
				t.Fatal(err)
			}
			r := te.only(t)
			if r.Method != http.MethodPost || r.Path != "/oauth2/token" || r.RawQuery != "" {
				t.Errorf("%s %s?%s, want POST /oauth2/token without a query", r.Method, r.Path, r.RawQuery)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type = %q", ct)
			}
			if got := r.Header.Get("Authorization") != ""; got != tt.wantHeader {
				t.Errorf("Authorization header present = %v, want %v", got, tt.wantHeader)
			}
			got := r.Form
			if a := got.Get("client_assertion"); a != "" {
				got.Set("client_assertion", "<assertion>")
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("form:\n got  %v\n want %v", got, tt.want)
			}
		})
	}
}

func TestResponses(t *testing.T) {
	long := strings.Repeat("d", 300)
	for _, tt := range []struct {
		name    string
		respond http.HandlerFunc
		want    *tokenexchange.Token
		wantErr *tokenexchange.Error // an *Error within the error
		errHas  string               // else: the error's text contains this
	}{
		{
			name: "access token",
			respond: answer(200, map[string]any{
				"access_token": "up", "token_type": "Bearer", "expires_in": 3600,
				"issued_token_type": tokenexchange.TokenTypeAccessToken,
			}),
			want: &tokenexchange.Token{AccessToken: "up", Expiry: now.Add(time.Hour), IssuedTokenType: tokenexchange.TokenTypeAccessToken},
		},
		{
			name:    "jwt, bearer in lower case",
			respond: answer(200, map[string]any{"access_token": "up", "token_type": "bearer", "expires_in": 60, "issued_token_type": tokenexchange.TokenTypeJWT}),
			want:    &tokenexchange.Token{AccessToken: "up", Expiry: now.Add(time.Minute), IssuedTokenType: tokenexchange.TokenTypeJWT},
		},
		{
			name:    "Entra: expires_in as a string, no issued_token_type",
			respond: answer(200, map[string]any{"access_token": "up", "token_type": "Bearer", "expires_in": "4999", "ext_expires_in": "4999", "scope": "api://tickets/.default"}),
			want:    &tokenexchange.Token{AccessToken: "up", Expiry: now.Add(4999 * time.Second)},
		},
		{
			name:    "no expires_in",
			respond: answer(200, map[string]any{"access_token": "up", "token_type": "Bearer"}),
			want:    &tokenexchange.Token{AccessToken: "up"},
		},
		{
			name:    "form-encoded answer",
			respond: formAnswer("access_token=up&token_type=Bearer&expires_in=120"),
			want:    &tokenexchange.Token{AccessToken: "up", Expiry: now.Add(2 * time.Minute)},
		},
		{
			name:    "token_type N_A",
			respond: answer(200, map[string]any{"access_token": "up", "token_type": "N_A", "expires_in": 60}),
			errHas:  `"N_A", not Bearer`,
		},
		{
			name:    "token_type DPoP",
			respond: answer(200, map[string]any{"access_token": "up", "token_type": "DPoP", "expires_in": 60}),
			errHas:  "not Bearer",
		},
		{
			name:    "no token_type",
			respond: answer(200, map[string]any{"access_token": "up", "expires_in": 60}),
			errHas:  "not Bearer",
		},
		{
			name:    "issued id_token",
			respond: answer(200, map[string]any{"access_token": "up", "token_type": "Bearer", "issued_token_type": "urn:ietf:params:oauth:token-type:id_token"}),
			errHas:  "not an access token",
		},
		{
			name:    "issued refresh_token",
			respond: answer(200, map[string]any{"access_token": "up", "token_type": "Bearer", "issued_token_type": "urn:ietf:params:oauth:token-type:refresh_token"}),
			errHas:  "not an access token",
		},
		{
			name:    "no access_token",
			respond: answer(200, map[string]any{"token_type": "Bearer", "expires_in": 60}),
			errHas:  "missing access_token",
		},
		{
			name:    "not JSON",
			respond: func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{access_token")) },
			errHas:  "token exchange at",
		},
		{
			name: "Entra consent required",
			respond: answer(400, map[string]any{
				"error": "invalid_grant", "error_description": "AADSTS65001: The user or administrator has not consented.",
				"suberror": "consent_required", "error_codes": []int{65001},
			}),
			wantErr: &tokenexchange.Error{Status: 400, Code: "invalid_grant", Description: "AADSTS65001: The user or administrator has not consented.", Suberror: "consent_required"},
		},
		{
			name:    "invalid_target",
			respond: answer(400, map[string]any{"error": "invalid_target"}),
			wantErr: &tokenexchange.Error{Status: 400, Code: "invalid_target"},
		},
		{
			name:    "invalid_client",
			respond: answer(401, map[string]any{"error": "invalid_client", "error_description": "Client authentication failed"}),
			wantErr: &tokenexchange.Error{Status: 401, Code: "invalid_client", Description: "Client authentication failed"},
		},
		{
			name:    "error with status 200",
			respond: answer(200, map[string]any{"error": "access_denied", "access_token": "up", "token_type": "Bearer"}),
			wantErr: &tokenexchange.Error{Status: 200, Code: "access_denied"},
		},
		{
			name: "server error page",
			respond: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(503)
				_, _ = w.Write([]byte("<html>down</html>"))
			},
			wantErr: &tokenexchange.Error{Status: 503},
		},
		{
			name:    "long description cut to 200 bytes",
			respond: answer(400, map[string]any{"error": "invalid_request", "error_description": long}),
			wantErr: &tokenexchange.Error{Status: 400, Code: "invalid_request", Description: long[:200]},
		},
		{
			name:    "long multi-byte description cut on a character boundary",
			respond: answer(400, map[string]any{"error": "invalid_request", "error_description": "x" + strings.Repeat("é", 150)}),
			wantErr: &tokenexchange.Error{Status: 400, Code: "invalid_request", Description: "x" + strings.Repeat("é", 99)},
		},
		{
			name: "control characters stripped",
			respond: answer(400, map[string]any{
				"error": "invalid\r\ngrant", "error_description": "bad\ntoken\x1b[31m\x00\x7f\u0085 end", "suberror": "bad\tsub",
			}),
			wantErr: &tokenexchange.Error{Status: 400, Code: "invalidgrant", Description: "badtoken[31m end", Suberror: "badsub"},
		},
		{
			name: "a server echoing the request's secrets in its description",
			respond: func(w http.ResponseWriter, r *http.Request) {
				answer(400, map[string]any{
					"error":             "invalid_grant",
					"error_description": "bad " + r.PostForm.Get("subject_token") + " for " + r.PostForm.Get("client_secret"),
				})(w, r)
			},
			wantErr: &tokenexchange.Error{Status: 400, Code: "invalid_grant", Description: "bad [redacted] for [redacted]"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			te := newTokenEndpoint(t, tt.respond)
			o := options(t, te)
			o.Auth = secretAuth(t, tokenexchange.AuthClientSecretPost)
			tok, err := newExchanger(t, o).Exchange(context.Background(), subjectToken)
			if err != nil {
				noSecrets(t, err)
			}
			switch {
			case tt.want != nil:
				if err != nil {
					t.Fatal(err)
				}
				if *tok != *tt.want {
					t.Errorf("token = %+v, want %+v", *tok, *tt.want)
				}
			case tt.wantErr != nil:
				var e *tokenexchange.Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v (%T) holds no *Error", err, err)
				}
				if *e != *tt.wantErr {
					t.Errorf("*Error = %+v, want %+v", *e, *tt.wantErr)
				}
				if tok != nil {
					t.Error("a token with an error")
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("error = %v, want one with %q", err, tt.errHas)
				}
				var e *tokenexchange.Error
				if errors.As(err, &e) {
					t.Errorf("an unusable answer gave an authorization server refusal: %v", e)
				}
			}
		})
	}
}

func formAnswer(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		_, _ = w.Write([]byte(body))
	}
}

// noSecrets fails t if err's text shows the subject token, the client
// secret (raw or form-encoded) or a part of them.
func noSecrets(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	for _, s := range []string{subjectToken, clientSecret, url.QueryEscape(clientSecret), "SUBJECT-TOKEN", "CLIENT-SECRET", "s3cr"} {
		if strings.Contains(msg, s) {
			t.Errorf("error text %q shows %q", msg, s)
		}
	}
}

func TestErrorText(t *testing.T) {
	for _, tt := range []struct {
		e    tokenexchange.Error
		want string
	}{
		{tokenexchange.Error{Status: 503}, "token endpoint answered 503"},
		{tokenexchange.Error{Status: 400, Code: "invalid_grant"}, "token endpoint answered 400 invalid_grant"},
		{tokenexchange.Error{Status: 400, Code: "invalid_grant", Suberror: "consent_required", Description: "AADSTS65001"}, "token endpoint answered 400 invalid_grant (consent_required): AADSTS65001"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.e, got, tt.want)
		}
	}
}
