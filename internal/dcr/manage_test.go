package dcr_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
)

// TestManageAuthorization: Read, Update and Delete answer the same 401 for
// an unknown client and for every wrong token, including one of equal length
// differing in one bit (the comparison is crypto/subtle over hashes; see
// tokenMatches), another client's token, and an expired registration.
func TestManageAuthorization(t *testing.T) {
	f := newFixture(t, nil)
	a, err := f.svc.Register(t.Context(), confidentialMD())
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.svc.Register(t.Context(), publicMD(vscodeCB))
	if err != nil {
		t.Fatal(err)
	}
	id, tok := a.Registration.ClientID, a.RegistrationAccessToken
	flipped := []byte(tok)
	flipped[len(flipped)-1] ^= 1
	ops := map[string]func(ctx context.Context, id, tok string) error{
		"read": func(ctx context.Context, id, tok string) error { _, err := f.svc.Read(ctx, id, tok); return err },
		"update": func(ctx context.Context, id, tok string) error {
			_, err := f.svc.Update(ctx, id, tok, confidentialMD())
			return err
		},
		"delete": func(ctx context.Context, id, tok string) error { return f.svc.Delete(ctx, id, tok) },
	}
	cases := []struct{ name, id, tok string }{
		{"wrong token same length", id, string(flipped)},
		{"empty token", id, ""},
		{"other client's token", id, b.RegistrationAccessToken},
		{"token hash as token", id, dcr.TokenHash(tok)},
		{"huge token", id, strings.Repeat("a", 100000)},
		{"unknown client", "doesnotexist", tok},
		{"empty client", "", tok},
	}
	for name, op := range ops {
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				wantInvalidToken(t, op(t.Context(), c.id, c.tok))
			})
		}
	}
	if _, ok := f.apps.Client(id); !ok || len(f.store.Records()) != 2 {
		t.Fatal("a refused request changed something")
	}
	if f.apps.Calls(dcrtest.OpUpdate) != 0 || f.apps.Calls(dcrtest.OpDelete) != 0 {
		t.Fatal("a refused request reached Cognito")
	}
	// The right token works, until the registration expires.
	if _, err := f.svc.Read(t.Context(), id, tok); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(91 * 24 * time.Hour)
	for name, op := range ops {
		t.Run(name+"/expired", func(t *testing.T) { wantInvalidToken(t, op(t.Context(), id, tok)) })
	}
}

