package stdio

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/observetest"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/identity"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

const (
	testIssuer    = "https://issuer.test"
	subjectHeader = "X-Test-Subject"
)

// Short names of the MCP headers for the tests.
const (
	hdrSessionID       = mcpwire.HeaderSessionID
	hdrProtocolVersion = mcpwire.HeaderProtocolVersion
	hdrLastEventID     = mcpwire.HeaderLastEventID
)

// testMaxBody is the body cap of the harness's front (call.Read).
const testMaxBody = 1 << 20

// withPrincipal stands in for the gateway's bearer middleware: the subject
// named by X-Test-Subject becomes the verified principal.
func withPrincipal(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sub := r.Header.Get(subjectHeader); sub != "" {
			r = r.WithContext(bearer.WithToken(r.Context(), &authn.Principal{
				Subject: sub, Issuer: testIssuer, ClientID: "test-client",
				Scopes: []string{"mcp"}, Expiry: time.Now().Add(time.Hour),
			}))
		}
		h.ServeHTTP(w, r)
	})
}

// subjectTransport adds X-Test-Subject to every request.
type subjectTransport struct {
	sub  string
	base *http.Transport
}

func (t subjectTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(subjectHeader, t.sub)
	return t.base.RoundTrip(r)
}

type harness struct {
	srv *Server
	url string
	log *testkit.SafeBuffer
	// clock is the Server's clock: restart backoffs, idle timeouts and
	// resume windows move only when the test advances it.
	clock *testkit.Clock
	// rec records the observe events of every request.
	rec *observetest.Recorder
	// timers counts the Server's timer callbacks that have returned, by
	// duration.
	timers *firedTimers
}

// testEpoch starts the harness's fake clock.
var testEpoch = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// clockAfterFunc is an Options.afterFunc driven by clock: f runs, on its
// own goroutine as with time.AfterFunc, once clock has been advanced by d,
// unless Stop came first. The clock's After channel is taken before it
// returns, so an Advance after the caller armed the timer reaches it.
func clockAfterFunc(clock *testkit.Clock) func(time.Duration, func()) timer {
	return func(d time.Duration, f func()) timer {
		ft := &fakeTimer{stopped: make(chan struct{})}
		fired := clock.After(d)
		go func() {
			select {
			case <-fired:
				if ft.state.CompareAndSwap(timerArmed, timerFired) {
					f()
				}
			case <-ft.stopped:
			}
		}()
		return ft
	}
}

// States of a fakeTimer.
const (
	timerArmed int32 = iota
	timerStopped
	timerFired
)

// fakeTimer is a timer of clockAfterFunc.
type fakeTimer struct {
	state   atomic.Int32
	stopped chan struct{}
}

// Stop reports, as (*time.Timer).Stop does, whether it stopped the timer
// before f was called.
func (ft *fakeTimer) Stop() bool {
	if !ft.state.CompareAndSwap(timerArmed, timerStopped) {
		return false
	}
	close(ft.stopped)
	return true
}

// testOptions run this test binary as the stdio server, with the
// identity a stdio route gets when its identity mode is not none.
func testOptions() Options {
	return Options{
		Command:     []string{os.Args[0]},
		Env:         map[string]string{modeEnv: "server"},
		Identity:    identity.ForStdio(identity.ModeHMAC),
		StopTimeout: 2 * time.Second,
	}
}

// front is the gateway's front of an MCP route as the tests mount it: the
// bearer middleware's stand-in, then call.Read.
func front(h http.Handler) http.Handler { return withPrincipal(call.Read(testMaxBody, h)) }

// newHarness serves a Server built from testOptions (changed by mutate)
// over httptest, behind front, on a fake clock starting at testEpoch
// (harness.clock). Cleanup closes the Server, then the HTTP server.
func newHarness(t *testing.T, mutate func(*Options)) *harness {
	t.Helper()
	o := testOptions()
	clock := testkit.NewClock(testEpoch)
	o.now, o.afterFunc = clock.Now, clockAfterFunc(clock)
	if mutate != nil {
		mutate(&o)
	}
	timers := &firedTimers{n: map[time.Duration]int{}}
	o.afterFunc = timers.wrap(o.afterFunc)
	logs := &testkit.SafeBuffer{}
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	rec := observetest.New()
	hs := httptest.NewServer(observe.NewHub(rec).WithClock(clock.Now).Handler("/stdio", nil, front(srv)))
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		hs.CloseClientConnections()
		hs.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &harness{srv: srv, url: hs.URL, log: logs, clock: clock, rec: rec, timers: timers}
}

