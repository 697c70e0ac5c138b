package dcr_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
)

func TestGC(t *testing.T) {
	f := newFixture(t, nil)
	var old []string
	for i := range 3 {
		md := publicMD(fmt.Sprintf("http://localhost:%d/callback", 4000+i))
		res, err := f.svc.Register(t.Context(), md)
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, res.Registration.ClientID)
	}
	f.clock.Advance(91 * 24 * time.Hour)
	fresh, err := f.svc.Register(t.Context(), publicMD())
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(old)

	dry, err := f.svc.GC(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(dry.Expired))
	if !slices.Equal(got, old) || len(dry.Deleted) != 0 || len(dry.Failed) != 0 || f.apps.Len() != 4 || len(f.store.Records()) != 4 {
		t.Fatalf("dry run %+v deleted something or missed: apps %d", dry, f.apps.Len())
	}
	if f.apps.Calls(dcrtest.OpDelete)+f.store.Calls(dcrtest.OpDelete) != 0 {
		t.Fatal("dry run called Delete")
	}

	f.apps.FailNext(dcrtest.OpDelete, errBoom) // one failure does not stop the run
	rep, err := f.svc.GC(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Expired) != 3 || len(rep.Deleted) != 2 || len(rep.Failed) != 1 {
		t.Fatalf("report %+v", rep)
	}
	for id := range rep.Failed {
		if _, ok := f.apps.Client(id); !ok {
			t.Error("failed client's app client is gone")
		}
	}
	rep, err = f.svc.GC(t.Context(), false)
	if err != nil || len(rep.Deleted) != 1 {
		t.Fatalf("second run %+v, %v", rep, err)
	}
	if ids := f.apps.IDs(); len(ids) != 1 || ids[0] != fresh.Registration.ClientID || len(f.store.Records()) != 1 {
		t.Fatalf("left apps %v records %v", ids, f.store.Records())
	}
}

// TestGCPagesAndListFailure: more expired records than one page are all
// removed; never-expiring records stay; a listing failure is an error.
func TestGCPagesAndListFailure(t *testing.T) {
	f := newFixture(t, nil)
	past := f.clock.Now().Add(-time.Hour)
	for i := range 250 {
		f.store.Put(dcr.Registration{ClientID: fmt.Sprintf("c%03d", i), ExpiresAt: past, Version: 1})
	}
	f.store.Put(dcr.Registration{ClientID: "forever", Version: 1})
	f.store.FailNext(dcrtest.OpDelete, errBoom)
	rep, err := f.svc.GC(t.Context(), false)
	if err != nil || len(rep.Expired) != 250 || len(rep.Deleted) != 249 || len(rep.Failed) != 1 {
		t.Fatalf("report expired=%d deleted=%d failed=%d, %v", len(rep.Expired), len(rep.Deleted), len(rep.Failed), err)
	}
	if recs := f.store.Records(); len(recs) != 2 {
		t.Fatalf("left %d records", len(recs))
	}
	f.store.FailNext(dcrtest.OpExpired, errBoom)
	if _, err := f.svc.GC(t.Context(), true); err == nil {
		t.Fatal("listing failure hidden")
	}
}

func TestGCNeverExpiring(t *testing.T) {
	f := newFixture(t, func(p *dcr.Policy) { p.RegistrationTTL = 0 })
	res, err := f.svc.Register(t.Context(), publicMD())
	if err != nil || !res.Registration.ExpiresAt.IsZero() {
		t.Fatalf("%+v %v", res, err)
	}
	f.clock.Advance(10 * 365 * 24 * time.Hour)
	rep, err := f.svc.GC(t.Context(), false)
	if err != nil || len(rep.Expired) != 0 || f.apps.Len() != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
}
