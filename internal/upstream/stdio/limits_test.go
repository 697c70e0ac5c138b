package stdio

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// limitsVersion is the protocol version the raw sessions of these tests use.
const limitsVersion = "2025-06-18"

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + limitsVersion +
	`","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// openIdle opens a session as sub and waits until no request of it is in
// flight (its last request's handler has returned).
func (h *harness) openIdle(t *testing.T, sub string) string {
	t.Helper()
	sid := h.initRaw(t, sub, limitsVersion)
	waitFor(t, "the new session to be idle", func() bool { return !h.srv.busy(sid) })
	return sid
}

// tryInit POSTs an initialize as sub and reads the whole answer.
func (h *harness) tryInit(t *testing.T, sub string) (status int, retryAfter string, body []byte) {
	t.Helper()
	resp := h.rawPost(t, context.Background(), sub, "", initBody, nil)
	defer resp.Body.Close()
	body, _ = io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), body
}

// ping sends a ping on session sid as sub, reads the answer, waits until
// the session is idle again, and returns the HTTP status.
func (h *harness) ping(t *testing.T, sub, sid string) int {
	t.Helper()
	resp := h.rawPost(t, context.Background(), sub, sid, `{"jsonrpc":"2.0","id":"ping","method":"ping"}`,
		map[string]string{hdrProtocolVersion: limitsVersion})
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	waitFor(t, "the pinged session to be idle", func() bool { return !h.srv.busy(sid) })
	return resp.StatusCode
}

// holdBusy keeps a slow tool call in flight on session sid until the test
// ends (then its client goes away).
func (h *harness) holdBusy(t *testing.T, sub, sid string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url,
		strings.NewReader(`{"jsonrpc":"2.0","id":"hold","method":"tools/call","params":{"name":"slow","arguments":{}}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set(hdrSessionID, sid)
	req.Header.Set(hdrProtocolVersion, limitsVersion)
	client := httpClient(t, sub)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "a request in flight on the session", func() bool { return h.srv.busy(sid) })
}