// httpClient is a client for subject whose idle connections are closed at
// cleanup.
func httpClient(t *testing.T, sub string) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: subjectTransport{sub: sub, base: tr}}
}

// connect opens a go-sdk client session as subject.
func (h *harness) connect(t *testing.T, sub string, copts *mcp.ClientOptions, mutate func(*mcp.StreamableClientTransport)) *mcp.ClientSession {
	t.Helper()
	tr := &mcp.StreamableClientTransport{Endpoint: h.url, HTTPClient: httpClient(t, sub), MaxRetries: -1}
	if mutate != nil {
		mutate(tr)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "stdio-test-client", Version: "1.0.0"}, copts)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	cs, err := c.Connect(ctx, tr, nil)
	if err != nil {
		t.Fatalf("connect as %s: %v", sub, err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// callText calls a tool and returns its first text content.
func callText(t *testing.T, cs *mcp.ClientSession, name string, args any) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", err
	}
	if res.IsError {
		return "", errors.New("tool error: " + contentText(res))
	}
	return contentText(res), nil
}

func contentText(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			return tc.Text
		}
	}
	return ""
}

// alive reports whether pid exists; a zombie would count as alive.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// waitFor waits for cond (testkit.WaitFor with its generous bound).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.WaitFor(t, testkit.DefaultTimeout, cond, what)
}

// rawPost POSTs body as sub with the Streamable HTTP headers.
func (h *harness) rawPost(t *testing.T, ctx context.Context, sub, sid, body string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sid != "" {
		req.Header.Set(hdrSessionID, sid)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := httpClient(t, sub).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// sseEvent is one parsed SSE event.
type sseEvent struct {
	id, name, data string
}

// readSSE reads events until the end of the stream, or until stop returns
// true for one.
func readSSE(t *testing.T, r io.Reader, stop func(sseEvent) bool) []sseEvent {
	t.Helper()
	var out []sseEvent
	rd := mcpwire.NewReader(r, 0)
	for {
		ev, err := rd.Next()
		if err != nil {
			return out
		}
		if !ev.HasData && ev.ID == "" {
			continue // a comment
		}
		e := sseEvent{id: ev.ID, name: ev.Type, data: string(ev.Data)}
		out = append(out, e)
		if stop != nil && stop(e) {
			return out
		}
	}
}

// rpc is a decoded JSON-RPC message for assertions.
type rpc struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

func decodeRPC(t *testing.T, s string) rpc {
	t.Helper()
	var m rpc
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return m
}

// initRaw opens a session with raw HTTP as sub at protocol version v and
// sends notifications/initialized; it returns the session id.
func (h *harness) initRaw(t *testing.T, sub, v string) string {
	t.Helper()
	ctx := context.Background()
	resp := h.rawPost(t, ctx, sub, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"`+v+`","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`, nil)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("initialize: %s %s", resp.Status, b)
	}
	sid := resp.Header.Get(hdrSessionID)
	evs := readSSE(t, resp.Body, nil)
	if len(evs) != 1 || decodeRPC(t, evs[0].data).Result == nil {
		t.Fatalf("initialize answer: %+v", evs)
	}
	r2 := h.rawPost(t, ctx, sub, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, map[string]string{hdrProtocolVersion: v})
	_ = r2.Body.Close()
	if r2.StatusCode != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %s", r2.Status)
	}
	return sid
}

// pids lists the processes of the live sessions.
func (srv *Server) pids() []int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var out []int
	for _, s := range srv.sessions {
		s.mu.Lock()
		if s.proc != nil {
			out = append(out, s.proc.pid)
		}
		s.mu.Unlock()
	}
	return out
}

// session returns the live session sid, or nil.
func (srv *Server) session(sid string) *session {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.sessions[sid]
}

// detached reports whether session sid keeps a POST stream that no
// connection writes (its client went away; it waits for a resume).
func (srv *Server) detached(sid string) bool {
	s := srv.session(sid)
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.streams {
		if !st.standalone && !st.attached {
			return true
		}
	}
	return false
}

// backoff reports the current backoff window.
func (srv *Server) backoff() (failures int, until time.Time) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.failures, srv.backoffUntil
}
