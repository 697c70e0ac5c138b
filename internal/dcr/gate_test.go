package dcr_test

import (
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
)

var errLimited = errors.New("over the caller's limit")

// countingGate allows the next n writes, refuses the rest with
// errLimited, and counts how often it is asked.
type countingGate struct {
	mu       sync.Mutex
	n, asked int
}

func (g *countingGate) gate() dcr.WriteGate {
	return func() error {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.asked++
		if g.n > 0 {
			g.n--
			return nil
		}
		return errLimited
	}
}

// allow sets how many more writes are allowed and returns how often the
// gate was asked so far.
func (g *countingGate) allow(n int) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n = n
	return g.asked
}

func (g *countingGate) count() int { return g.allow(0) }

// TestRegisterCIMDGate proves RegisterCIMD asks the gate exactly before
// the Cognito writes it makes: creating an app client for a new document
// and updating it for a changed one, each refused without any write (no
// app client, no record, the old record kept); and never for a call that
// writes nothing to Cognito: a known document (even when its expiry is
// renewed in the store), a document the rules refuse, the ceiling.
func TestRegisterCIMDGate(t *testing.T) {
	f := newFixture(t, nil)
	g := &countingGate{}
	_, err := f.svc.RegisterCIMD(t.Context(), cimdURL, cimdDoc(), g.gate())
	if !errors.Is(err, errLimited) || g.count() != 1 || f.apps.Calls(dcrtest.OpCreate) != 0 || len(f.store.Records()) != 0 {
		t.Fatalf("refused creation: %v, asked %d, app clients created %d, records %d",
			err, g.count(), f.apps.Calls(dcrtest.OpCreate), len(f.store.Records()))
	}
	g.allow(1)
	a, err := f.svc.RegisterCIMD(t.Context(), cimdURL, cimdDoc(), g.gate())
	if err != nil || g.count() != 2 || f.apps.Len() != 1 {
		t.Fatalf("allowed creation: %v, asked %d, app clients %d", err, g.count(), f.apps.Len())
	}

	f.clock.Advance(dcr.DefaultRegistrationTTL * 3 / 4) // renewed: a store write only
	b, err := f.svc.RegisterCIMD(t.Context(), cimdURL, cimdDoc(), g.gate())
	if err != nil || b.ClientID != a.ClientID || !b.ExpiresAt.After(a.ExpiresAt) || g.count() != 2 {
		t.Fatalf("known document: %+v %v, asked %d (want 2, no write)", b, err, g.count())
	}

	changed := cimdDoc()
	changed.ClientName = "Claude 2"
	_, err = f.svc.RegisterCIMD(t.Context(), cimdURL, changed, g.gate())
	rec, _ := f.store.Get(t.Context(), a.ClientID)
	if !errors.Is(err, errLimited) || g.count() != 3 || f.apps.Calls(dcrtest.OpUpdate) != 0 ||
		rec.Version != b.Version || rec.Metadata.ClientName != "Claude" {
		t.Fatalf("refused update: %v, asked %d, app client updates %d, record %+v", err, g.count(), f.apps.Calls(dcrtest.OpUpdate), rec)
	}
	g.allow(1)
	c, err := f.svc.RegisterCIMD(t.Context(), cimdURL, changed, g.gate())
	if err != nil || c.ClientID != a.ClientID || c.Metadata.ClientName != "Claude 2" || g.count() != 4 {
		t.Fatalf("allowed update: %+v %v, asked %d", c, err, g.count())
	}

	bad := cimdDoc()
	bad.TokenEndpointAuthMethod = "private_key_jwt"
	_, err = f.svc.RegisterCIMD(t.Context(), "https://other.example/c.json", bad, g.gate())
	wantOAuthError(t, err, http.StatusBadRequest, dcr.CodeInvalidClientMetadata)
	full := newFixture(t, func(p *dcr.Policy) { p.MaxRegistrations, p.AppClientQuota = 1, 2 })
	if _, err := full.svc.Register(t.Context(), publicMD()); err != nil {
		t.Fatal(err)
	}
	_, err = full.svc.RegisterCIMD(t.Context(), cimdURL, cimdDoc(), g.gate())
	wantOAuthError(t, err, http.StatusServiceUnavailable, "temporarily_unavailable")
	if g.count() != 4 {
		t.Fatalf("asked %d for calls that write nothing, want 4", g.count())
	}
}

// TestRegisterCIMDGateConcurrent proves concurrent first uses of one URL
// each ask the gate once per app client they create, and all get a
// mapping (the existing guarantee: duplicates are valid and expire).
// Meaningful under -race.
func TestRegisterCIMDGateConcurrent(t *testing.T) {
	f := newFixture(t, nil)
	var asked atomic.Int32
	gate := dcr.WriteGate(func() error { asked.Add(1); return nil })
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if reg, err := f.svc.RegisterCIMD(t.Context(), cimdURL, cimdDoc(), gate); err != nil || reg.ClientID == "" {
				t.Error(reg, err)
			}
		})
	}
	wg.Wait()
	if n := f.apps.Calls(dcrtest.OpCreate); int(asked.Load()) != n || n < 1 {
		t.Fatalf("gate asked %d times for %d app clients created", asked.Load(), n)
	}
}

