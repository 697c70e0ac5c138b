package httpproxy

import (
	"net/http"
	"testing"
)

// TestBridgeSessionsPerPrincipal: bridge sessions outlive the requests the
// gateway's stream cap counts, so the bridge caps them per principal: over
// MaxSessionsPerPrincipal an initialize gets 429 with Retry-After and the
// request's id, another principal still opens sessions, and a closed
// session gives its slot back.
func TestBridgeSessionsPerPrincipal(t *testing.T) {
	checkLeaks(t)
	up := sseUpstream(t, mcpServer(newGate()), nil)
	p := newProxy(t, Options{URL: up.URL, Transport: TransportSSE, MaxSessionsPerPrincipal: 1})
	gw := front(t, p)

	alice := connect(t, gw.URL, "alice", "2025-06-18", nil)
	resp, body := rawDo(t, http.MethodPost, gw.URL, "alice", initBody, nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second session: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if id, _, msg := rpcErr(t, body); msg != errTooManyOwnSessions.msg || string(id) != "1" {
		t.Fatalf("429 body %s", body)
	}
	connect(t, gw.URL, "bob", "2025-06-18", nil)

	_ = alice.Close()
	waitFor(t, "alice's slot released", func() bool { return p.owned.inUse(testIssuer+"|alice") == 0 })
	connect(t, gw.URL, "alice", "2025-06-18", nil)
}
