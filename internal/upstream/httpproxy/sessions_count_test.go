package httpproxy

import "testing"

// TestSessionsCountsBridgeSessions: Sessions (the mcpgw_sessions gauge)
// counts open bridge sessions, two clients two sessions, and drops a
// session when its client closes it; a Streamable HTTP proxy reports 0.
func TestSessionsCountsBridgeSessions(t *testing.T) {
	checkLeaks(t)
	up := sseUpstream(t, mcpServer(newGate()), nil)
	p := newProxy(t, Options{URL: up.URL, Transport: TransportSSE})
	gw := front(t, p)
	if n := p.Sessions(); n != 0 {
		t.Fatalf("Sessions() = %d before any client", n)
	}
	alice := connect(t, gw.URL, "alice", "2025-06-18", nil)
	connect(t, gw.URL, "bob", "2025-06-18", nil)
	if n := p.Sessions(); n != 2 {
		t.Fatalf("Sessions() = %d with two clients, want 2", n)
	}
	_ = alice.Close()
	waitFor(t, "alice's session closed", func() bool { return p.Sessions() == 1 })

	plain := newProxy(t, Options{URL: "http://127.0.0.1:1/mcp"}) // never dialled
	if n := plain.Sessions(); n != 0 {
		t.Fatalf("Streamable HTTP proxy: Sessions() = %d", n)
	}
}
