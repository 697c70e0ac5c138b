package doctor

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
)

// fakeIdP is an httptest authorization server whose issuer has a path
// (/pool, as Cognito's does), so path-inserted and appended well-known URLs
// differ. It serves https under a public-looking name (idpN.example.com,
// reached through testOpts' client), so that hosted clients' predictions
// depend on the metadata, not on the test's loopback address.
type fakeIdP struct {
	rfc8414, oidc bool
	// meta edits the metadata built for the server (issuer and endpoints
	// are filled in first).
	meta func(m map[string]any)
	// jwks is the key set document; empty means one RSA public key.
	jwks string
	// jwksStatus, when set, is the key set's answer instead (404: a
	// broken issuer).
	jwksStatus int
	// html serves an HTML page where the metadata documents should be.
	html bool
	// handlers are more endpoints, by mux pattern ("GET /pool/authorize").
	handlers map[string]http.HandlerFunc
}

func (f fakeIdP) start(t *testing.T) (srv *httptest.Server, issuer string) {
	t.Helper()
	mux := http.NewServeMux()
	srv = httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut by Close
	srv.StartTLS()
	t.Cleanup(srv.Close)
	issuer = testNet.name(srv) + "/pool"
	doc := func(w http.ResponseWriter, _ *http.Request) {
		m := map[string]any{
			"issuer":                   issuer,
			"authorization_endpoint":   issuer + "/oauth2/authorize",
			"token_endpoint":           issuer + "/oauth2/token",
			"jwks_uri":                 issuer + "/jwks.json",
			"response_types_supported": []string{"code"},
		}
		if f.meta != nil {
			f.meta(m)
		}
		if f.html {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<!DOCTYPE html><html><body>Sign in</body></html>"))
			return
		}
		_ = json.NewEncoder(w).Encode(m)
	}
	if f.rfc8414 {
		mux.HandleFunc("GET /.well-known/oauth-authorization-server/pool", doc)
	}
	if f.oidc {
		mux.HandleFunc("GET /pool/.well-known/openid-configuration", doc)
	}
	for pattern, h := range f.handlers {
		mux.HandleFunc(pattern, h)
	}
	jwks := f.jwks
	if jwks == "" {
		jwks = rsaJWKS(t)
	}
	mux.HandleFunc("GET /pool/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		if f.jwksStatus != 0 {
			http.Error(w, "nope", f.jwksStatus)
			return
		}
		_, _ = w.Write([]byte(jwks))
	})
	return srv, issuer
}

// loaded is the configuration Run gets from config.Load: issuer and public
// URL set, edit applied, then defaults (routes [/mcp], authorization_servers
// [issuer]). It must be valid.
func loaded(issuer string, edit func(*config.Config)) *config.Config {
	c := &config.Config{Issuer: issuer, PublicURL: "https://gw.example.com"}
	if edit != nil {
		edit(c)
	}
	c.ApplyDefaults()
	return c
}

