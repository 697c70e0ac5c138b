package dcr

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

const claudeCB = "https://claude.ai/api/mcp/auth_callback"

// TestNormalizeRules covers grant_types, response_types,
// token_endpoint_auth_method, scope and the informational members: each
// refused case names the rule that refused it.
func TestNormalizeRules(t *testing.T) {
	base := func(f func(*ClientMetadata)) ClientMetadata {
		md := ClientMetadata{RedirectURIs: []string{claudeCB}}
		if f != nil {
			f(&md)
		}
		return md
	}
	cc := DefaultPolicy()
	cc.AllowClientCredentials = true
	cc.AllowedScopes = []string{"openid", "mcp/tools", "mcp/admin"}
	scoped := DefaultPolicy()
	scoped.AllowedScopes = []string{"openid", "email", "mcp/tools"}
	scoped.DefaultScopes = []string{"mcp/tools"}
	ccMD := func(f func(*ClientMetadata)) ClientMetadata {
		md := ClientMetadata{GrantTypes: []string{GrantClientCredentials}, TokenEndpointAuthMethod: AuthMethodSecretBasic}
		if f != nil {
			f(&md)
		}
		return md
	}
	tests := []struct {
		name       string
		p          Policy
		md         ClientMetadata
		wantErr    string // substring of the description; "" = accepted
		wantCode   string
		wantGrants []string
		wantScope  string
		wantPublic bool
		wantFlows  []string
	}{
		{name: "defaults", md: base(nil), wantGrants: []string{GrantAuthorizationCode}, wantScope: "openid email profile", wantPublic: true, wantFlows: []string{"code"}},
		{name: "code and refresh reordered", md: base(func(m *ClientMetadata) {
			m.GrantTypes = []string{"refresh_token", "authorization_code", "refresh_token"}
		}),
			wantGrants: []string{GrantAuthorizationCode, GrantRefreshToken}, wantScope: "openid email profile", wantPublic: true, wantFlows: []string{"code"}},
		{name: "refresh alone", md: base(func(m *ClientMetadata) { m.GrantTypes = []string{"refresh_token"} }), wantErr: "must include authorization_code"},
		{name: "implicit", md: base(func(m *ClientMetadata) { m.GrantTypes = []string{"implicit"} }), wantErr: "not supported"},
		{name: "password", md: base(func(m *ClientMetadata) { m.GrantTypes = []string{"authorization_code", "password"} }), wantErr: "not supported"},
		{name: "device code", md: base(func(m *ClientMetadata) {
			m.GrantTypes = []string{"authorization_code", "urn:ietf:params:oauth:grant-type:device_code"}
		}), wantErr: "not supported"},
		{name: "client_credentials off", md: ccMD(nil), wantErr: "not allowed by this server"},
		{name: "client_credentials", p: cc, md: ccMD(nil), wantGrants: []string{GrantClientCredentials}, wantScope: "mcp/tools mcp/admin", wantFlows: []string{"client_credentials"}},
		{name: "client_credentials post", p: cc, md: ccMD(func(m *ClientMetadata) { m.TokenEndpointAuthMethod = AuthMethodSecretPost; m.Scope = "mcp/tools" }),
			wantGrants: []string{GrantClientCredentials}, wantScope: "mcp/tools", wantFlows: []string{"client_credentials"}},
		{name: "client_credentials not alone", p: cc, md: ccMD(func(m *ClientMetadata) { m.GrantTypes = []string{"client_credentials", "authorization_code"} }), wantErr: "alone"},
		{name: "client_credentials public", p: cc, md: ccMD(func(m *ClientMetadata) { m.TokenEndpointAuthMethod = AuthMethodNone }), wantErr: "confidential"},
		{name: "client_credentials default method", p: cc, md: ccMD(func(m *ClientMetadata) { m.TokenEndpointAuthMethod = "" }), wantErr: "confidential"},
		{name: "client_credentials redirect", p: cc, md: ccMD(func(m *ClientMetadata) { m.RedirectURIs = []string{claudeCB} }), wantErr: "no redirect_uris"},
		{name: "client_credentials response type", p: cc, md: ccMD(func(m *ClientMetadata) { m.ResponseTypes = []string{"code"} }), wantErr: "no redirect_uris or response_types"},
		{name: "client_credentials openid", p: cc, md: ccMD(func(m *ClientMetadata) { m.Scope = "openid" }), wantErr: "only resource-server scopes"},
		{name: "response code", md: base(func(m *ClientMetadata) { m.ResponseTypes = []string{"code", "code"} }), wantGrants: []string{GrantAuthorizationCode}, wantScope: "openid email profile", wantPublic: true, wantFlows: []string{"code"}},
		{name: "response token", md: base(func(m *ClientMetadata) { m.ResponseTypes = []string{"token"} }), wantErr: "code only"},
		{name: "response hybrid", md: base(func(m *ClientMetadata) { m.ResponseTypes = []string{"code id_token"} }), wantErr: "code only"},
		{name: "basic", md: base(func(m *ClientMetadata) { m.TokenEndpointAuthMethod = AuthMethodSecretBasic }), wantGrants: []string{GrantAuthorizationCode}, wantScope: "openid email profile", wantFlows: []string{"code"}},
		{name: "post", md: base(func(m *ClientMetadata) { m.TokenEndpointAuthMethod = AuthMethodSecretPost }), wantGrants: []string{GrantAuthorizationCode}, wantScope: "openid email profile", wantFlows: []string{"code"}},
		{name: "private_key_jwt", md: base(func(m *ClientMetadata) { m.TokenEndpointAuthMethod = "private_key_jwt" }), wantErr: "not supported"},
		{name: "tls_client_auth", md: base(func(m *ClientMetadata) { m.TokenEndpointAuthMethod = "tls_client_auth" }), wantErr: "not supported"},
		{name: "case matters", md: base(func(m *ClientMetadata) { m.TokenEndpointAuthMethod = "None" }), wantErr: "not supported"},
		{name: "no redirect", md: ClientMetadata{}, wantErr: "redirect_uris is required", wantCode: CodeInvalidRedirectURI},
		{name: "scope subset in policy order", p: scoped, md: base(func(m *ClientMetadata) { m.Scope = "mcp/tools  openid mcp/tools" }),
			wantGrants: []string{GrantAuthorizationCode}, wantScope: "openid mcp/tools", wantPublic: true, wantFlows: []string{"code"}},
		{name: "scope default", p: scoped, md: base(nil), wantGrants: []string{GrantAuthorizationCode}, wantScope: "mcp/tools", wantPublic: true, wantFlows: []string{"code"}},
		{name: "offline_access dropped", p: scoped, md: base(func(m *ClientMetadata) { m.Scope = "openid offline_access" }),
			wantGrants: []string{GrantAuthorizationCode}, wantScope: "openid", wantPublic: true, wantFlows: []string{"code"}},
		{name: "only offline_access gets defaults", p: scoped, md: base(func(m *ClientMetadata) { m.Scope = "offline_access" }),
			wantGrants: []string{GrantAuthorizationCode}, wantScope: "mcp/tools", wantPublic: true, wantFlows: []string{"code"}},
		{name: "scope outside", p: scoped, md: base(func(m *ClientMetadata) { m.Scope = "openid mcp/admin" }), wantErr: "not allowed"},
		{name: "scope prefix trick", p: scoped, md: base(func(m *ClientMetadata) { m.Scope = "mcp/tools/../admin" }), wantErr: "not allowed"},
		{name: "scope admin", md: base(func(m *ClientMetadata) { m.Scope = "aws.cognito.signin.user.admin" }), wantErr: "not allowed"},
		{name: "client_uri https", md: base(func(m *ClientMetadata) { m.ClientURI = "https://claude.ai" }), wantGrants: []string{GrantAuthorizationCode}, wantScope: "openid email profile", wantPublic: true, wantFlows: []string{"code"}},
		{name: "client_uri javascript", md: base(func(m *ClientMetadata) { m.ClientURI = "javascript:alert(1)" }), wantErr: "client_uri"},
		{name: "logo_uri http", md: base(func(m *ClientMetadata) { m.LogoURI = "http://example.com/logo.png" }), wantErr: "logo_uri"},
		{name: "tos_uri userinfo", md: base(func(m *ClientMetadata) { m.TosURI = "https://a@b.example/tos" }), wantErr: "tos_uri"},
		{name: "policy_uri relative", md: base(func(m *ClientMetadata) { m.PolicyURI = "/policy" }), wantErr: "policy_uri"},
		{name: "client_name long", md: base(func(m *ClientMetadata) { m.ClientName = strings.Repeat("x", 257) }), wantErr: "client_name"},
		{name: "client_name control", md: base(func(m *ClientMetadata) { m.ClientName = "a\x00b" }), wantErr: "client_name"},
		{name: "contacts many", md: base(func(m *ClientMetadata) { m.Contacts = make([]string, 11) }), wantErr: "contacts"},
		{name: "contacts empty", md: base(func(m *ClientMetadata) { m.Contacts = []string{""} }), wantErr: "contacts"},
		{name: "software_version control", md: base(func(m *ClientMetadata) { m.SoftwareVersion = "1\n2" }), wantErr: "software_version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			if p.AllowedScopes == nil {
				p = DefaultPolicy()
			}
			n, err := mustRules(t, p).normalize(tt.md, "")
			if tt.wantErr != "" {
				var be *bearer.Error
				code := tt.wantCode
				if code == "" {
					code = CodeInvalidClientMetadata
				}
				if !errors.As(err, &be) || be.Status != 400 || be.Code != code || !strings.Contains(be.Description, tt.wantErr) {
					t.Fatalf("err = %v, want 400 %s mentioning %q", err, code, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(n.md.GrantTypes, tt.wantGrants) || n.md.Scope != tt.wantScope || n.public != tt.wantPublic ||
				!slices.Equal(n.spec.Flows, tt.wantFlows) || n.spec.GenerateSecret == tt.wantPublic {
				t.Fatalf("got grants %v scope %q public %v flows %v secret %v", n.md.GrantTypes, n.md.Scope, n.public, n.spec.Flows, n.spec.GenerateSecret)
			}
			if strings.Join(n.spec.Scopes, " ") != tt.wantScope {
				t.Fatalf("spec scopes %v, metadata scope %q", n.spec.Scopes, n.md.Scope)
			}
		})
	}
}

func TestNormalizeFillsDefaultsAndSpec(t *testing.T) {
	md := ClientMetadata{
		RedirectURIs: []string{"http://localhost:3000/callback", claudeCB},
		GrantTypes:   []string{"authorization_code", "refresh_token"},
		ClientName:   "Claude Code (my-laptop)",
	}
	n, err := mustRules(t, DefaultPolicy()).normalize(md, "")
	if err != nil {
		t.Fatal(err)
	}
	if n.md.TokenEndpointAuthMethod != AuthMethodNone || !slices.Equal(n.md.ResponseTypes, []string{"code"}) || n.md.ClientName != md.ClientName {
		t.Errorf("normalized metadata = %+v", n.md)
	}
	want := AppClientSpec{Name: "mcp-Claude Code my-laptop", CallbackURLs: md.RedirectURIs, Scopes: []string{"openid", "email", "profile"},
		Flows: []string{"code"}, RefreshTokens: true}
	if n.spec.Name != want.Name || !slices.Equal(n.spec.CallbackURLs, want.CallbackURLs) || !slices.Equal(n.spec.Scopes, want.Scopes) ||
		!slices.Equal(n.spec.Flows, want.Flows) || n.spec.RefreshTokens != want.RefreshTokens || n.spec.GenerateSecret {
		t.Errorf("spec = %+v, want %+v", n.spec, want)
	}
	md.RedirectURIs[0] = "mutated"
	if n.md.RedirectURIs[0] == "mutated" || n.spec.CallbackURLs[0] == "mutated" {
		t.Error("normalize aliases the caller's slices")
	}
}

func TestMetadataHash(t *testing.T) {
	a := ClientMetadata{RedirectURIs: []string{"http://localhost:1/cb", claudeCB}, TokenEndpointAuthMethod: "none"}
	b := ClientMetadata{RedirectURIs: []string{claudeCB, "http://localhost:1/cb"}, TokenEndpointAuthMethod: "none"}
	if metadataHash(a) != metadataHash(b) {
		t.Error("redirect order changes the hash")
	}
	if b.RedirectURIs[0] != claudeCB {
		t.Error("metadataHash reordered the caller's slice")
	}
	c := a
	c.ClientName = "x"
	if metadataHash(a) == metadataHash(c) {
		t.Error("client_name does not change the hash")
	}
	if cimdKey("https://a.example/x") == cimdKey("https://a.example/y") || len(cimdKey("https://a.example/x")) != 64 {
		t.Error("cimdKey")
	}
}

func TestTokenMatches(t *testing.T) {
	tok := newRegistrationToken()
	if len(tok) != 43 || tok == newRegistrationToken() {
		t.Fatalf("token %q", tok)
	}
	h := TokenHash(tok)
	wrong := []byte(tok)
	wrong[0] ^= 1 // same length, one bit off
	for _, tt := range []struct {
		hash, presented string
		want            bool
	}{
		{h, tok, true},
		{h, string(wrong), false},
		{h, "", false},
		{"", tok, false},
		{"", "", false},
		{dummyTokenHash, "no registration access token", true},
	} {
		if got := tokenMatches(tt.hash, tt.presented); got != tt.want {
			t.Errorf("tokenMatches(%q, %q) = %v", tt.hash, tt.presented, got)
		}
	}
}
