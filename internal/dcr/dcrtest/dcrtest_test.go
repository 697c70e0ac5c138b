package dcrtest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
)

// TestMemStoreContract checks the Store semantics the DynamoDB store must
// share (see dcr.Store).
func TestMemStoreContract(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := dcrtest.NewMemStore()
	m.SetNow(func() time.Time { return now })
	r := dcr.Registration{ClientID: "a", Version: 1, MetadataHash: "h", CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		Metadata: dcr.ClientMetadata{RedirectURIs: []string{"x"}}, Scopes: []string{"openid"}}
	if err := m.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := m.Create(ctx, r); !errors.Is(err, dcr.ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	got, err := m.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	got.Metadata.RedirectURIs[0], got.Scopes[0] = "mutated", "mutated"
	if again, _ := m.Get(ctx, "a"); again.Metadata.RedirectURIs[0] != "x" || again.Scopes[0] != "openid" {
		t.Fatal("Get aliases stored slices")
	}
	if _, err := m.Get(ctx, "missing"); !errors.Is(err, dcr.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	r.Version = 3
	if err := m.Update(ctx, r); !errors.Is(err, dcr.ErrConflict) {
		t.Fatalf("version skip: %v", err)
	}
	r.Version = 2
	if err := m.Update(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := m.Update(ctx, r); !errors.Is(err, dcr.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	if err := m.Update(ctx, dcr.Registration{ClientID: "missing", Version: 1}); !errors.Is(err, dcr.ErrConflict) {
		t.Fatalf("update of a missing record: %v", err)
	}
	if f, err := m.FindByMetadataHash(ctx, "h"); err != nil || f.ClientID != "a" {
		t.Fatalf("find: %v %v", f, err)
	}
	for _, h := range []string{"", "other"} {
		if _, err := m.FindByMetadataHash(ctx, h); !errors.Is(err, dcr.ErrNotFound) {
			t.Fatalf("find %q: %v", h, err)
		}
	}
	now = now.Add(2 * time.Hour)
	if _, err := m.FindByMetadataHash(ctx, "h"); !errors.Is(err, dcr.ErrNotFound) {
		t.Fatalf("find expired: %v", err)
	}
	m.Put(dcr.Registration{ClientID: "b", ExpiresAt: now.Add(-3 * time.Hour)})
	m.Put(dcr.Registration{ClientID: "c"})
	exp, _ := m.Expired(ctx, now, 10)
	if len(exp) != 2 || exp[0].ClientID != "b" || exp[1].ClientID != "a" {
		t.Fatalf("expired %+v", exp)
	}
	if exp, _ := m.Expired(ctx, now, 1); len(exp) != 1 {
		t.Fatalf("limit ignored")
	}
	if n, _ := m.Count(ctx); n != 3 {
		t.Fatalf("count %d", n)
	}
	if err := m.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "a"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	boom := errors.New("boom")
	m.FailNext(dcrtest.OpCount, boom)
	if _, err := m.Count(ctx); !errors.Is(err, boom) {
		t.Fatal("injection")
	}
	if _, err := m.Count(ctx); err != nil || m.Calls(dcrtest.OpCount) != 3 {
		t.Fatalf("injection not one-shot: %v, calls %d", err, m.Calls(dcrtest.OpCount))
	}
}

// TestFakeAppsCognitoRules checks the fake refuses what Cognito refuses.
func TestFakeAppsCognitoRules(t *testing.T) {
	ctx := t.Context()
	ok := dcr.AppClientSpec{Name: "mcp-x", CallbackURLs: []string{"https://a.example/cb"}, Scopes: []string{"openid"}, Flows: []string{"code"}}
	tests := []struct {
		name string
		mut  func(*dcr.AppClientSpec)
		want bool
	}{
		{"ok", func(*dcr.AppClientSpec) {}, true},
		{"loopback http", func(s *dcr.AppClientSpec) { s.CallbackURLs = []string{"http://[::1]:9/cb"} }, true},
		{"name charset", func(s *dcr.AppClientSpec) { s.Name = "mcp/x" }, false},
		{"name empty", func(s *dcr.AppClientSpec) { s.Name = "" }, false},
		{"name long", func(s *dcr.AppClientSpec) { s.Name = strings.Repeat("a", 129) }, false},
		{"http", func(s *dcr.AppClientSpec) { s.CallbackURLs = []string{"http://localhost.evil.com/cb"} }, false},
		{"fragment", func(s *dcr.AppClientSpec) { s.CallbackURLs = []string{"https://a.example/cb#x"} }, false},
		{"101 callbacks", func(s *dcr.AppClientSpec) { s.CallbackURLs = make([]string, 101) }, false},
		{"no scopes", func(s *dcr.AppClientSpec) { s.Scopes = nil }, false},
		{"code without callbacks", func(s *dcr.AppClientSpec) { s.CallbackURLs = nil }, false},
		{"mixed flows", func(s *dcr.AppClientSpec) { s.Flows = []string{"code", "client_credentials"} }, false},
		{"client_credentials public", func(s *dcr.AppClientSpec) { s.Flows = []string{"client_credentials"} }, false},
		{"client_credentials", func(s *dcr.AppClientSpec) { s.Flows, s.GenerateSecret = []string{"client_credentials"}, true }, true},
	}
	for _, tt := range tests {
		f := dcrtest.NewFakeApps()
		spec := ok
		spec.CallbackURLs = append([]string(nil), ok.CallbackURLs...)
		tt.mut(&spec)
		id, _, err := f.Create(ctx, spec)
		if (err == nil) != tt.want || (err != nil && !errors.Is(err, dcrtest.ErrInvalidParam)) {
			t.Errorf("%s: id %q err %v", tt.name, id, err)
		}
	}
	f := dcrtest.NewFakeApps()
	f.SetQuota(1)
	id, secret, err := f.Create(ctx, ok)
	if err != nil || len(id) != 26 || secret != "" {
		t.Fatalf("create: %q %q %v", id, secret, err)
	}
	if _, _, err := f.Create(ctx, ok); !errors.Is(err, dcrtest.ErrLimitExceeded) {
		t.Fatalf("quota: %v", err)
	}
	conf := ok
	conf.GenerateSecret = true
	if err := f.Update(ctx, id, conf); !errors.Is(err, dcrtest.ErrInvalidParam) {
		t.Fatalf("secret added by update: %v", err)
	}
	if err := f.Update(ctx, "missing", ok); !errors.Is(err, dcrtest.ErrNoSuchClient) {
		t.Fatalf("update missing: %v", err)
	}
	if _, err := f.Secret(ctx, "missing"); !errors.Is(err, dcrtest.ErrNoSuchClient) {
		t.Fatalf("secret missing: %v", err)
	}
	if err := f.Delete(ctx, id); err != nil || f.Delete(ctx, id) != nil || f.Len() != 0 {
		t.Fatal("delete not idempotent")
	}
}
