package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// publicJWKS holds one P-256 public key: doctor checks only that a key set
// has public asymmetric keys.
const publicJWKS = `{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig",` +
	`"x":"CzV4HHsfl0o1SBEu6vJCzZqlEQDy5GW1JUnUivqvtcQ","y":"NY5h7Z2fUPcyYXUeyRyFspUxl2uSbNdTsWFJz1qjCSI"}]}`

// completeIdP serves, at its root, the RFC 8414 and OpenID metadata MCP
// clients look for (S256, DCR, CIMD, public clients) and a one-key JWKS, so
// that only the configuration can make doctor fail.
func completeIdP(t *testing.T) string {
	t.Helper()
	return completeIdPWith(t, publicJWKS)
}

// completeIdPWith is completeIdP serving jwks as its key set.
func completeIdPWith(t *testing.T, jwks string) string {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	doc := func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                srv.URL,
			"authorization_endpoint":                srv.URL + "/authorize",
			"token_endpoint":                        srv.URL + "/token",
			"registration_endpoint":                 srv.URL + "/register",
			"jwks_uri":                              srv.URL + "/jwks.json",
			"response_types_supported":              []string{"code"},
			"code_challenge_methods_supported":      []string{"S256"},
			"token_endpoint_auth_methods_supported": []string{"none"},
			"client_id_metadata_document_supported": true,
			"scopes_supported":                      []string{"openid", "mcp/tools"},
		})
	}
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", doc)
	mux.HandleFunc("GET /.well-known/openid-configuration", doc)
	mux.HandleFunc("GET /jwks.json", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(jwks)) })
	return srv.URL
}

// TestDoctorUsesLoadedConfig runs `doctor` on configurations that serve
// accepts. A Cognito gateway that accepts mcp-dcr registrations through
// client_ids_table alone (no allowed_client_ids) used to get a false FAIL:
// doctor saw a hand-copied subset of the configuration without the table.
func TestDoctorUsesLoadedConfig(t *testing.T) {
	tests := []struct {
		name, extra string
		want        string // a line of the report, runs of spaces as one
	}{
		{"client_ids_table only", "client_ids_table: mcp-dcr\naws_region: us-east-1\n",
			"clients: 0 allowed client id(s), client_ids_table mcp-dcr, 0 audience(s) configured"},
		{"allowed_client_ids", "allowed_client_ids: [app1]\n",
			"OK config (cognito) tokens need aud https://gw.example.com/mcp: clients send resource=https://gw.example.com/mcp to /oauth2/authorize"},
		// The switch loads (with an allowlist) and doctor says the setup relies on it.
		{"insecure_allow_missing_audience", "allowed_client_ids: [app1]\ninsecure_allow_missing_audience: true\n",
			"WARN config (cognito) insecure_allow_missing_audience: tokens without aud from listed clients (1 allowed client id(s), 0 audience(s) configured) are accepted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir()) // no stray .env
			issuer := completeIdP(t)
			file := filepath.Join(t.TempDir(), "gateway.yaml")
			yaml := "issuer: " + issuer + "\npublic_url: https://gw.example.com\nprovider: cognito\nrequired_scopes: [mcp/tools]\n" + tt.extra
			if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err := runDoctor(context.Background(), strings.NewReader(""), &out, doctorOptions{file: file})
			if err != nil {
				t.Errorf("runDoctor = %v, want nil; report:\n%s", err, out.String())
			}
			if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), tt.want) {
				t.Errorf("report lacks %q:\n%s", tt.want, out.String())
			}
		})
	}
}
