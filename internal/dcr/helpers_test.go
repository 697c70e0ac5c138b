package dcr_test

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

const (
	claudeCB = "https://claude.ai/api/mcp/auth_callback"
	vscodeCB = "http://127.0.0.1:33418"
)

var errBoom = errors.New("boom")

type fixture struct {
	svc   *dcr.Service
	apps  *dcrtest.FakeApps
	store *dcrtest.MemStore
	clock *testkit.Clock
	logs  *testkit.SafeBuffer
}

// newFixture builds a Service over the fakes with DefaultPolicy changed by mut.
func newFixture(t *testing.T, mut func(*dcr.Policy)) *fixture {
	t.Helper()
	f := &fixture{apps: dcrtest.NewFakeApps(), store: dcrtest.NewMemStore(),
		clock: testkit.NewClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)), logs: &testkit.SafeBuffer{}}
	f.store.SetNow(f.clock.Now)
	p := dcr.DefaultPolicy()
	if mut != nil {
		mut(&p)
	}
	svc, err := dcr.NewService(f.apps, f.store, p, dcr.ServiceOptions{
		Now: f.clock.Now, Logger: slog.New(slog.NewTextHandler(f.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

func publicMD(uris ...string) dcr.ClientMetadata {
	if len(uris) == 0 {
		uris = []string{claudeCB}
	}
	return dcr.ClientMetadata{RedirectURIs: uris, ClientName: "Test Client",
		GrantTypes: []string{"authorization_code", "refresh_token"}, TokenEndpointAuthMethod: "none"}
}

func confidentialMD(uris ...string) dcr.ClientMetadata {
	md := publicMD(uris...)
	md.TokenEndpointAuthMethod = "client_secret_basic"
	return md
}

// wantOAuthError asserts err carries a *bearer.Error with status and code.
func wantOAuthError(t *testing.T, err error, status int, code string) *bearer.Error {
	t.Helper()
	var be *bearer.Error
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a *bearer.Error %d %s", err, status, code)
	}
	if be.Status != status || be.Code != code {
		t.Fatalf("err = %d %s (%q), want %d %s", be.Status, be.Code, be.Description, status, code)
	}
	return be
}

func wantInvalidToken(t *testing.T, err error) {
	t.Helper()
	be := wantOAuthError(t, err, http.StatusUnauthorized, bearer.CodeInvalidToken)
	if !strings.Contains(be.Description, "registration access token") {
		t.Fatalf("description %q", be.Description)
	}
}

// usePort uses http://localhost:<p>/callback (port) for clientID as the
// bridge does: the registration as stored now, then UseRedirectURI.
func (f *fixture) usePort(t *testing.T, clientID string, p int, gate dcr.WriteGate) error {
	t.Helper()
	cur, err := f.svc.Lookup(t.Context(), clientID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.UseRedirectURI(t.Context(), cur, port(p), gate)
	return err
}
