package dcr_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

const cimdURL = "https://claude.ai/oauth/mcp-oauth-client-metadata"

func cimdDoc() dcr.ClientMetadata {
	return dcr.ClientMetadata{RedirectURIs: []string{claudeCB}, ClientName: "Claude",
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"}, TokenEndpointAuthMethod: "none"}
}

func TestRegisterCIMD(t *testing.T) {
	f := newFixture(t, nil)
	a, err := f.svc.RegisterCIMD(t.Context(), cimdURL, cimdDoc(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Source != dcr.SourceCIMD || a.CIMDURL != cimdURL || a.RegistrationTokenHash != "" || a.ClientID == "" || a.Version != 1 {
		t.Fatalf("registration %+v", a)
	}
	// Idempotent: the same document maps to the same app client.
	b, err := f.svc.RegisterCIMD(t.Context(), cimdURL, cimdDoc(), nil)
	if err != nil || b.ClientID != a.ClientID || f.apps.Len() != 1 || f.apps.Calls("Update") != 0 {
		t.Fatalf("second mapping %+v, %v, apps %d", b, err, f.apps.Len())
	}
	// A changed document updates the same app client.
	doc := cimdDoc()
	doc.RedirectURIs = append(doc.RedirectURIs, "http://localhost:8976/callback")
	c, err := f.svc.RegisterCIMD(t.Context(), cimdURL, doc, nil)
	if err != nil || c.ClientID != a.ClientID || c.Version != 2 || f.apps.Len() != 1 {
		t.Fatalf("changed document %+v, %v", c, err)
	}
	app, _ := f.apps.Client(a.ClientID)
	if !slices.Equal(app.Spec.CallbackURLs, doc.RedirectURIs) {
		t.Fatalf("app client not updated: %v", app.Spec.CallbackURLs)
	}
	// Another URL is another client; a DCR registration with identical
	// metadata is not confused with it.
	d, err := f.svc.RegisterCIMD(t.Context(), "https://other.example/client.json", cimdDoc(), nil)
	if err != nil || d.ClientID == a.ClientID {
		t.Fatalf("other URL %+v, %v", d, err)
	}
	r, err := f.svc.Register(t.Context(), doc)
	if err != nil || r.Reused || r.Registration.ClientID == a.ClientID {
		t.Fatalf("DCR reused a CIMD client: %+v %v", r, err)
	}
	// Not manageable through RFC 7592 (no token); counts as a registration.
	wantInvalidToken(t, f.svc.Delete(t.Context(), a.ClientID, ""))
	if len(f.store.Records()) != 3 {
		t.Fatalf("records %d", len(f.store.Records()))
	}
}

func TestRegisterCIMDName(t *testing.T) {
	f := newFixture(t, nil)
	doc := cimdDoc()
	doc.ClientName = ""
	reg, err := f.svc.RegisterCIMD(t.Context(), "https://tools.example.com/mcp/client.json", doc, nil)
	if err != nil || reg.CognitoClientName != "mcp-tools.example.com" {
		t.Fatalf("%+v %v", reg, err)
	}
}

func TestRegisterCIMDRefused(t *testing.T) {
	tests := []struct {
		name, url string
		mut       func(*dcr.ClientMetadata)
		code      string
	}{
		{"http URL", "http://claude.ai/oauth/x", nil, dcr.CodeInvalidClientMetadata},
		{"loopback http URL", "http://localhost:8080/client.json", nil, dcr.CodeInvalidClientMetadata},
		{"no path", "https://claude.ai/", nil, dcr.CodeInvalidClientMetadata},
		{"fragment", "https://claude.ai/x#y", nil, dcr.CodeInvalidClientMetadata},
		{"userinfo", "https://a@claude.ai/x", nil, dcr.CodeInvalidClientMetadata},
		{"dot segments", "https://claude.ai/a/../x", nil, dcr.CodeInvalidClientMetadata},
		{"private_key_jwt", cimdURL, func(m *dcr.ClientMetadata) { m.TokenEndpointAuthMethod = "private_key_jwt" }, dcr.CodeInvalidClientMetadata},
		{"client_secret_basic", cimdURL, func(m *dcr.ClientMetadata) { m.TokenEndpointAuthMethod = "client_secret_basic" }, dcr.CodeInvalidClientMetadata},
		{"redirect not admitted", cimdURL, func(m *dcr.ClientMetadata) { m.RedirectURIs = []string{"https://evil.example/cb"} }, dcr.CodeInvalidRedirectURI},
		{"no redirect", cimdURL, func(m *dcr.ClientMetadata) { m.RedirectURIs = nil }, dcr.CodeInvalidRedirectURI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			doc := cimdDoc()
			if tt.mut != nil {
				tt.mut(&doc)
			}
			_, err := f.svc.RegisterCIMD(t.Context(), tt.url, doc, nil)
			wantOAuthError(t, err, http.StatusBadRequest, tt.code)
			if f.apps.Len() != 0 {
				t.Fatal("app client created")
			}
		})
	}
}

func TestRegisterCIMDCeilingAndCompensation(t *testing.T) {
	f := newFixture(t, func(p *dcr.Policy) { p.MaxRegistrations, p.AppClientQuota = 1, 2 })
	if _, err := f.svc.Register(t.Context(), publicMD()); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.RegisterCIMD(t.Context(), cimdURL, cimdDoc(), nil)
	wantOAuthError(t, err, http.StatusServiceUnavailable, "temporarily_unavailable")

	g := newFixture(t, nil)
	g.store.FailNextCreate(errBoom)
	_, err = g.svc.RegisterCIMD(t.Context(), cimdURL, cimdDoc(), nil)
	wantOAuthError(t, err, http.StatusInternalServerError, dcr.CodeServerError)
	if g.apps.Len() != 0 {
		t.Fatal("orphaned app client")
	}
}
