package dcrtest

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

// MemStore is an in-memory dcr.Store with the semantics the DynamoDB store
// must have: conditional create (dcr.ErrExists), optimistic versions
// (dcr.ErrConflict when the stored Version is not r.Version-1, or the record
// is gone), idempotent delete, expiry-aware FindByMetadataHash, Expired in
// ExpiresAt order. Records are deep-copied in and out.
type MemStore struct {
	faults
	mu   sync.Mutex
	recs map[string]dcr.Registration
	now  func() time.Time
}

var _ dcr.Store = (*MemStore)(nil)

// NewMemStore returns an empty store whose clock is time.Now.
func NewMemStore() *MemStore {
	return &MemStore{recs: map[string]dcr.Registration{}, now: time.Now}
}

// SetNow replaces the clock FindByMetadataHash uses to skip expired records.
func (m *MemStore) SetNow(now func() time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = now
}

// FailNextCreate makes the next Create return err.
func (m *MemStore) FailNextCreate(err error) { m.FailNext(OpCreate, err) }

// Put stores r unconditionally (test setup).
func (m *MemStore) Put(r dcr.Registration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[r.ClientID] = clone(r)
}

// Records returns copies of every stored record, ordered by client id.
func (m *MemStore) Records() []dcr.Registration {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]dcr.Registration, 0, len(m.recs))
	for _, r := range m.recs {
		out = append(out, clone(r))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
	return out
}

// Create implements dcr.Store.
func (m *MemStore) Create(ctx context.Context, r dcr.Registration) error {
	if err := m.begin(ctx, OpCreate); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.recs[r.ClientID]; ok {
		return dcr.ErrExists
	}
	m.recs[r.ClientID] = clone(r)
	return nil
}

// Get implements dcr.Store.
func (m *MemStore) Get(ctx context.Context, clientID string) (*dcr.Registration, error) {
	if err := m.begin(ctx, OpGet); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[clientID]
	if !ok {
		return nil, dcr.ErrNotFound
	}
	c := clone(r)
	return &c, nil
}

// Update implements dcr.Store.
func (m *MemStore) Update(ctx context.Context, r dcr.Registration) error {
	if err := m.begin(ctx, OpUpdate); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.recs[r.ClientID]
	if !ok || cur.Version != r.Version-1 {
		return dcr.ErrConflict
	}
	m.recs[r.ClientID] = clone(r)
	return nil
}

// Delete implements dcr.Store.
func (m *MemStore) Delete(ctx context.Context, clientID string) error {
	if err := m.begin(ctx, OpDelete); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, clientID)
	return nil
}

// FindByMetadataHash implements dcr.Store; among several live matches it
// returns the oldest.
func (m *MemStore) FindByMetadataHash(ctx context.Context, hash string) (*dcr.Registration, error) {
	if err := m.begin(ctx, OpFind); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var best *dcr.Registration
	for _, r := range m.recs {
		if hash == "" || r.MetadataHash != hash || (!r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt)) {
			continue
		}
		if best == nil || r.CreatedAt.Before(best.CreatedAt) || (r.CreatedAt.Equal(best.CreatedAt) && r.ClientID < best.ClientID) {
			c := clone(r)
			best = &c
		}
	}
	if best == nil {
		return nil, dcr.ErrNotFound
	}
	return best, nil
}

// Expired implements dcr.Store, oldest expiry first; limit <= 0 lists none.
func (m *MemStore) Expired(ctx context.Context, now time.Time, limit int) ([]dcr.Registration, error) {
	if err := m.begin(ctx, OpExpired); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []dcr.Registration
	for _, r := range m.recs {
		if !r.ExpiresAt.IsZero() && r.ExpiresAt.Before(now) {
			out = append(out, clone(r))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ExpiresAt.Equal(out[j].ExpiresAt) {
			return out[i].ExpiresAt.Before(out[j].ExpiresAt)
		}
		return out[i].ClientID < out[j].ClientID
	})
	if len(out) > limit {
		out = out[:max(limit, 0)]
	}
	return out, nil
}

// Count implements dcr.Store.
func (m *MemStore) Count(ctx context.Context) (int, error) {
	if err := m.begin(ctx, OpCount); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recs), nil
}

// begin counts the call and returns ctx's error or an injected one.
func (m *MemStore) begin(ctx context.Context, op Op) error {
	if err := m.enter(op); err != nil {
		return err
	}
	return ctx.Err()
}

// clone deep-copies r so callers cannot alias stored slices.
func clone(r dcr.Registration) dcr.Registration {
	md := &r.Metadata
	md.RedirectURIs = slices.Clone(md.RedirectURIs)
	md.GrantTypes = slices.Clone(md.GrantTypes)
	md.ResponseTypes = slices.Clone(md.ResponseTypes)
	md.Contacts = slices.Clone(md.Contacts)
	r.Scopes = slices.Clone(r.Scopes)
	r.LoopbackCallbacks = slices.Clone(r.LoopbackCallbacks)
	return r
}