// pidOf is the process id of live session sid.
func (h *harness) pidOf(t *testing.T, sid string) int {
	t.Helper()
	s := h.srv.session(sid)
	if s == nil {
		t.Fatalf("session %.8s is not live", sid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc.pid
}

// checkLive fails t unless the sessions live are live and those gone
// are not.
func (h *harness) checkLive(t *testing.T, step string, live, gone []string) {
	t.Helper()
	for i, sid := range live {
		if h.srv.session(sid) == nil {
			t.Errorf("%s: live[%d] (%.8s) was ended", step, i, sid)
		}
	}
	for i, sid := range gone {
		if h.srv.session(sid) != nil {
			t.Errorf("%s: gone[%d] (%.8s) is still live", step, i, sid)
		}
	}
}

// refusals returns the recorded events of requests refused for a process
// cap with status.
func (h *harness) refusals(status int) []observe.Event {
	var out []observe.Event
	for _, e := range h.rec.Events() {
		if e.Status == status && e.Decision == observe.DecisionDeny && e.Reason == observe.ReasonProcesses {
			out = append(out, e)
		}
	}
	return out
}

// TestPerPrincipalProcessCap proves max_processes_per_principal: a user
// opening 10 sessions never holds more than 4, each new one ends that
// user's least recently used idle session (its process is gone, its id
// gets 404), and with all 4 busy the next initialize gets 429 with
// Retry-After and a JSON-RPC error (golden), recorded as a refusal.
// Another user still gets a session.
func TestPerPrincipalProcessCap(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)
	var sids []string
	var pids []int
	for range 10 {
		sid := h.openIdle(t, "mallory")
		sids = append(sids, sid)
		pids = append(pids, h.pidOf(t, sid))
		if n := h.srv.Sessions(); n > DefaultMaxProcessesPerPrincipal {
			t.Fatalf("mallory holds %d sessions, cap %d", n, DefaultMaxProcessesPerPrincipal)
		}
	}
	for i, sid := range sids {
		live := h.srv.session(sid) != nil
		if live != (i >= 6) {
			t.Errorf("session %d live = %v: the oldest idle sessions must go first", i, live)
		}
		if !live && alive(pids[i]) {
			t.Errorf("process %d of evicted session %d still runs", pids[i], i)
		}
	}
	if n := len(h.srv.pids()); n != DefaultMaxProcessesPerPrincipal {
		t.Fatalf("%d processes, want %d", n, DefaultMaxProcessesPerPrincipal)
	}
	if code := h.ping(t, "mallory", sids[0]); code != http.StatusNotFound {
		t.Fatalf("ping on an evicted session: %d, want 404", code)
	}

	for _, sid := range sids[6:] {
		h.holdBusy(t, "mallory", sid)
	}
	code, retry, body := h.tryInit(t, "mallory")
	if code != http.StatusTooManyRequests || retry != "1" {
		t.Fatalf("initialize with every session busy: %d Retry-After=%q %s", code, retry, body)
	}
	golden(t, "max_processes_per_principal.json", body)
	if n := h.srv.Sessions(); n != DefaultMaxProcessesPerPrincipal {
		t.Fatalf("Sessions() = %d after the refusal", n)
	}
	waitFor(t, "the 429 to be recorded", func() bool { return len(h.refusals(http.StatusTooManyRequests)) == 1 })

	alice := h.openIdle(t, "alice")
	if code := h.ping(t, "alice", alice); code != http.StatusOK {
		t.Fatalf("alice's ping: %d", code)
	}
}

// TestHonestUserNextToAbuser proves an abusive user cannot deny stdio
// processes to an honest one: mallory fills the route, alice still gets a
// session (one of mallory's idle ones ends), and while mallory keeps
// pinging all her sessions and opening new ones, alice's calls succeed
// and her session, idle between her calls, is never taken.
func TestHonestUserNextToAbuser(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, func(o *Options) { o.MaxProcesses = 4 })
	var mallory []string
	for range 4 {
		mallory = append(mallory, h.openIdle(t, "mallory"))
	}
	// Without a GET stream alice's session is idle between her calls.
	alice := h.connect(t, "alice", nil, func(tr *mcp.StreamableClientTransport) { tr.DisableStandaloneSSE = true })
	h.checkLive(t, "alice joined", []string{alice.ID()}, []string{mallory[0]})
	mallory = mallory[1:]

	type stats struct{ rounds, pings, opened int }
	stop, round := make(chan struct{}), make(chan struct{}, 1)
	done := make(chan stats, 1)
	client := httpClient(t, "mallory")
	post := func(sid, body string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, h.url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if sid != "" {
			req.Header.Set(hdrSessionID, sid)
			req.Header.Set(hdrProtocolVersion, limitsVersion)
		}
		return client.Do(req)
	}
	go func() {
		var st stats
		defer func() { done <- st }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			live := mallory[:0]
			for _, sid := range mallory {
				resp, err := post(sid, `{"jsonrpc":"2.0","id":"ping","method":"ping"}`)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				st.pings++
				if resp.StatusCode == http.StatusOK {
					live = append(live, sid)
				}
			}
			mallory = live
			if resp, err := post("", initBody); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					st.opened++
					mallory = append(mallory, resp.Header.Get(hdrSessionID))
				}
			}
			st.rounds++
			select {
			case round <- struct{}{}:
			default:
			}
		}
	}()
	const calls = 8
	for i := range calls {
		testkit.Recv(t, round, testkit.DefaultTimeout, "a round of mallory's abuse")
		want := fmt.Sprintf("call %d", i)
		if got, err := callText(t, alice, "echo", echoArgs{Message: want}); err != nil || got != want {
			t.Fatalf("alice's call %d next to mallory: %q, %v", i, got, err)
		}
	}
	close(stop)
	st := testkit.Recv(t, done, testkit.DefaultTimeout, "mallory to stop")
	if st.rounds < calls || st.opened == 0 || st.pings == 0 {
		t.Fatalf("mallory did not abuse enough: %+v", st)
	}
	if h.srv.session(alice.ID()) == nil {
		t.Fatal("alice's session was taken")
	}
	if n := h.srv.Sessions(); n > 4 {
		t.Fatalf("Sessions() = %d over MaxProcesses", n)
	}
}

