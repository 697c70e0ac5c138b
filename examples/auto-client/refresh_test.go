package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestRefresh checks the refresh request: grant, refresh token, resource
// (RFC 8707, which golang.org/x/oauth2 cannot send on refresh) and the
// client authentication of each client kind, and that errors are reported.
func TestRefresh(t *testing.T) {
	type seen struct {
		form        url.Values
		user, pass  string
		basic       bool
		contentType string
	}
	var got seen
	var answer string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got = seen{form: r.PostForm, contentType: r.Header.Get("Content-Type")}
		got.user, got.pass, got.basic = r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	defer srv.Close()
	const resource = "https://gw.example/mcp"
	tests := []struct {
		name      string
		cfg       oauth2.Config
		resource  string
		status    int
		answer    string
		wantErr   string
		wantBasic bool
		wantForm  map[string]string // "" : must be absent
	}{
		{
			name: "public client", cfg: oauth2.Config{ClientID: "pub"}, resource: resource,
			answer:   `{"access_token":"new","token_type":"Bearer","refresh_token":"rt2"}`,
			wantForm: map[string]string{"grant_type": "refresh_token", "refresh_token": "rt1", "resource": resource, "client_id": "pub", "client_secret": ""},
		},
		{
			name: "confidential client, basic", cfg: oauth2.Config{ClientID: "id:1", ClientSecret: "s&1", Endpoint: oauth2.Endpoint{AuthStyle: oauth2.AuthStyleInHeader}},
			resource: resource, answer: `{"access_token":"new","token_type":"Bearer"}`, wantBasic: true,
			wantForm: map[string]string{"client_id": "", "client_secret": "", "resource": resource},
		},
		{
			name: "confidential client, post", cfg: oauth2.Config{ClientID: "id", ClientSecret: "s", Endpoint: oauth2.Endpoint{AuthStyle: oauth2.AuthStyleInParams}},
			answer:   `{"access_token":"new","token_type":"Bearer"}`,
			wantForm: map[string]string{"client_id": "id", "client_secret": "s", "resource": ""},
		},
		{
			name: "refused", cfg: oauth2.Config{ClientID: "pub"}, status: http.StatusBadRequest,
			answer: `{"error":"invalid_grant","error_description":"refresh token expired"}`, wantErr: "invalid_grant refresh token expired",
		},
		{
			name: "no access token", cfg: oauth2.Config{ClientID: "pub"}, answer: `{"token_type":"Bearer"}`, wantErr: "no access_token",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, answer = http.StatusOK, tc.answer
			if tc.status != 0 {
				status = tc.status
			}
			cfg := tc.cfg
			cfg.Endpoint.TokenURL = srv.URL + "/token"
			tr, err := refresh(context.Background(), srv.Client(), &cfg, "rt1", tc.resource)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || tr.AccessToken != "new" {
				t.Fatalf("refresh = %+v, %v", tr, err)
			}
			if got.contentType != "application/x-www-form-urlencoded" {
				t.Errorf("content type %q", got.contentType)
			}
			if got.basic != tc.wantBasic {
				t.Errorf("basic auth used = %v, want %v", got.basic, tc.wantBasic)
			}
			if tc.wantBasic && (got.user != url.QueryEscape(cfg.ClientID) || got.pass != url.QueryEscape(cfg.ClientSecret)) {
				t.Errorf("basic credentials %q:%q, want form-urlencoded id and secret (RFC 6749 §2.3.1)", got.user, got.pass)
			}
			for k, v := range tc.wantForm {
				if got.form.Get(k) != v {
					t.Errorf("form %s = %q, want %q", k, got.form.Get(k), v)
				}
			}
		})
	}
}
