package dcr_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// The gateway's verifier consults a ClientAllowlist (kept here, not in
// allowlist.go, so the Lambda binary does not link internal/authn).
var _ authn.ClientIDAllower = (*dcr.ClientAllowlist)(nil)

func TestClientAllowlist(t *testing.T) {
	store := dcrtest.NewMemStore()
	clk := testkit.NewClock(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	const ttl = time.Minute
	al := dcr.NewClientAllowlist(store, ttl, clk.Now)
	ctx := t.Context()
	allow := func(id string) bool {
		t.Helper()
		ok, err := al.AllowClientID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	store.Put(dcr.Registration{ClientID: "live", Version: 1, ExpiresAt: clk.Now().Add(time.Hour)})
	store.Put(dcr.Registration{ClientID: "forever", Version: 1})
	store.Put(dcr.Registration{ClientID: "expired", Version: 1, ExpiresAt: clk.Now().Add(-time.Second)})
	store.Put(dcr.Registration{ClientID: "soon", Version: 1, ExpiresAt: clk.Now().Add(30 * time.Second)})

	if !allow("live") || !allow("forever") || allow("expired") || allow("unknown") || !allow("soon") {
		t.Fatal("first answers wrong")
	}
	gets := store.Calls(dcrtest.OpGet)
	// Positive answer cached: a deleted client is still allowed within ttl.
	_ = store.Delete(ctx, "live")
	// Negative answer cached: a new client is refused within ttl.
	store.Put(dcr.Registration{ClientID: "unknown", Version: 1})
	if !allow("live") || allow("unknown") || store.Calls(dcrtest.OpGet) != gets {
		t.Fatal("answers not served from the cache")
	}
	// A positive answer never outlives the registration's expiry.
	clk.Advance(31 * time.Second)
	if allow("soon") {
		t.Fatal("expired registration still allowed from the cache")
	}
	// After ttl the store is asked again.
	clk.Advance(ttl)
	if allow("live") || !allow("unknown") || !allow("forever") {
		t.Fatal("cache did not expire")
	}
	// Empty and over-long ids are refused without a lookup.
	gets = store.Calls(dcrtest.OpGet)
	if allow("") || allow(fmt.Sprintf("%0200d", 1)) || store.Calls(dcrtest.OpGet) != gets {
		t.Fatal("empty or long id looked up")
	}
}

func TestClientAllowlistStoreError(t *testing.T) {
	store := dcrtest.NewMemStore()
	store.Put(dcr.Registration{ClientID: "a", Version: 1})
	al := dcr.NewClientAllowlist(store, time.Hour, nil)
	store.FailNext(dcrtest.OpGet, errBoom)
	if ok, err := al.AllowClientID(t.Context(), "a"); ok || err == nil {
		t.Fatalf("store error: %v %v", ok, err)
	}
	// The failure was not cached.
	if ok, err := al.AllowClientID(t.Context(), "a"); !ok || err != nil {
		t.Fatalf("after the failure: %v %v", ok, err)
	}
}

func TestClientAllowlistNoCacheAndBound(t *testing.T) {
	store := dcrtest.NewMemStore()
	store.Put(dcr.Registration{ClientID: "a", Version: 1})
	al := dcr.NewClientAllowlist(store, 0, nil)
	for range 3 {
		if ok, _ := al.AllowClientID(t.Context(), "a"); !ok {
			t.Fatal("refused")
		}
	}
	if store.Calls(dcrtest.OpGet) != 3 {
		t.Fatalf("ttl 0 cached: %d gets", store.Calls(dcrtest.OpGet))
	}
	// Many distinct ids do not grow the cache without bound (and still answer).
	al = dcr.NewClientAllowlist(store, time.Hour, nil)
	for i := range 12000 {
		if ok, _ := al.AllowClientID(t.Context(), fmt.Sprint("x", i)); ok {
			t.Fatal("unknown id allowed")
		}
	}
	if ok, _ := al.AllowClientID(t.Context(), "a"); !ok {
		t.Fatal("refused after churn")
	}
}
