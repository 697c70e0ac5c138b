package dcr_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

// TestApplicationType proves application_type (OpenID Connect Dynamic
// Client Registration §2, MCP 2026-07-28) is parsed, enforced against the
// redirect URIs, inferred when absent so that the known clients register
// without it, stored and returned.
func TestApplicationType(t *testing.T) {
	const cursor = "cursor://anysphere.cursor-mcp/oauth/callback"
	tests := []struct {
		name    string
		sent    string
		uris    []string
		want    string
		errCode string
	}{
		{"Claude Code, absent", "", []string{"http://localhost:53100/callback"}, "native", ""},
		{"Claude Code document, absent", "", claudeCodeDoc().RedirectURIs, "native", ""},
		{"claude.ai, absent", "", []string{claudeCB, "https://claude.com/api/mcp/auth_callback"}, "web", ""},
		{"ChatGPT, absent", "", []string{"https://chatgpt.com/connector/oauth/abc123"}, "web", ""},
		{"Cursor, absent", "", []string{cursor}, "native", ""},
		{"VS Code, absent", "", vscodeDoc().RedirectURIs, "native", ""},
		{"web https", "web", []string{claudeCB}, "web", ""},
		{"native loopback", "native", []string{vscodeCB}, "native", ""},
		{"native private-use", "native", []string{cursor}, "native", ""},
		{"native claimed https", "native", []string{claudeCB}, "native", ""},
		{"web loopback", "web", []string{"http://localhost:53100/callback"}, "", dcr.CodeInvalidRedirectURI},
		{"web loopback https", "web", []string{"https://127.0.0.1:8443/cb"}, "", dcr.CodeInvalidRedirectURI},
		{"web private-use", "web", []string{cursor}, "", dcr.CodeInvalidRedirectURI},
		{"web with one loopback", "web", vscodeDoc().RedirectURIs, "", dcr.CodeInvalidRedirectURI},
		{"unknown value", "desktop", []string{claudeCB}, "", dcr.CodeInvalidClientMetadata},
		{"wrong case", "Native", []string{vscodeCB}, "", dcr.CodeInvalidClientMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			md := publicMD(tt.uris...)
			md.ApplicationType = tt.sent
			res, err := f.svc.Register(t.Context(), md)
			if tt.errCode != "" {
				be := wantOAuthError(t, err, http.StatusBadRequest, tt.errCode)
				if !strings.Contains(be.Description, "application_type") {
					t.Fatalf("description %q does not name application_type", be.Description)
				}
				if f.apps.Len() != 0 {
					t.Fatal("app client created")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Registration.Metadata.ApplicationType != tt.want || f.store.Records()[0].Metadata.ApplicationType != tt.want {
				t.Fatalf("application_type %q (stored %q), want %q", res.Registration.Metadata.ApplicationType, f.store.Records()[0].Metadata.ApplicationType, tt.want)
			}
			body, _ := json.Marshal(dcr.ClientInfo(res, "https://dcr.example/register/x"))
			if !strings.Contains(string(body), `"application_type":"`+tt.want+`"`) {
				t.Fatalf("response %s lacks application_type", body)
			}
		})
	}
}

// TestApplicationTypeClientCredentials: without redirect URIs the default
// is OIDC's, web.
func TestApplicationTypeClientCredentials(t *testing.T) {
	f := newFixture(t, func(p *dcr.Policy) {
		p.AllowClientCredentials = true
		p.AllowedScopes = []string{"openid", "mcp/tools"}
	})
	md := dcr.ClientMetadata{GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "client_secret_basic"}
	res, err := f.svc.Register(t.Context(), md)
	if err != nil || res.Registration.Metadata.ApplicationType != "web" {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestApplicationTypeCIMD proves a metadata document's application_type is
// enforced and stored like a registration's.
func TestApplicationTypeCIMD(t *testing.T) {
	f := newFixture(t, nil)
	doc := claudeCodeDoc()
	doc.ApplicationType = "web"
	_, err := f.svc.RegisterCIMD(t.Context(), claudeCodeURL, doc, nil)
	wantOAuthError(t, err, http.StatusBadRequest, dcr.CodeInvalidRedirectURI)
	reg, err := f.svc.RegisterCIMD(t.Context(), claudeCodeURL, claudeCodeDoc(), nil)
	if err != nil || reg.Metadata.ApplicationType != "native" {
		t.Fatalf("%+v %v", reg, err)
	}
}
