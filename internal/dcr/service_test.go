package dcr_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

func TestRegisterPublic(t *testing.T) {
	f := newFixture(t, nil)
	res, err := f.svc.Register(t.Context(), publicMD(claudeCB, vscodeCB))
	if err != nil {
		t.Fatal(err)
	}
	reg := res.Registration
	if reg.ClientID == "" || res.ClientSecret != "" || res.RegistrationAccessToken == "" || res.Reused {
		t.Fatalf("result = %+v", res)
	}
	app, ok := f.apps.Client(reg.ClientID)
	if !ok || app.Secret != "" || app.Spec.GenerateSecret || !slices.Equal(app.Spec.CallbackURLs, []string{claudeCB, vscodeCB}) ||
		app.Spec.Name != "mcp-Test Client" || !app.Spec.RefreshTokens || !slices.Equal(app.Spec.Flows, []string{"code"}) {
		t.Fatalf("app client = %+v", app)
	}
	recs := f.store.Records()
	if len(recs) != 1 {
		t.Fatalf("records = %+v", recs)
	}
	r := recs[0]
	now := f.clock.Now()
	if r.ClientID != reg.ClientID || r.Source != dcr.SourceDCR || r.Version != 1 || !r.CreatedAt.Equal(now) ||
		!r.ExpiresAt.Equal(now.Add(90*24*time.Hour)) || r.MetadataHash == "" ||
		r.RegistrationTokenHash != dcr.TokenHash(res.RegistrationAccessToken) || r.CognitoClientName != app.Spec.Name {
		t.Fatalf("record = %+v", r)
	}
	if r.Metadata.TokenEndpointAuthMethod != "none" || !slices.Equal(r.Metadata.ResponseTypes, []string{"code"}) || r.Metadata.Scope != "openid email profile" {
		t.Fatalf("stored metadata = %+v", r.Metadata)
	}
}

func TestRegisterConfidential(t *testing.T) {
	f := newFixture(t, nil)
	res, err := f.svc.Register(t.Context(), confidentialMD())
	if err != nil {
		t.Fatal(err)
	}
	app, _ := f.apps.Client(res.Registration.ClientID)
	if res.ClientSecret == "" || res.ClientSecret != app.Secret || !app.Spec.GenerateSecret || res.Registration.MetadataHash != "" {
		t.Fatalf("result %+v, app %+v", res, app)
	}
}

// TestSecretsNeverStored inspects every stored record, in every rendering,
// for client secrets and registration access tokens.
func TestSecretsNeverStored(t *testing.T) {
	f := newFixture(t, nil)
	var secrets []string
	for i, md := range []dcr.ClientMetadata{publicMD(), confidentialMD(), confidentialMD(vscodeCB), publicMD(vscodeCB)} {
		md.ClientName = fmt.Sprint("client ", i)
		res, err := f.svc.Register(t.Context(), md)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, res.RegistrationAccessToken)
		if res.ClientSecret != "" {
			secrets = append(secrets, res.ClientSecret)
		}
		if _, err := f.svc.Update(t.Context(), res.Registration.ClientID, res.RegistrationAccessToken, md); err != nil {
			t.Fatal(err)
		}
	}
	if len(secrets) != 6 {
		t.Fatalf("secrets = %d", len(secrets))
	}
	for _, r := range f.store.Records() {
		js, _ := json.Marshal(r)
		dump := string(js) + fmt.Sprintf("%+v %#v", r, r)
		for _, s := range secrets {
			if strings.Contains(dump, s) {
				t.Errorf("record %s contains a secret or token: %s", r.ClientID, dump)
			}
		}
		if len(r.RegistrationTokenHash) != 64 {
			t.Errorf("token hash %q", r.RegistrationTokenHash)
		}
	}
	for _, s := range secrets {
		if strings.Contains(f.logs.String(), s) {
			t.Error("a secret or token was logged")
		}
	}
}

