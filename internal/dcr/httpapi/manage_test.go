package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestManagement(t *testing.T) {
	e := newEnv(t, nil, nil)
	id, rat := e.register(t, confidential)
	auth := []string{"Authorization", "Bearer " + rat}
	path := "/register/" + id
	secret := func() string { c, _ := e.apps.Client(id); return c.Secret }()

	r := e.do(t, "GET", path, "", auth...)
	if r.status != 200 || r.str("client_id") != id || r.str("client_secret") != secret ||
		r.str("registration_access_token") != rat || r.str("registration_client_uri") != publicURL+path ||
		r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("read: %d %s", r.status, r.raw)
	}

	update := `{"client_id":"` + id + `","redirect_uris":["https://claude.com/api/mcp/auth_callback"],` +
		`"token_endpoint_auth_method":"client_secret_basic","client_name":"renamed"}`
	r = e.do(t, "PUT", path, update, auth...)
	if r.status != 200 || r.str("client_name") != "renamed" {
		t.Fatalf("update: %d %s", r.status, r.raw)
	}
	if c, _ := e.apps.Client(id); len(c.Spec.CallbackURLs) != 1 || c.Spec.CallbackURLs[0] != "https://claude.com/api/mcp/auth_callback" {
		t.Fatalf("app client not updated: %+v", c.Spec)
	}

	r = e.do(t, "DELETE", path, "", auth...)
	if r.status != http.StatusNoContent || r.raw != "" {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	if _, ok := e.apps.Client(id); ok {
		t.Fatal("app client survived DELETE")
	}
	wantError(t, e.do(t, "GET", path, "", auth...), 401, "invalid_token")
}

func TestManagementRefusals(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   func(id string) string
		body   func(id string) string
		auth   func(rat string) []string
		status int
		code   string
	}{
		{"GET without token", "GET", nil, nil, func(string) []string { return nil }, 401, "invalid_token"},
		{"GET wrong token", "GET", nil, nil, bearer("wrong"), 401, "invalid_token"},
		{"GET token in query", "GET", func(id string) string { return "/register/" + id + "?access_token=x" }, nil, nil, 400, "invalid_request"},
		{"GET unknown client", "GET", func(string) string { return "/register/nosuchclient" }, nil, nil, 401, "invalid_token"},
		{"DELETE wrong token", "DELETE", nil, nil, bearer("wrong"), 401, "invalid_token"},
		{"PUT wrong token", "PUT", nil, func(id string) string { return `{"client_id":"` + id + `","redirect_uris":["http://localhost/cb"]}` },
			bearer("wrong"), 401, "invalid_token"},
		{"PUT without client_id", "PUT", nil, func(string) string { return `{"redirect_uris":["http://localhost/cb"]}` }, nil, 400, "invalid_client_metadata"},
		{"PUT other client_id", "PUT", nil, func(string) string { return `{"client_id":"other","redirect_uris":["http://localhost/cb"]}` }, nil, 400, "invalid_client_metadata"},
		{"PUT with registration_access_token", "PUT", nil, func(id string) string {
			return `{"client_id":"` + id + `","registration_access_token":"x","redirect_uris":["http://localhost/cb"]}`
		}, nil, 400, "invalid_client_metadata"},
		{"PUT chosen secret", "PUT", nil, func(id string) string {
			return `{"client_id":"` + id + `","client_secret":"mine","redirect_uris":["http://localhost/cb"]}`
		}, nil, 400, "invalid_client_metadata"},
		{"PUT bad redirect", "PUT", nil, func(id string) string {
			return `{"client_id":"` + id + `","redirect_uris":["https://evil.example/cb"]}`
		}, nil, 400, "invalid_redirect_uri"},
		{"POST to client", "POST", nil, nil, nil, 405, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, nil)
			id, rat := e.register(t, claudeCode)
			path, body, hdr := "/register/"+id, "", []string{"Authorization", "Bearer " + rat}
			if tt.path != nil {
				path = tt.path(id)
			}
			if tt.body != nil {
				body = tt.body(id)
			}
			if tt.auth != nil {
				hdr = tt.auth(rat)
			}
			r := e.do(t, tt.method, path, body, hdr...)
			wantError(t, r, tt.status, tt.code)
			if tt.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("401 without a Bearer challenge: %v", r.header)
			}
			if c, ok := e.apps.Client(id); !ok || len(c.Spec.CallbackURLs) != 1 || c.Spec.CallbackURLs[0] != "http://localhost:3334/callback" {
				t.Fatalf("a refused request changed the client: %+v %v", c, ok)
			}
		})
	}
}

func bearer(tok string) func(string) []string {
	return func(string) []string { return []string{"Authorization", "Bearer " + tok} }
}