func TestRead(t *testing.T) {
	f := newFixture(t, nil)
	conf, _ := f.svc.Register(t.Context(), confidentialMD())
	pub, _ := f.svc.Register(t.Context(), publicMD(vscodeCB))
	got, err := f.svc.Read(t.Context(), conf.Registration.ClientID, conf.RegistrationAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientSecret != conf.ClientSecret || got.RegistrationAccessToken != conf.RegistrationAccessToken ||
		got.Registration.ClientID != conf.Registration.ClientID || got.Reused {
		t.Fatalf("read = %+v", got)
	}
	got, err = f.svc.Read(t.Context(), pub.Registration.ClientID, pub.RegistrationAccessToken)
	if err != nil || got.ClientSecret != "" || f.apps.Calls(dcrtest.OpSecret) != 1 {
		t.Fatalf("public read = %+v, %v (Secret calls %d)", got, err, f.apps.Calls(dcrtest.OpSecret))
	}
	f.store.FailNext(dcrtest.OpGet, errBoom)
	_, err = f.svc.Read(t.Context(), pub.Registration.ClientID, pub.RegistrationAccessToken)
	wantOAuthError(t, err, http.StatusInternalServerError, dcr.CodeServerError) // a store failure is not a 401
}

func TestUpdate(t *testing.T) {
	f := newFixture(t, func(p *dcr.Policy) { p.AllowedScopes = []string{"openid", "mcp/tools"} })
	res, err := f.svc.Register(t.Context(), confidentialMD())
	if err != nil {
		t.Fatal(err)
	}
	id, tok := res.Registration.ClientID, res.RegistrationAccessToken
	f.clock.Advance(24 * time.Hour)
	md := confidentialMD(claudeCB, vscodeCB)
	md.ClientName, md.Scope, md.TokenEndpointAuthMethod = "Renamed", "mcp/tools", "client_secret_post"
	up, err := f.svc.Update(t.Context(), id, tok, md, dcr.BodyCredentials{ClientID: id, ClientSecret: res.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	app, _ := f.apps.Client(id)
	if !slices.Equal(app.Spec.CallbackURLs, []string{claudeCB, vscodeCB}) || app.Spec.Name != "mcp-Renamed" || !slices.Equal(app.Spec.Scopes, []string{"mcp/tools"}) {
		t.Fatalf("app client not updated: %+v", app.Spec)
	}
	rec := f.store.Records()[0]
	if rec.Version != 2 || rec.Metadata.ClientName != "Renamed" || rec.Metadata.TokenEndpointAuthMethod != "client_secret_post" ||
		!rec.ExpiresAt.Equal(f.clock.Now().Add(90*24*time.Hour)) || rec.RegistrationTokenHash != dcr.TokenHash(tok) {
		t.Fatalf("record = %+v", rec)
	}
	if up.ClientSecret != res.ClientSecret || up.RegistrationAccessToken != tok || up.Registration.Version != 2 {
		t.Fatalf("update result = %+v", up)
	}

	refused := []struct {
		name string
		md   dcr.ClientMetadata
		body []dcr.BodyCredentials
		code string
	}{
		{"client_id mismatch", confidentialMD(), []dcr.BodyCredentials{{ClientID: "other"}}, dcr.CodeInvalidClientMetadata},
		{"secret mismatch", confidentialMD(), []dcr.BodyCredentials{{ClientSecret: strings.Repeat("x", len(res.ClientSecret))}}, dcr.CodeInvalidClientMetadata},
		{"to public", publicMD(), nil, dcr.CodeInvalidClientMetadata},
		{"bad redirect", confidentialMD("https://evil.example/cb"), nil, dcr.CodeInvalidRedirectURI},
		{"bad scope", func() dcr.ClientMetadata { m := confidentialMD(); m.Scope = "email"; return m }(), nil, dcr.CodeInvalidClientMetadata},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Update(t.Context(), id, tok, tt.md, tt.body...)
			wantOAuthError(t, err, http.StatusBadRequest, tt.code)
			if app2, _ := f.apps.Client(id); !slices.Equal(app2.Spec.CallbackURLs, app.Spec.CallbackURLs) || f.store.Records()[0].Version != 2 {
				t.Fatal("a refused update changed something")
			}
		})
	}

	pub, _ := f.svc.Register(t.Context(), publicMD())
	_, err = f.svc.Update(t.Context(), pub.Registration.ClientID, pub.RegistrationAccessToken, publicMD(), dcr.BodyCredentials{ClientSecret: "x"})
	wantOAuthError(t, err, http.StatusBadRequest, dcr.CodeInvalidClientMetadata)
	_, err = f.svc.Update(t.Context(), pub.Registration.ClientID, pub.RegistrationAccessToken, confidentialMD())
	wantOAuthError(t, err, http.StatusBadRequest, dcr.CodeInvalidClientMetadata)
	up, err = f.svc.Update(t.Context(), pub.Registration.ClientID, pub.RegistrationAccessToken, publicMD(vscodeCB))
	if err != nil || up.Registration.MetadataHash == pub.Registration.MetadataHash || up.Registration.MetadataHash == "" {
		t.Fatalf("public update: %v, hash %q", err, up.Registration.MetadataHash)
	}
}

// TestUpdateConflict: a concurrent change is retried once; a second one is 409.
func TestUpdateConflict(t *testing.T) {
	f := newFixture(t, nil)
	res, _ := f.svc.Register(t.Context(), publicMD())
	id, tok := res.Registration.ClientID, res.RegistrationAccessToken
	f.store.FailNext(dcrtest.OpUpdate, dcr.ErrConflict)
	if _, err := f.svc.Update(t.Context(), id, tok, publicMD(vscodeCB)); err != nil {
		t.Fatal(err)
	}
	if f.apps.Calls(dcrtest.OpUpdate) != 2 || f.store.Records()[0].Version != 2 {
		t.Fatalf("apps.Update calls %d, record %+v", f.apps.Calls(dcrtest.OpUpdate), f.store.Records()[0])
	}
	f.store.FailNext(dcrtest.OpUpdate, dcr.ErrConflict)
	f.store.FailNext(dcrtest.OpUpdate, dcr.ErrConflict)
	_, err := f.svc.Update(t.Context(), id, tok, publicMD())
	wantOAuthError(t, err, http.StatusConflict, "temporarily_unavailable")
	f.store.FailNext(dcrtest.OpUpdate, errBoom)
	_, err = f.svc.Update(t.Context(), id, tok, publicMD())
	if wantOAuthError(t, err, http.StatusInternalServerError, dcr.CodeServerError); !errors.Is(err, errBoom) {
		t.Fatal(err)
	}
}

func TestDelete(t *testing.T) {
	f := newFixture(t, nil)
	res, _ := f.svc.Register(t.Context(), confidentialMD())
	other, _ := f.svc.Register(t.Context(), publicMD())
	id, tok := res.Registration.ClientID, res.RegistrationAccessToken

	// The record survives a failed store delete; a retry completes it.
	f.store.FailNext(dcrtest.OpDelete, errBoom)
	err := f.svc.Delete(t.Context(), id, tok)
	wantOAuthError(t, err, http.StatusInternalServerError, dcr.CodeServerError)
	if _, ok := f.apps.Client(id); ok {
		t.Fatal("the app client must go first")
	}
	if err := f.svc.Delete(t.Context(), id, tok); err != nil {
		t.Fatal(err)
	}
	if len(f.store.Records()) != 1 || f.apps.Len() != 1 || f.store.Records()[0].ClientID != other.Registration.ClientID {
		t.Fatalf("left: %v %v", f.store.Records(), f.apps.IDs())
	}
	wantInvalidToken(t, f.svc.Delete(t.Context(), id, tok))

	// A failed app-client delete keeps the record (nothing half-deleted).
	f.apps.FailNext(dcrtest.OpDelete, errBoom)
	wantOAuthError(t, f.svc.Delete(t.Context(), other.Registration.ClientID, other.RegistrationAccessToken), http.StatusInternalServerError, dcr.CodeServerError)
	if len(f.store.Records()) != 1 {
		t.Fatal("record removed although the app client was not")
	}
}
