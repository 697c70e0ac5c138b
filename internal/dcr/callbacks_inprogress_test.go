package dcr_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
)

// TestUseRedirectURIInProgress proves a callback used within
// CallbackInUseWindow is never evicted (a login may be in progress): a new
// port that would need its slot is refused with 503
// temporarily_unavailable, without any write, until the oldest use is
// older than the window; a use of a listed port refreshes its protection
// and is never refused, even over a lowered limit.
func TestUseRedirectURIInProgress(t *testing.T) {
	f := newFixture(t, func(p *dcr.Policy) { p.LoopbackCallbackLimit = 2 })
	reg, err := f.svc.RegisterCIMD(t.Context(), claudeCodeURL, claudeCodeDoc(), nil)
	if err != nil {
		t.Fatal(err)
	}
	start := f.clock.Now()
	at := func(d time.Duration) { f.clock.Set(start.Add(d)) }
	use := func(p int) error { return f.usePort(t, reg.ClientID, p, nil) }
	refused := func(p int, retry string) {
		t.Helper()
		updates, writes := f.apps.Calls(dcrtest.OpUpdate), f.store.Calls(dcrtest.OpUpdate)
		be := wantOAuthError(t, use(p), http.StatusServiceUnavailable, "temporarily_unavailable")
		if !strings.Contains(be.Description, "last 10 minutes") || !strings.Contains(be.Description, retry) {
			t.Fatalf("description %q, want the window and %q", be.Description, retry)
		}
		if f.apps.Calls(dcrtest.OpUpdate) != updates || f.store.Calls(dcrtest.OpUpdate) != writes {
			t.Fatalf("a refused port %d was written", p)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(use(7001))
	at(time.Minute)
	must(use(7002))
	at(2 * time.Minute)
	refused(7003, "retry in 8 minute(s)")
	at(5 * time.Minute)
	must(use(7002)) // a listed port: its use is refreshed, never refused
	at(dcr.CallbackInUseWindow - time.Nanosecond)
	refused(7003, "retry in 1 minute(s)")
	must(use(7001)) // listed, so not refused, though the list is full and young
	if extra := callbacks(t, f, reg); !slices.Equal(extra, []string{port(7002), port(7001)}) {
		t.Fatalf("after the refusals: %v", extra)
	}
	at(5*time.Minute + dcr.CallbackInUseWindow) // 7002 (used at 5m) may go now
	must(use(7003))
	if extra := callbacks(t, f, reg); !slices.Equal(extra, []string{port(7001), port(7003)}) {
		t.Fatalf("after 7002 aged out: %v", extra)
	}
	refused(7004, "retry in 5 minute(s)") // 7001's refreshed use (at 10m) protects it until 20m

	// The limit lowered (a restart with a new configuration) below the
	// young entries listed: their ports keep working, new ones wait.
	p := f.svc.Policy()
	p.LoopbackCallbackLimit = 1
	lowered, err := dcr.NewService(f.apps, f.store, p, dcr.ServiceOptions{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = lowered
	at(17 * time.Minute)
	must(use(7001))
	must(use(7003))
	if extra := callbacks(t, f, reg); !slices.Equal(extra, []string{port(7001), port(7003)}) {
		t.Fatalf("after using listed ports over the lowered limit: %v", extra)
	}
	refused(7004, "retry in 10 minute(s)")
	at(27 * time.Minute) // 7001 (used at 17m) may go; 7003 too: both are evicted
	must(use(7004))
	if extra := callbacks(t, f, reg); !slices.Equal(extra, []string{port(7004)}) {
		t.Fatalf("after the listed ports aged out: %v", extra)
	}
}
