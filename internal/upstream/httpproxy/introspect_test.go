package httpproxy

// count reports open sessions (tests).
func (b *bridge) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.sessions)
}

// inUse reports key's slots in use (tests).
func (l *sessionCap) inUse(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[key]
}
