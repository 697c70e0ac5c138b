package dcr

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxClientIDLen is Cognito's ClientId limit; longer ids are refused unread.
const maxClientIDLen = 128

// maxAllowlistEntries bounds the ClientAllowlist cache.
const maxAllowlistEntries = 10000

// ClientAllowlist tells the gateway which OAuth client ids to accept for
// Cognito tokens (which carry client_id, not aud): exactly those with a
// live registration in the Store. Answers, positive and negative, are cached
// for ttl (a positive one never past the registration's ExpiresAt), so a
// deleted client's tokens stop being accepted within ttl, and a new client's
// within ttl of a negative answer. It is safe for concurrent use. It does
// NOT check that the Cognito app client still exists (Delete and GC remove
// the app client before the record).
type ClientAllowlist struct {
	store Store
	ttl   time.Duration
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]allowEntry
}

type allowEntry struct {
	allowed bool
	until   time.Time
}

// ClientAllowlist implements authn.ClientIDAllower; the compile-time check
// lives in allowlist_test.go so that the registration Lambda does not link
// the token verifier (jwx, go-oidc) just for an assertion.

// NewClientAllowlist returns an allowlist over store caching answers for
// ttl (ttl <= 0: no caching); now is the clock (time.Now when nil).
func NewClientAllowlist(store Store, ttl time.Duration, now func() time.Time) *ClientAllowlist {
	if now == nil {
		now = time.Now
	}
	return &ClientAllowlist{store: store, ttl: ttl, now: now, entries: map[string]allowEntry{}}
}

// AllowClientID reports whether clientID has an unexpired registration. An
// empty or over-long id is refused without a lookup. A store error is
// returned (and not cached); authn then answers 503, not 401.
func (a *ClientAllowlist) AllowClientID(ctx context.Context, clientID string) (bool, error) {
	if clientID == "" || len(clientID) > maxClientIDLen {
		return false, nil
	}
	now := a.now()
	a.mu.Lock()
	e, ok := a.entries[clientID]
	a.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.allowed, nil
	}
	reg, err := a.store.Get(ctx, clientID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, fmt.Errorf("dcr: client allowlist: read registration: %w", err)
	}
	e = allowEntry{until: now.Add(a.ttl)}
	if reg != nil && err == nil && (reg.ExpiresAt.IsZero() || now.Before(reg.ExpiresAt)) {
		e.allowed = true
		if !reg.ExpiresAt.IsZero() && reg.ExpiresAt.Before(e.until) {
			e.until = reg.ExpiresAt
		}
	}
	if a.ttl > 0 {
		a.put(clientID, e, now)
	}
	return e.allowed, nil
}

// put caches e, first evicting stale entries and then arbitrary ones when
// the cache is full.
func (a *ClientAllowlist) put(clientID string, e allowEntry, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.entries) >= maxAllowlistEntries {
		for id, old := range a.entries {
			if !now.Before(old.until) {
				delete(a.entries, id)
			}
		}
		for id := range a.entries {
			if len(a.entries) < maxAllowlistEntries {
				break
			}
			delete(a.entries, id)
		}
	}
	a.entries[clientID] = e
}