func TestRegisterReuse(t *testing.T) {
	tests := []struct {
		name        string
		mut         func(*dcr.Policy)
		first, then dcr.ClientMetadata
		advance     time.Duration
		wantReuse   bool
	}{
		{name: "identical public", first: publicMD(), then: publicMD(), wantReuse: true},
		{name: "redirect order ignored", first: publicMD(claudeCB, vscodeCB), then: publicMD(vscodeCB, claudeCB), wantReuse: true},
		{name: "defaults equal explicit", first: dcr.ClientMetadata{RedirectURIs: []string{claudeCB}},
			then: dcr.ClientMetadata{RedirectURIs: []string{claudeCB}, TokenEndpointAuthMethod: "none", ResponseTypes: []string{"code"}, GrantTypes: []string{"authorization_code"}}, wantReuse: true},
		{name: "different redirect", first: publicMD(), then: publicMD(vscodeCB)},
		{name: "different name", first: publicMD(), then: func() dcr.ClientMetadata { m := publicMD(); m.ClientName = "Other"; return m }()},
		{name: "confidential never", first: confidentialMD(), then: confidentialMD()},
		{name: "reuse disabled", mut: func(p *dcr.Policy) { p.ReusePublicRegistrations = false }, first: publicMD(), then: publicMD()},
		{name: "expired not reused", first: publicMD(), then: publicMD(), advance: 91 * 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.mut)
			a, err := f.svc.Register(t.Context(), tt.first)
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(tt.advance)
			b, err := f.svc.Register(t.Context(), tt.then)
			if err != nil {
				t.Fatal(err)
			}
			same := a.Registration.ClientID == b.Registration.ClientID
			if same != tt.wantReuse || b.Reused != tt.wantReuse || f.apps.Len() != map[bool]int{true: 1, false: 2}[tt.wantReuse] {
				t.Fatalf("same=%v reused=%v apps=%d, want reuse %v", same, b.Reused, f.apps.Len(), tt.wantReuse)
			}
			if tt.wantReuse && (b.RegistrationAccessToken != "" || b.ClientSecret != "") {
				t.Fatalf("a reused registration handed out a token: %+v", b)
			}
			if !tt.wantReuse && b.RegistrationAccessToken == "" {
				t.Fatal("a new registration has no token")
			}
		})
	}
}

func TestReuseRenewsExpiry(t *testing.T) {
	f := newFixture(t, nil)
	a, _ := f.svc.Register(t.Context(), publicMD())
	f.clock.Advance(10 * 24 * time.Hour) // 80 days left: no renewal
	b, _ := f.svc.Register(t.Context(), publicMD())
	if !b.Registration.ExpiresAt.Equal(a.Registration.ExpiresAt) || b.Registration.Version != 1 {
		t.Fatalf("renewed too early: %+v", b.Registration)
	}
	f.clock.Advance(40 * 24 * time.Hour) // 40 days left: renewed
	c, _ := f.svc.Register(t.Context(), publicMD())
	if !c.Reused || !c.Registration.ExpiresAt.Equal(f.clock.Now().Add(90*24*time.Hour)) || c.Registration.Version != 2 {
		t.Fatalf("not renewed: %+v", c.Registration)
	}
	if got := f.store.Records()[0]; !got.ExpiresAt.Equal(c.Registration.ExpiresAt) {
		t.Fatalf("renewal not stored: %+v", got)
	}
}