// TestUseRedirectURIGate proves UseRedirectURI asks the gate once before
// the write it makes, and only then: a new port refused by it gets the
// gate's error without any write; a listed port's refresh refused by it
// succeeds without any write and without recording the use; a registered
// URI, a listed port used within the minute and a new port refused
// because every slot is in use never ask; a use retried after a version
// conflict asks once.
func TestUseRedirectURIGate(t *testing.T) {
	f := newFixture(t, func(p *dcr.Policy) { p.LoopbackCallbackLimit = 2 })
	reg, err := f.svc.RegisterCIMD(t.Context(), claudeCodeURL, claudeCodeDoc(), nil)
	if err != nil {
		t.Fatal(err)
	}
	g := &countingGate{}
	writes := func() [2]int { return [2]int{f.apps.Calls(dcrtest.OpUpdate), f.store.Calls(dcrtest.OpUpdate)} }
	use := func(uri string) (*dcr.Registration, error) {
		t.Helper()
		cur, err := f.svc.Lookup(t.Context(), reg.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		return f.svc.UseRedirectURI(t.Context(), cur, uri, g.gate())
	}

	before := writes()
	if _, err := use(port(7001)); !errors.Is(err, errLimited) || g.count() != 1 || writes() != before {
		t.Fatalf("refused new port: %v, asked %d, writes %v -> %v", err, g.count(), before, writes())
	}
	g.allow(1)
	if _, err := use(port(7001)); err != nil || g.count() != 2 {
		t.Fatalf("allowed new port: %v, asked %d", err, g.count())
	}
	for _, uri := range []string{"http://localhost/callback", port(7001)} { // registered; listed, used now
		if _, err := use(uri); err != nil || g.count() != 2 {
			t.Fatalf("%s: %v, asked %d (want no write)", uri, err, g.count())
		}
	}

	f.clock.Advance(2 * time.Minute)
	before = writes()
	got, err := use(port(7001)) // a refresh, refused: the port works, nothing is written
	if err != nil || g.count() != 3 || writes() != before || !slices.ContainsFunc(got.LoopbackCallbacks, func(c dcr.LoopbackCallback) bool {
		return c.URI == port(7001)
	}) {
		t.Fatalf("refused refresh: %+v %v, asked %d, writes %v -> %v", got, err, g.count(), before, writes())
	}
	if rec, _ := f.store.Get(t.Context(), reg.ClientID); !rec.LoopbackCallbacks[0].UsedAt.Equal(reg.CreatedAt) {
		t.Fatalf("a refused refresh recorded the use: %v", rec.LoopbackCallbacks)
	}
	g.allow(1)
	if _, err := use(port(7001)); err != nil || g.count() != 4 || writes() == before {
		t.Fatalf("allowed refresh: %v, asked %d, writes %v -> %v", err, g.count(), before, writes())
	}

	g.allow(1)
	if _, err := use(port(7002)); err != nil || g.count() != 5 {
		t.Fatalf("second port: %v, asked %d", err, g.count())
	}
	g.allow(1)
	_, err = use(port(7003)) // both slots used in the last 10 minutes
	wantOAuthError(t, err, http.StatusServiceUnavailable, "temporarily_unavailable")
	if g.allow(0) != 5 {
		t.Fatal("a port refused for want of a slot asked the gate")
	}

	stale, err := f.svc.Lookup(t.Context(), reg.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Minute)
	g.allow(1)
	if _, err := use(port(7001)); err != nil { // a refresh: stale is now out of date
		t.Fatal(err)
	}
	g.allow(1)
	if _, err := f.svc.UseRedirectURI(t.Context(), stale, port(7002), g.gate()); err != nil || g.count() != 7 {
		t.Fatalf("use after a version conflict: %v, asked %d (want once)", err, g.count())
	}
}

// TestCallbackProtectionFromLastRecordedUse proves a callback's
// protection (CallbackInUseWindow) runs from its last recorded use, not
// from when it was added, and that a use the gate refused to record does
// not extend it: with one slot, a port added long ago but used (recorded)
// recently keeps a new port out; one whose refresh was refused can be
// evicted a window after its last recorded use.
func TestCallbackProtectionFromLastRecordedUse(t *testing.T) {
	f := newFixture(t, func(p *dcr.Policy) { p.LoopbackCallbackLimit = 1 })
	reg, err := f.svc.RegisterCIMD(t.Context(), claudeCodeURL, claudeCodeDoc(), nil)
	if err != nil {
		t.Fatal(err)
	}
	start := f.clock.Now()
	at := func(d time.Duration) { f.clock.Set(start.Add(d)) }
	use := func(p int, gate dcr.WriteGate) error { return f.usePort(t, reg.ClientID, p, gate) }
	refuse := dcr.WriteGate(func() error { return errLimited })
	if err := use(8001, nil); err != nil { // added at 0
		t.Fatal(err)
	}
	at(30 * time.Minute)
	if err := use(8001, nil); err != nil { // used (recorded) at 30m
		t.Fatal(err)
	}
	at(35 * time.Minute)
	wantOAuthError(t, use(8002, nil), http.StatusServiceUnavailable, "temporarily_unavailable")
	at(38 * time.Minute)
	if err := use(8001, refuse); err != nil { // used at 38m, not recorded
		t.Fatalf("a refused refresh failed the request: %v", err)
	}
	at(30*time.Minute + dcr.CallbackInUseWindow)
	if err := use(8002, nil); err != nil {
		t.Fatalf("a window after the last recorded use (30m), the unrecorded use at 38m still protects: %v", err)
	}
	if extra := callbacks(t, f, reg); !slices.Equal(extra, []string{port(8002)}) {
		t.Fatalf("callbacks %v", extra)
	}
}
