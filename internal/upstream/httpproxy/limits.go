package httpproxy

import "sync"

// sessionCap counts open bridge sessions per principal key
// (MaxSessionsPerPrincipal). A non-positive max disables it. Its map holds
// only keys with sessions open.
type sessionCap struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

func newSessionCap(max int) *sessionCap { return &sessionCap{max: max, n: map[string]int{}} }

// acquire takes a slot for key, or reports false when key has max in use.
func (l *sessionCap) acquire(key string) bool {
	if l.max <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[key] >= l.max {
		return false
	}
	l.n[key]++
	return true
}

// release returns a slot taken by acquire.
func (l *sessionCap) release(key string) {
	if l.max <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[key]--; l.n[key] <= 0 {
		delete(l.n, key)
	}
}
