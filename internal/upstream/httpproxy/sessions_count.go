package httpproxy

// Sessions returns the number of open bridge sessions (legacy HTTP+SSE
// upstreams; the mcpgw_sessions metric). A Streamable HTTP upstream keeps
// its own sessions, which the proxy does not track: 0.
func (p *Proxy) Sessions() int {
	if p.bridge == nil {
		return 0
	}
	p.bridge.mu.Lock()
	defer p.bridge.mu.Unlock()
	return len(p.bridge.sessions)
}