// TestGlobalCapEvictionOrder proves the order in which a full route makes
// room: the requesting user's own least recently used idle session
// first, then the least recently used idle session of the user holding
// the most sessions; a ping moves a session back in that order but does
// not keep it busy.
func TestGlobalCapEvictionOrder(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, func(o *Options) { o.MaxProcesses = 4 })
	a1 := h.openIdle(t, "alice") // the route's oldest session
	b1, b2, b3 := h.openIdle(t, "bob"), h.openIdle(t, "bob"), h.openIdle(t, "bob")

	b4 := h.openIdle(t, "bob")
	h.checkLive(t, "bob's fourth", []string{a1, b2, b3, b4}, []string{b1})

	c1 := h.openIdle(t, "carol")
	h.checkLive(t, "carol's first", []string{a1, b3, b4, c1}, []string{b2})

	if code := h.ping(t, "bob", b3); code != http.StatusOK {
		t.Fatalf("ping b3: %d", code)
	}
	d1 := h.openIdle(t, "dave") // bob holds the most (2), b4 is now his least recently used
	h.checkLive(t, "dave's first", []string{a1, b3, c1, d1}, []string{b4})

	a2 := h.openIdle(t, "alice")
	h.checkLive(t, "alice's second", []string{a2, b3, c1, d1}, []string{a1})
	if n := h.srv.Sessions(); n != 4 {
		t.Fatalf("Sessions() = %d, want 4", n)
	}
}

// TestGlobalCapFairness proves that on a full route a user cannot take
// the idle session of a user holding fewer sessions (503 instead), and
// that with nothing idle every initialize gets 503 with Retry-After,
// recorded as a refusal.
func TestGlobalCapFairness(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, func(o *Options) { o.MaxProcesses = 4 })
	a1 := h.openIdle(t, "alice")
	for range 3 {
		h.holdBusy(t, "bob", h.openIdle(t, "bob"))
	}
	if code, retry, body := h.tryInit(t, "bob"); code != http.StatusServiceUnavailable || retry != "1" {
		t.Fatalf("bob's fourth with his sessions busy: %d Retry-After=%q %s", code, retry, body)
	}
	h.checkLive(t, "bob refused", []string{a1}, nil)

	h.holdBusy(t, "alice", a1)
	if code, retry, body := h.tryInit(t, "carol"); code != http.StatusServiceUnavailable || retry != "1" {
		t.Fatalf("carol with nothing idle: %d Retry-After=%q %s", code, retry, body)
	}
	waitFor(t, "both 503s to be recorded", func() bool { return len(h.refusals(http.StatusServiceUnavailable)) == 2 })
}

// TestPingedSessionsStayIdle proves pings do not keep a session from
// being evicted: a session is busy only while a ping runs, and the least
// recently used session (by its last request) goes first.
func TestPingedSessionsStayIdle(t *testing.T) {
	testkit.CheckGoroutines(t)
	h := newHarness(t, nil)
	var s []string
	for range 4 {
		s = append(s, h.openIdle(t, "mallory"))
	}
	if code := h.ping(t, "mallory", s[0]); code != http.StatusOK {
		t.Fatalf("ping: %d", code)
	}
	n1 := h.openIdle(t, "mallory")
	h.checkLive(t, "after pinging the oldest", []string{s[0]}, []string{s[1]})

	for _, sid := range []string{s[0], s[2], s[3], n1} { // s[0] is now the least recently pinged
		if code := h.ping(t, "mallory", sid); code != http.StatusOK {
			t.Fatalf("ping: %d", code)
		}
	}
	n2 := h.openIdle(t, "mallory")
	h.checkLive(t, "after pinging them all", []string{s[2], s[3], n1, n2}, []string{s[0]})
}