func TestRegisterCeiling(t *testing.T) {
	f := newFixture(t, func(p *dcr.Policy) { p.MaxRegistrations, p.AppClientQuota = 2, 3 })
	for _, uri := range []string{claudeCB, vscodeCB} {
		if _, err := f.svc.Register(t.Context(), publicMD(uri)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.svc.Register(t.Context(), confidentialMD())
	be := wantOAuthError(t, err, http.StatusServiceUnavailable, bearer.CodeUnavailable)
	if !strings.Contains(be.Description, "registration limit reached") || !strings.Contains(be.Description, "at most 2") {
		t.Errorf("description %q", be.Description)
	}
	if f.apps.Calls(dcrtest.OpCreate) != 2 || f.apps.Len() != 2 {
		t.Errorf("an app client was created at the ceiling")
	}
	if res, err := f.svc.Register(t.Context(), publicMD(claudeCB)); err != nil || !res.Reused {
		t.Errorf("reuse at the ceiling: %v %+v", err, res)
	}
	if !strings.Contains(f.logs.String(), "ceiling") {
		t.Error("the refusal was not logged")
	}
}

// TestRegisterCompensation: when the store write fails the new app client is
// deleted again, nothing is stored, and the caller gets a 500 wrapping the
// store error.
func TestRegisterCompensation(t *testing.T) {
	f := newFixture(t, nil)
	f.store.FailNextCreate(errBoom)
	_, err := f.svc.Register(t.Context(), confidentialMD())
	be := wantOAuthError(t, err, http.StatusInternalServerError, dcr.CodeServerError)
	if !errors.Is(err, errBoom) || strings.Contains(be.Description, "boom") {
		t.Fatalf("err = %v (description %q)", err, be.Description)
	}
	if f.apps.Calls(dcrtest.OpCreate) != 1 || f.apps.Calls(dcrtest.OpDelete) != 1 || f.apps.Len() != 0 || len(f.store.Records()) != 0 {
		t.Fatalf("orphan: apps=%v records=%v", f.apps.IDs(), f.store.Records())
	}
	if !strings.Contains(f.logs.String(), "app client deleted") {
		t.Error("compensation not logged")
	}

	// The compensation itself fails: both errors are reported and logged.
	errDel := errors.New("delete failed")
	f.store.FailNextCreate(errBoom)
	f.apps.FailNext(dcrtest.OpDelete, errDel)
	_, err = f.svc.Register(t.Context(), confidentialMD())
	wantOAuthError(t, err, http.StatusInternalServerError, dcr.CodeServerError)
	if !errors.Is(err, errBoom) || !errors.Is(err, errDel) || !strings.Contains(f.logs.String(), "orphaned app client") {
		t.Fatalf("err = %v; logs:\n%s", err, f.logs)
	}

	// A cancelled request still compensates.
	ctx, cancel := context.WithCancel(t.Context())
	f.store.FailNextCreate(errBoom)
	apps := f.apps.Len()
	cancelAfterCreate := &cancellingApps{FakeApps: f.apps, cancel: cancel}
	svc, _ := dcr.NewService(cancelAfterCreate, f.store, dcr.DefaultPolicy(), dcr.ServiceOptions{})
	if _, err := svc.Register(ctx, publicMD()); err == nil {
		t.Fatal("registered")
	}
	if f.apps.Len() != apps {
		t.Fatal("a cancelled request left an orphaned app client")
	}
}

// cancellingApps cancels the request's context right after creating a client.
type cancellingApps struct {
	*dcrtest.FakeApps
	cancel func()
}

func (c *cancellingApps) Create(ctx context.Context, spec dcr.AppClientSpec) (string, string, error) {
	id, secret, err := c.FakeApps.Create(ctx, spec)
	c.cancel()
	return id, secret, err
}

func TestRegisterBackendFailures(t *testing.T) {
	adapterErr := &bearer.Error{Status: http.StatusServiceUnavailable, Code: bearer.CodeUnavailable, Description: "Cognito is throttling"}
	tests := []struct {
		name       string
		inject     func(f *fixture)
		wantStatus int
		wantCode   string
	}{
		{"count", func(f *fixture) { f.store.FailNext(dcrtest.OpCount, errBoom) }, 500, dcr.CodeServerError},
		{"find", func(f *fixture) { f.store.FailNext(dcrtest.OpFind, errBoom) }, 500, dcr.CodeServerError},
		{"create app", func(f *fixture) { f.apps.FailNextCreate(errBoom) }, 500, dcr.CodeServerError},
		{"adapter answer kept", func(f *fixture) { f.apps.FailNextCreate(fmt.Errorf("throttled: %w", adapterErr)) }, 503, bearer.CodeUnavailable},
		{"cognito quota", func(f *fixture) { f.apps.SetQuota(0) }, 500, dcr.CodeServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			tt.inject(f)
			_, err := f.svc.Register(t.Context(), publicMD())
			wantOAuthError(t, err, tt.wantStatus, tt.wantCode)
			if len(f.store.Records()) != 0 || f.apps.Len() != 0 {
				t.Fatal("something was left behind")
			}
		})
	}
}

// TestRegisterInvalidTouchesNothing: a refused request reaches neither
// Cognito nor the store.
func TestRegisterInvalidTouchesNothing(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.svc.Register(t.Context(), publicMD("https://evil.example/cb"))
	wantOAuthError(t, err, http.StatusBadRequest, dcr.CodeInvalidRedirectURI)
	_, err = f.svc.Register(t.Context(), dcr.ClientMetadata{RedirectURIs: []string{claudeCB}, Scope: "admin"})
	wantOAuthError(t, err, http.StatusBadRequest, dcr.CodeInvalidClientMetadata)
	for _, op := range []dcrtest.Op{dcrtest.OpCreate, dcrtest.OpCount, dcrtest.OpFind} {
		if f.apps.Calls(op)+f.store.Calls(op) != 0 {
			t.Errorf("%s was called", op)
		}
	}
}

func TestClientInfo(t *testing.T) {
	created := time.Unix(1_800_000_000, 0).UTC()
	reg := dcr.Registration{ClientID: "abc", CreatedAt: created, Metadata: dcr.ClientMetadata{RedirectURIs: []string{claudeCB}, TokenEndpointAuthMethod: "client_secret_basic"}}
	info := dcr.ClientInfo(&dcr.Result{Registration: reg, ClientSecret: "s3cret", RegistrationAccessToken: "rat"}, "https://dcr.example/register/abc")
	if info.ClientID != "abc" || info.ClientSecret != "s3cret" || info.ClientSecretExpiresAt == nil || *info.ClientSecretExpiresAt != 0 ||
		info.ClientIDIssuedAt != created.Unix() || info.RegistrationAccessToken != "rat" || info.RegistrationClientURI != "https://dcr.example/register/abc" ||
		info.TokenEndpointAuthMethod != "client_secret_basic" || info.RedirectURIs[0] != claudeCB {
		t.Fatalf("info = %+v", info)
	}
	js, _ := json.Marshal(info)
	for _, want := range []string{`"client_secret_expires_at":0`, `"client_id_issued_at":1800000000`, `"redirect_uris":["https://claude.ai/api/mcp/auth_callback"]`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("%s lacks %s", js, want)
		}
	}
	reused := dcr.ClientInfo(&dcr.Result{Registration: reg, Reused: true}, "https://dcr.example/register/abc")
	js, _ = json.Marshal(reused)
	for _, absent := range []string{`"client_secret":`, `"client_secret_expires_at"`, "registration_access_token", "registration_client_uri"} {
		if strings.Contains(string(js), absent) {
			t.Errorf("reused response has %s: %s", absent, js)
		}
	}
}
