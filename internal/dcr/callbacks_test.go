package dcr_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
)

const claudeCodeURL = "https://claude.ai/oauth/claude-code-client-metadata"

// claudeCodeDoc is shaped like Claude Code's published metadata document.
func claudeCodeDoc() dcr.ClientMetadata {
	return dcr.ClientMetadata{ClientName: "Claude Code",
		RedirectURIs: []string{"http://localhost/callback", "http://127.0.0.1/callback"},
		GrantTypes:   []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		TokenEndpointAuthMethod: "none"}
}

// vscodeDoc is shaped like VS Code's published metadata document.
func vscodeDoc() dcr.ClientMetadata {
	return dcr.ClientMetadata{ClientName: "Visual Studio Code",
		RedirectURIs: []string{"http://127.0.0.1/", "https://vscode.dev/redirect"},
		GrantTypes:   []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		TokenEndpointAuthMethod: "none"}
}

func port(p int) string { return fmt.Sprintf("http://localhost:%d/callback", p) }

// callbacks returns the app client's callback URLs and the record's
// loopback callbacks, checking that the app client lists exactly the
// registered URIs followed by them.
func callbacks(t *testing.T, f *fixture, reg *dcr.Registration) []string {
	t.Helper()
	rec, err := f.store.Get(t.Context(), reg.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, c := range rec.LoopbackCallbacks {
		extra = append(extra, c.URI)
	}
	app, _ := f.apps.Client(reg.ClientID)
	if want := append(slices.Clone(rec.Metadata.RedirectURIs), extra...); !slices.Equal(app.Spec.CallbackURLs, want) {
		t.Fatalf("app client callbacks %v, record says %v", app.Spec.CallbackURLs, want)
	}
	return extra
}

// TestUseRedirectURI proves the exact loopback URI a client uses is added
// to the app client (Cognito compares callbacks exactly) when it matches a
// registered portless one, with documents shaped like Claude Code's and VS
// Code's; exact registered URIs and repeated uses need no write (and
// ListsCallback says so); anything else is refused.
func TestUseRedirectURI(t *testing.T) {
	f := newFixture(t, nil)
	cc, err := f.svc.RegisterCIMD(t.Context(), claudeCodeURL, claudeCodeDoc(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.UseRedirectURI(t.Context(), cc, "http://localhost:54321/callback", nil)
	if err != nil || got.Version != cc.Version+1 || len(got.LoopbackCallbacks) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	if extra := callbacks(t, f, cc); !slices.Equal(extra, []string{"http://localhost:54321/callback"}) {
		t.Fatalf("loopback callbacks %v", extra)
	}
	if _, err := f.svc.UseRedirectURI(t.Context(), got, "http://127.0.0.1:61000/callback", nil); err != nil {
		t.Fatal(err)
	}
	updates, writes := f.apps.Calls(dcrtest.OpUpdate), f.store.Calls(dcrtest.OpUpdate)
	fresh, err := f.svc.Lookup(t.Context(), cc.ClientID) // as the bridge passes it
	if err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{"http://localhost:54321/callback", "http://localhost/callback"} {
		if _, err := f.svc.UseRedirectURI(t.Context(), fresh, uri, nil); err != nil {
			t.Fatal(err)
		}
	}
	if f.apps.Calls(dcrtest.OpUpdate) != updates || f.store.Calls(dcrtest.OpUpdate) != writes {
		t.Fatal("a listed or registered URI was written again within a minute")
	}
	for uri, want := range map[string]bool{"http://localhost:54321/callback": true, "http://localhost/callback": true,
		"http://127.0.0.1:61000/callback": true, "http://localhost:54322/callback": false} {
		if fresh.ListsCallback(uri) != want {
			t.Errorf("ListsCallback(%s) = %v, want %v", uri, !want, want)
		}
	}
	for _, uri := range []string{"http://localhost:54321/other", "https://localhost:54321/callback", "http://evil.example:1/callback", "http://localhost:0/callback"} {
		_, err := f.svc.UseRedirectURI(t.Context(), cc, uri, nil)
		wantOAuthError(t, err, http.StatusBadRequest, "invalid_request")
	}

	vs, err := f.svc.RegisterCIMD(t.Context(), "https://vscode.dev/oauth/client-metadata.json", vscodeDoc(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UseRedirectURI(t.Context(), vs, "http://127.0.0.1:33418/", nil); err != nil {
		t.Fatal(err)
	}
	if extra := callbacks(t, f, vs); !slices.Equal(extra, []string{"http://127.0.0.1:33418/"}) {
		t.Fatalf("VS Code loopback callbacks %v", extra)
	}
}

// TestUseRedirectURIEviction proves the list is bounded by the policy's
// limit, least recently used first out, that a use older than a minute
// refreshes an entry's place, that the order is the stored one (a new
// Service over the same store, as after a restart, continues it), and that
// Cognito's 100 callback URLs bound it too. Uses are further apart than
// CallbackInUseWindow, so that every entry but the newest may be evicted
// (TestUseRedirectURIInProgress covers younger ones).
func TestUseRedirectURIEviction(t *testing.T) {
	const step = dcr.CallbackInUseWindow + time.Minute
	f := newFixture(t, func(p *dcr.Policy) { p.LoopbackCallbackLimit = 3 })
	reg, err := f.svc.RegisterCIMD(t.Context(), claudeCodeURL, claudeCodeDoc(), nil)
	if err != nil {
		t.Fatal(err)
	}
	use := func(svc *dcr.Service, p int) {
		t.Helper()
		f.clock.Advance(step)
		if _, err := svc.UseRedirectURI(t.Context(), reg, port(p), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []int{1001, 1002, 1003, 1001, 1004} {
		use(f.svc, p)
	}
	if extra := callbacks(t, f, reg); !slices.Equal(extra, []string{port(1003), port(1001), port(1004)}) {
		t.Fatalf("after 1001-1003, 1001 again, 1004: %v (1002 is the least recently used)", extra)
	}
	restarted, err := dcr.NewService(f.apps, f.store, f.svc.Policy(), dcr.ServiceOptions{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	use(restarted, 1005)
	if extra := callbacks(t, f, reg); !slices.Equal(extra, []string{port(1001), port(1004), port(1005)}) {
		t.Fatalf("after a restart and 1005: %v", extra)
	}

	// A client registering 99 URIs keeps one loopback callback; 100 none.
	uris := []string{"http://localhost/callback"}
	for i := range 99 {
		uris = append(uris, fmt.Sprintf("http://127.0.0.1:%d/cb", 2000+i))
	}
	g := newFixture(t, nil)
	full, err := g.svc.RegisterCIMD(t.Context(), claudeCodeURL, dcr.ClientMetadata{RedirectURIs: uris}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.svc.UseRedirectURI(t.Context(), full, port(3000), nil)
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_request")
	nearly, err := g.svc.RegisterCIMD(t.Context(), "https://other.example/c.json", dcr.ClientMetadata{RedirectURIs: uris[:99]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{3000, 3001} {
		g.clock.Advance(step)
		if _, err := g.svc.UseRedirectURI(t.Context(), nearly, port(p), nil); err != nil {
			t.Fatal(err)
		}
	}
	app, _ := g.apps.Client(nearly.ClientID)
	if len(app.Spec.CallbackURLs) != 100 || app.Spec.CallbackURLs[99] != port(3001) {
		t.Fatalf("%d callback URLs, last %s", len(app.Spec.CallbackURLs), app.Spec.CallbackURLs[len(app.Spec.CallbackURLs)-1])
	}
}

// TestUseRedirectURIConcurrent proves concurrent uses of new ports for one
// client lose none of them (versioned writes) and leave the app client
// equal to the record. Meaningful under -race.
func TestUseRedirectURIConcurrent(t *testing.T) {
	f := newFixture(t, nil)
	reg, err := f.svc.RegisterCIMD(t.Context(), claudeCodeURL, claudeCodeDoc(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 { // at most maxCallbackAttempts concurrent uses always succeed
		wg.Go(func() {
			if _, err := f.svc.UseRedirectURI(t.Context(), reg, port(4000+i), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if extra := callbacks(t, f, reg); len(extra) != 8 {
		t.Fatalf("%d loopback callbacks after 8 concurrent uses: %v", len(extra), extra)
	}
}

// stallApps holds the first app-client update whose callbacks contain
// stallOn until release is closed, signalling held when it starts.
type stallApps struct {
	*dcrtest.FakeApps
	stallOn, notWith string
	held, release    chan struct{}
	once             sync.Once
}

func (s *stallApps) Update(ctx context.Context, id string, spec dcr.AppClientSpec) error {
	if slices.Contains(spec.CallbackURLs, s.stallOn) && !slices.Contains(spec.CallbackURLs, s.notWith) {
		stall := false
		s.once.Do(func() { stall = true })
		if stall {
			close(s.held)
			<-s.release
		}
	}
	return s.FakeApps.Update(ctx, id, spec)
}

// TestUseRedirectURIStalePushSettles proves that when an older push lands
// after a newer one (Cognito has no conditional update), its writer puts
// the newest state back: port A's push is held until port B's use has
// finished; the app client must end with both.
func TestUseRedirectURIStalePushSettles(t *testing.T) {
	f := newFixture(t, nil)
	apps := &stallApps{FakeApps: f.apps, stallOn: port(5001), notWith: port(5002), held: make(chan struct{}), release: make(chan struct{})}
	svc, err := dcr.NewService(apps, f.store, dcr.DefaultPolicy(), dcr.ServiceOptions{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := svc.RegisterCIMD(t.Context(), claudeCodeURL, claudeCodeDoc(), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := svc.UseRedirectURI(t.Context(), reg, port(5001), nil)
		done <- err
	}()
	<-apps.held
	if _, err := svc.UseRedirectURI(t.Context(), reg, port(5002), nil); err != nil {
		t.Fatal(err)
	}
	close(apps.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if extra := callbacks(t, f, reg); !slices.Equal(extra, []string{port(5001), port(5002)}) {
		t.Fatalf("loopback callbacks %v after a stale push", extra)
	}
}

// TestCallbacksKeptAcrossMetadataChanges proves a changed CIMD document and
// an RFC 7592 update keep the loopback callbacks the new redirect URIs
// still admit, drop the others, and push the result.
func TestCallbacksKeptAcrossMetadataChanges(t *testing.T) {
	f := newFixture(t, nil)
	reg, err := f.svc.RegisterCIMD(t.Context(), claudeCodeURL, claudeCodeDoc(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{port(6001), "http://127.0.0.1:6002/callback"} {
		if _, err := f.svc.UseRedirectURI(t.Context(), reg, uri, nil); err != nil {
			t.Fatal(err)
		}
	}
	doc := claudeCodeDoc()
	doc.RedirectURIs = []string{"http://127.0.0.1/callback"}
	if _, err := f.svc.RegisterCIMD(t.Context(), claudeCodeURL, doc, nil); err != nil {
		t.Fatal(err)
	}
	if extra := callbacks(t, f, reg); !slices.Equal(extra, []string{"http://127.0.0.1:6002/callback"}) {
		t.Fatalf("after the document dropped localhost: %v", extra)
	}

	res, err := f.svc.Register(t.Context(), claudeCodeDoc())
	if err != nil {
		t.Fatal(err)
	}
	dcrReg := &res.Registration
	for _, uri := range []string{port(6003), "http://127.0.0.1:6004/callback"} {
		if _, err := f.svc.UseRedirectURI(t.Context(), dcrReg, uri, nil); err != nil {
			t.Fatal(err)
		}
	}
	md := claudeCodeDoc()
	md.RedirectURIs = []string{"http://localhost/callback", "https://claude.ai/api/mcp/auth_callback"}
	if _, err := f.svc.Update(t.Context(), dcrReg.ClientID, res.RegistrationAccessToken, md); err != nil {
		t.Fatal(err)
	}
	if extra := callbacks(t, f, dcrReg); !slices.Equal(extra, []string{port(6003)}) {
		t.Fatalf("after the RFC 7592 update: %v", extra)
	}
	read, err := f.svc.Read(t.Context(), dcrReg.ClientID, res.RegistrationAccessToken)
	if err != nil || !slices.Equal(read.Registration.Metadata.RedirectURIs, md.RedirectURIs) {
		t.Fatalf("RFC 7592 read shows %v, want only the registered URIs (%v)", read.Registration.Metadata.RedirectURIs, err)
	}
}

// TestLookup proves Lookup finds stored registrations (expired ones too)
// and answers nil for unknown or impossible ids without an error.
func TestLookup(t *testing.T) {
	f := newFixture(t, nil)
	res, err := f.svc.Register(t.Context(), publicMD())
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(dcr.DefaultRegistrationTTL + time.Hour)
	if reg, err := f.svc.Lookup(t.Context(), res.Registration.ClientID); err != nil || reg == nil || reg.ClientID != res.Registration.ClientID {
		t.Fatalf("%+v %v", reg, err)
	}
	gets := f.store.Calls(dcrtest.OpGet)
	for _, id := range []string{"unknown", ""} {
		if reg, err := f.svc.Lookup(t.Context(), id); reg != nil || err != nil {
			t.Fatalf("%q: %+v %v", id, reg, err)
		}
	}
	if reg, err := f.svc.Lookup(t.Context(), fmt.Sprintf("%0200d", 1)); reg != nil || err != nil || f.store.Calls(dcrtest.OpGet) != gets+1 {
		t.Fatalf("over-long id: %+v %v (store read)", reg, err)
	}
	f.store.FailNext(dcrtest.OpGet, errBoom)
	if _, err := f.svc.Lookup(t.Context(), "x"); err == nil {
		t.Fatal("store failure hidden")
	}
}