// rsaJWKS is a set with one freshly generated RSA public key.
func rsaJWKS(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.FromRaw(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	_ = pub.Set(jwk.KeyIDKey, "k1")
	set := jwk.NewSet()
	_ = set.AddKey(pub)
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rsaPrivateJWKS is a set that wrongly publishes an RSA private key.
func rsaPrivateJWKS(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := jwk.FromRaw(k)
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	_ = set.AddKey(priv)
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// cognitoLike mimics Cognito's openid-configuration: no S256, no
// registration endpoint, no CIMD, confidential-client auth methods only.
func cognitoLike(m map[string]any) {
	m["response_types_supported"] = []string{"code", "token"}
	m["scopes_supported"] = []string{"openid", "email", "phone", "profile"}
	m["subject_types_supported"] = []string{"public"}
	m["token_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_post"}
	m["id_token_signing_alg_values_supported"] = []string{"RS256"}
}

// complete is everything MCP clients look for.
func complete(m map[string]any) {
	m["registration_endpoint"] = m["issuer"].(string) + "/register"
	m["code_challenge_methods_supported"] = []string{"S256"}
	m["client_id_metadata_document_supported"] = true
	m["token_endpoint_auth_methods_supported"] = []string{"none", "client_secret_basic"}
	m["scopes_supported"] = []string{"openid", "mcp:tools"}
}

func TestRun(t *testing.T) {
	allClientsOK := map[string]Status{ClientTSSDK: OK, ClientClaudeCode: OK, ClientClaudeAI: OK, ClientChatGPT: OK, ClientVSCode: OK, ClientCursor: OK}
	tests := []struct {
		name string
		idp  fakeIdP
		down bool // close the server before running
		opts func(o *config.Config)
		// want lists the expected status of each named check; with
		// exhaustive, every check must be listed.
		want       map[string]Status
		exhaustive bool
		detail     map[string]string // substring expected in a check's detail
		clients    map[string]Status
		failed     bool
	}{
		{
			name: "cognito shaped",
			idp:  fakeIdP{oidc: true, meta: cognitoLike},
			opts: func(o *config.Config) {
				o.Provider = "cognito"
				o.AllowedClientIDs = []string{"app1"}
				o.RequiredScopes = []string{"mcp/tools.read"}
			},
			want: map[string]Status{
				"discovery": Warn, "issuer": OK, "endpoints": OK, "pkce": Fail,
				"registration": Warn, "cimd": Warn, "token-auth": Warn, "scopes": Warn,
				"jwks": OK, "config (cognito)": OK, "resource": Warn,
			},
			exhaustive: true,
			detail: map[string]string{
				"pkce":         "code_challenge_methods_supported is missing",
				"registration": "mcp-dcr",
				"discovery":    "only the OpenID configuration",
				"scopes":       "mcp/tools.read",
			},
			clients: map[string]Status{
				ClientTSSDK: Warn, ClientClaudeCode: Fail, ClientClaudeAI: Fail,
				ClientCursor: Fail, ClientChatGPT: Warn, ClientVSCode: Warn,
			},
			failed: true,
		},
		{
			// The false FAIL: mcp-dcr registrations through client_ids_table,
			// no allowed_client_ids.
			name: "cognito with client_ids_table only",
			idp:  fakeIdP{rfc8414: true, oidc: true, meta: complete},
			opts: func(o *config.Config) {
				o.Provider, o.ClientIDsTable, o.AWSRegion = "cognito", "mcp-dcr", "us-east-1"
			},
			want:   map[string]Status{"config (cognito)": OK, "pkce": OK},
			detail: map[string]string{"config (cognito)": "clients: 0 allowed client id(s), client_ids_table mcp-dcr, 0 audience(s)"},
		},
		{
			name: "complete issuer",
			idp:  fakeIdP{rfc8414: true, oidc: true, meta: complete},
			opts: func(o *config.Config) { o.RequiredScopes = []string{"mcp:tools"} },
			want: map[string]Status{
				"discovery": OK, "issuer": OK, "endpoints": OK, "pkce": OK,
				"registration": OK, "cimd": OK, "token-auth": OK, "scopes": OK,
				"jwks": OK, "config (generic)": OK, "resource": Warn,
			},
			exhaustive: true,
			clients:    allClientsOK,
		},
		{
			name: "issuer mismatch",
			idp: fakeIdP{rfc8414: true, meta: func(m map[string]any) {
				complete(m)
				m["issuer"] = m["issuer"].(string) + "/"
			}},
			want:   map[string]Status{"issuer": Fail, "pkce": OK},
			detail: map[string]string{"issuer": `RFC 8414 document says "https://idp`},
			failed: true,
		},
		{
			name:   "oct key only",
			idp:    fakeIdP{rfc8414: true, meta: complete, jwks: `{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}]}`},
			want:   map[string]Status{"jwks": Fail, "pkce": OK},
			detail: map[string]string{"jwks": "symmetric (oct)"},
			failed: true,
		},
		{
			name:   "private key published",
			idp:    fakeIdP{rfc8414: true, meta: complete, jwks: rsaPrivateJWKS(t)},
			want:   map[string]Status{"jwks": Fail},
			detail: map[string]string{"jwks": "1 private key(s)"},
			failed: true,
		},
		{
			name:   "empty key set",
			idp:    fakeIdP{rfc8414: true, meta: complete, jwks: `{"keys":[]}`},
			want:   map[string]Status{"jwks": Fail},
			detail: map[string]string{"jwks": "no public signing keys"},
			failed: true,
		},
		{
			name:   "unreachable issuer",
			idp:    fakeIdP{rfc8414: true, oidc: true, meta: complete},
			down:   true,
			want:   map[string]Status{"discovery": Fail, "jwks": Fail, "config (generic)": OK, "resource": Warn},
			detail: map[string]string{"discovery": "cannot reach authorization server https://idp"},
			clients: map[string]Status{
				ClientTSSDK: Fail, ClientClaudeCode: Fail, ClientClaudeAI: Fail,
				ClientChatGPT: Fail, ClientVSCode: Fail, ClientCursor: Fail,
			},
			exhaustive: true,
			failed:     true,
		},
		{
			name:   "JWKS 404",
			idp:    fakeIdP{rfc8414: true, oidc: true, meta: complete, jwksStatus: http.StatusNotFound},
			want:   map[string]Status{"jwks": Fail, "pkce": OK},
			detail: map[string]string{"jwks": "HTTP 404"},
			failed: true,
		},
		{
			name:   "HTML instead of metadata",
			idp:    fakeIdP{rfc8414: true, oidc: true, meta: complete, html: true},
			want:   map[string]Status{"discovery": Fail, "jwks": Fail, "resource": Warn},
			detail: map[string]string{"discovery": "not a JSON metadata document"},
			clients: map[string]Status{
				ClientTSSDK: Fail, ClientClaudeCode: Fail, ClientClaudeAI: Fail,
				ClientChatGPT: Fail, ClientVSCode: Fail, ClientCursor: Fail,
			},
			failed: true,
		},
		{
			name: "8414 only with S256 listed but no DCR",
			idp: fakeIdP{rfc8414: true, meta: func(m map[string]any) {
				m["code_challenge_methods_supported"] = []string{"S256"}
				m["token_endpoint_auth_methods_supported"] = []string{"none"}
			}},
			want: map[string]Status{"discovery": OK, "pkce": OK, "registration": Warn, "cimd": Warn},
			clients: map[string]Status{
				ClientTSSDK: Warn, ClientClaudeCode: Warn, ClientClaudeAI: Warn,
				ClientChatGPT: Warn, ClientVSCode: Warn, ClientCursor: Warn,
			},
		},
		{
			name: "CIMD only",
			idp: fakeIdP{rfc8414: true, meta: func(m map[string]any) {
				m["code_challenge_methods_supported"] = []string{"S256"}
				m["client_id_metadata_document_supported"] = true
				m["token_endpoint_auth_methods_supported"] = []string{"none"}
			}},
			want:    map[string]Status{"registration": Warn, "cimd": OK},
			clients: map[string]Status{ClientClaudeCode: OK, ClientClaudeAI: OK, ClientVSCode: Warn},
		},
		{
			name: "S256 list without S256",
			idp: fakeIdP{rfc8414: true, meta: func(m map[string]any) {
				complete(m)
				m["code_challenge_methods_supported"] = []string{"plain"}
			}},
			want:    map[string]Status{"pkce": Fail},
			clients: map[string]Status{ClientTSSDK: Fail, ClientClaudeCode: Fail},
			failed:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, issuer := tt.idp.start(t)
			if tt.down {
				srv.Close()
			}
			r := Run(context.Background(), loaded(issuer, tt.opts), testOpts())
			got := map[string]Check{}
			for _, c := range r.Checks {
				got[c.Name] = c
			}
			for name, want := range tt.want {
				c, ok := got[name]
				if !ok {
					t.Errorf("check %q missing; got %+v", name, r.Checks)
					continue
				}
				if c.Status != want {
					t.Errorf("check %q = %s (%s), want %s", name, c.Status, c.Detail, want)
				}
			}
			if tt.exhaustive && len(got) != len(tt.want) {
				t.Errorf("got %d checks, want %d: %+v", len(got), len(tt.want), r.Checks)
			}
			for name, sub := range tt.detail {
				if !strings.Contains(got[name].Detail, sub) {
					t.Errorf("check %q detail %q does not contain %q", name, got[name].Detail, sub)
				}
			}
			if len(r.Clients) != 6 {
				t.Errorf("got %d client predictions, want 6", len(r.Clients))
			}
			for _, p := range r.Clients {
				if want, ok := tt.clients[p.Client]; ok && p.Outcome != want {
					t.Errorf("client %q = %s (%s), want %s", p.Client, p.Outcome, p.Why, want)
				}
			}
			if r.Failed() != tt.failed {
				t.Errorf("Failed() = %v, want %v", r.Failed(), tt.failed)
			}
		})
	}
}
