package dcr

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// memGet is a Store whose Get finds nothing (only Get is used here).
type memGet struct{ Store }

func (memGet) Get(_ context.Context, _ string) (*Registration, error) { return nil, ErrNotFound }

func TestClientAllowlistBounded(t *testing.T) {
	al := NewClientAllowlist(memGet{}, time.Hour, nil)
	for i := range maxAllowlistEntries + 500 {
		if ok, err := al.AllowClientID(t.Context(), fmt.Sprint("id", i)); ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	al.mu.Lock()
	n := len(al.entries)
	al.mu.Unlock()
	if n > maxAllowlistEntries {
		t.Fatalf("cache holds %d entries", n)
	}
}
