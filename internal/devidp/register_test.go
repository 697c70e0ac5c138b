package devidp

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRegister(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		ctype      string
		wantStatus int
		wantErr    string
		wantDesc   string // substring of error_description
		wantSecret bool
		check      func(t *testing.T, m map[string]any)
	}{
		{name: "public loopback with defaults", body: `{"redirect_uris":["http://127.0.0.1:33418/callback"]}`, wantStatus: 201,
			check: func(t *testing.T, m map[string]any) {
				if m["token_endpoint_auth_method"] != "none" || fmt.Sprint(m["grant_types"]) != "[authorization_code]" || fmt.Sprint(m["response_types"]) != "[code]" {
					t.Errorf("defaults not applied: %v", m)
				}
				if _, ok := m["client_id_issued_at"].(float64); !ok {
					t.Errorf("client_id_issued_at missing: %v", m)
				}
			}},
		{name: "claude code localhost any port", body: `{"redirect_uris":["http://localhost:54321/callback"],"grant_types":["authorization_code","refresh_token"],"client_name":"Claude Code","token_endpoint_auth_method":"none","unknown_member":1}`, wantStatus: 201,
			check: func(t *testing.T, m map[string]any) {
				if m["client_name"] != "Claude Code" || fmt.Sprint(m["redirect_uris"]) != "[http://localhost:54321/callback]" {
					t.Errorf("metadata not echoed: %v", m)
				}
			}},
		{name: "ipv6 loopback", body: `{"redirect_uris":["http://[::1]:8000/cb"]}`, wantStatus: 201},
		{name: "https loopback", body: `{"redirect_uris":["https://localhost:8443/cb"]}`, wantStatus: 201},
		{name: "cursor private-use scheme", body: `{"redirect_uris":["cursor://anysphere.cursor-mcp/oauth/callback"]}`, wantStatus: 201},
		{name: "vscode private-use scheme", body: `{"redirect_uris":["vscode://vscode.github-authentication/did-authenticate"]}`, wantStatus: 201},
		{name: "reverse-domain private-use scheme", body: `{"redirect_uris":["com.example.app:/oauth2redirect"]}`, wantStatus: 201},
		{name: "claude.ai refused: local-only", body: `{"redirect_uris":["https://claude.ai/api/mcp/auth_callback"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI, wantDesc: "dev mode is local-only"},
		{name: "chatgpt refused: local-only", body: `{"redirect_uris":["https://chatgpt.com/connector/oauth/abc123"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI, wantDesc: "dev mode is local-only"},
		{name: "vscode.dev refused: local-only", body: `{"redirect_uris":["http://127.0.0.1/","https://vscode.dev/redirect"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI, wantDesc: "dev mode is local-only"},
		{name: "https look-alike host refused", body: `{"redirect_uris":["https://localhost.evil.example/cb"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI, wantDesc: "dev mode is local-only"},
		{name: "web+ scheme a page can claim refused", body: `{"redirect_uris":["web+mcp://callback/x"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI, wantDesc: "web page"},
		{name: "safelisted handler scheme refused", body: `{"redirect_uris":["magnet://callback/x"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI, wantDesc: "web page"},
		{name: "browser launcher scheme refused", body: `{"redirect_uris":["googlechromes://evil.example/cb"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI, wantDesc: "web page"},
		{name: "opaque private-use URI refused", body: `{"redirect_uris":["myapp:https://evil.example/cb"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI, wantDesc: "hierarchical"},
		{name: "confidential basic gets secret", body: `{"redirect_uris":["http://127.0.0.1:9000/cb"],"token_endpoint_auth_method":"client_secret_basic"}`, wantStatus: 201, wantSecret: true,
			check: func(t *testing.T, m map[string]any) {
				if m["client_secret_expires_at"] != float64(0) {
					t.Errorf("client_secret_expires_at = %v, want 0", m["client_secret_expires_at"])
				}
			}},
		{name: "confidential post gets secret", body: `{"redirect_uris":["http://127.0.0.1:9000/cb"],"token_endpoint_auth_method":"client_secret_post"}`, wantStatus: 201, wantSecret: true},
		{name: "content type with charset", ctype: "application/json; charset=utf-8", body: `{"redirect_uris":["http://127.0.0.1:9000/cb"]}`, wantStatus: 201},
		{name: "missing redirect_uris", body: `{}`, wantStatus: 400, wantErr: errInvalidRedirectURI},
		{name: "fragment refused", body: `{"redirect_uris":["http://127.0.0.1/cb#frag"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI},
		{name: "empty fragment refused", body: `{"redirect_uris":["http://127.0.0.1/cb#"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI},
		{name: "http non-loopback refused", body: `{"redirect_uris":["http://example.com/cb"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI},
		{name: "relative refused", body: `{"redirect_uris":["/cb"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI},
		{name: "javascript refused", body: `{"redirect_uris":["javascript:alert(1)"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI},
		{name: "userinfo refused", body: `{"redirect_uris":["http://u:p@127.0.0.1/cb"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI},
		{name: "one bad among good", body: `{"redirect_uris":["http://127.0.0.1/cb","http://evil.example/cb"]}`, wantStatus: 400, wantErr: errInvalidRedirectURI},
		{name: "client_credentials refused", body: `{"redirect_uris":["http://127.0.0.1:9000/cb"],"grant_types":["client_credentials"]}`, wantStatus: 400, wantErr: errInvalidClientMetadata},
		{name: "implicit refused", body: `{"redirect_uris":["http://127.0.0.1:9000/cb"],"grant_types":["authorization_code","implicit"]}`, wantStatus: 400, wantErr: errInvalidClientMetadata},
		{name: "refresh only refused", body: `{"redirect_uris":["http://127.0.0.1:9000/cb"],"grant_types":["refresh_token"]}`, wantStatus: 400, wantErr: errInvalidClientMetadata},
		{name: "response type token refused", body: `{"redirect_uris":["http://127.0.0.1:9000/cb"],"response_types":["token"]}`, wantStatus: 400, wantErr: errInvalidClientMetadata},
		{name: "private_key_jwt refused", body: `{"redirect_uris":["http://127.0.0.1:9000/cb"],"token_endpoint_auth_method":"private_key_jwt"}`, wantStatus: 400, wantErr: errInvalidClientMetadata},
		{name: "not json", body: `redirect_uris=x`, wantStatus: 400, wantErr: errInvalidClientMetadata},
		{name: "wrong json type", body: `{"redirect_uris":"http://127.0.0.1:9000/cb"}`, wantStatus: 400, wantErr: errInvalidClientMetadata},
		{name: "wrong content type", ctype: "text/plain", body: `{"redirect_uris":["http://127.0.0.1:9000/cb"]}`, wantStatus: 400, wantErr: errInvalidClientMetadata},
		{name: "body too large", body: `{"client_name":"` + strings.Repeat("a", maxBodyBytes) + `"}`, wantStatus: 413, wantErr: errInvalidClientMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := httptest.NewRequest(http.MethodPost, "/register", strings.NewReader(tt.body))
			ct := tt.ctype
			if ct == "" {
				ct = "application/json"
			}
			r.Header.Set("Content-Type", ct)
			r.Header.Set("Origin", "http://localhost:6274")
			w := f.do(r)
			m := decode(t, w)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.wantStatus, w.Body)
			}
			if w.Header().Get("Access-Control-Allow-Origin") != "http://localhost:6274" {
				t.Errorf("loopback origin not echoed: %v", w.Header())
			}
			if tt.wantErr != "" {
				desc, _ := m["error_description"].(string)
				if m["error"] != tt.wantErr || desc == "" || !strings.Contains(desc, tt.wantDesc) {
					t.Fatalf("error %v, want %s with %q", m, tt.wantErr, tt.wantDesc)
				}
				return
			}
			id, _ := m["client_id"].(string)
			if id == "" || f.s.lookupClient(id) == nil {
				t.Fatalf("client not stored: %v", m)
			}
			if _, has := m["client_secret"]; has != tt.wantSecret {
				t.Errorf("client_secret present = %v, want %v", has, tt.wantSecret)
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

func TestRegisterBounded(t *testing.T) {
	f := newFixture(t)
	first := f.publicClient()
	for i := 0; i < maxClients; i++ {
		f.s.addClient(&client{ID: fmt.Sprint("c", i), AuthMethod: authNone})
	}
	if f.s.lookupClient(first) != nil {
		t.Error("oldest client not evicted")
	}
	if got := len(f.s.clients); got != maxClients+1 { // + the dev client
		t.Errorf("%d clients stored, want %d", got, maxClients+1)
	}
	if id, _ := f.s.DevClient(); f.s.lookupClient(id) == nil {
		t.Error("dev client evicted")
	}
}
