package dcr_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
)

// TestConcurrentUse runs registrations, management, GC and the allowlist at
// once (meaningful under -race) and checks the two back ends agree after.
func TestConcurrentUse(t *testing.T) {
	apps, store := dcrtest.NewFakeApps(), dcrtest.NewMemStore()
	svc, err := dcr.NewService(apps, store, dcr.DefaultPolicy(), dcr.ServiceOptions{}) // default clock, logger, tokens
	if err != nil {
		t.Fatal(err)
	}
	al := dcr.NewClientAllowlist(store, time.Second, nil)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			md := publicMD(fmt.Sprintf("http://localhost:%d/callback", 5000+i))
			if i%2 == 1 {
				md.TokenEndpointAuthMethod = "client_secret_post"
			}
			res, err := svc.Register(t.Context(), md)
			if err != nil {
				t.Error(err)
				return
			}
			if ok, err := al.AllowClientID(t.Context(), res.Registration.ClientID); !ok || err != nil {
				t.Error("allowlist", ok, err)
			}
			if _, err := svc.Read(t.Context(), res.Registration.ClientID, res.RegistrationAccessToken); err != nil {
				t.Error(err)
			}
			if i%4 == 0 {
				if err := svc.Delete(t.Context(), res.Registration.ClientID, res.RegistrationAccessToken); err != nil {
					t.Error(err)
				}
			}
			if _, err := svc.GC(t.Context(), false); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	recs := store.Records()
	if len(recs) != 12 || apps.Len() != 12 {
		t.Fatalf("records %d, app clients %d", len(recs), apps.Len())
	}
	for _, r := range recs {
		if _, ok := apps.Client(r.ClientID); !ok || len(r.RegistrationTokenHash) != 64 {
			t.Errorf("record %s without app client or token hash", r.ClientID)
		}
	}
}
