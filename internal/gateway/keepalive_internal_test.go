package gateway

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

const every = 25 * time.Second

// fakeWriter is the connection's ResponseWriter: it records the status,
// the bytes, the flushes and write deadlines (reached through Unwrap).
type fakeWriter struct {
	h        http.Header
	mu       sync.Mutex
	status   int
	body     strings.Builder
	flushes  int
	deadline time.Time
}

func newFakeWriter() *fakeWriter { return &fakeWriter{h: http.Header{}} }

func (f *fakeWriter) Header() http.Header { return f.h }
func (f *fakeWriter) WriteHeader(code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status == 0 {
		f.status = code
	}
}
func (f *fakeWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status == 0 {
		f.status = http.StatusOK
	}
	return f.body.Write(p)
}
func (f *fakeWriter) Flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushes++
}
func (f *fakeWriter) SetWriteDeadline(t time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deadline = t
	return nil
}
func (f *fakeWriter) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.body.String()
}
func (f *fakeWriter) state() (status, flushes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, f.flushes
}

// scripted is a handler the test drives: each function sent on steps runs
// on the handler's goroutine with its ResponseWriter; closing steps returns.
type scripted struct {
	steps chan func(http.ResponseWriter)
	acks  chan struct{}
	done  chan struct{}
}

// serve runs h (wrapped by k) on a fresh request in the background.
func serve(t *testing.T, ctx context.Context, k keepAlive) (*scripted, *fakeWriter) {
	t.Helper()
	s := &scripted{steps: make(chan func(http.ResponseWriter)), acks: make(chan struct{}), done: make(chan struct{})}
	w := newFakeWriter()
	h := k.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for step := range s.steps {
			step(w)
			s.acks <- struct{}{}
		}
	}))
	r := httptestRequest(ctx)
	go func() {
		defer close(s.done)
		h.ServeHTTP(w, r)
	}()
	t.Cleanup(func() { s.end(t) })
	return s, w
}

func httptestRequest(ctx context.Context) *http.Request {
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://gw.test/mcp", nil)
	return r
}

// do runs step on the handler's goroutine and waits for it.
func (s *scripted) do(t *testing.T, step func(http.ResponseWriter)) {
	t.Helper()
	select {
	case s.steps <- step:
	case <-s.done:
		t.Fatal("handler already returned")
	}
	testkit.Recv(t, s.acks, testkit.DefaultTimeout, "the handler step")
}

// end makes the handler return and waits until ServeHTTP did.
func (s *scripted) end(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
		return
	default:
	}
	close(s.steps)
	testkit.WaitDone(t, s.done, testkit.DefaultTimeout, "ServeHTTP to return")
}

func sseHeader(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
}

func write(s string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) { _, _ = w.Write([]byte(s)) }
}

func testKeepAlive(c *testkit.Clock) keepAlive {
	return keepAlive{every: every, now: c.Now, after: c.After}
}

// advance moves the clock once the timer goroutine waits on it (the
// waiters of finished timers stay registered, so the count is given).
func advance(t *testing.T, c *testkit.Clock, waiters int, d time.Duration) {
	t.Helper()
	c.WaitForWaiters(t, waiters)
	c.Advance(d)
}

// TestKeepAliveIdleStream: a silent event stream gets a flushed comment
// every period, and keeps getting them.
func TestKeepAliveIdleStream(t *testing.T) {
	testkit.CheckGoroutines(t)
	c := testkit.NewClock(time.Unix(0, 0))
	s, w := serve(t, context.Background(), testKeepAlive(c))
	s.do(t, sseHeader)
	s.do(t, write("event: message\ndata: {}\n\n"))
	advance(t, c, 1, every)
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { return strings.Count(w.String(), ": keep-alive\n\n") == 1 }, "the first comment")
	advance(t, c, 1, every)
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { return strings.Count(w.String(), ": keep-alive\n\n") == 2 }, "the second comment")
	if _, flushes := w.state(); flushes < 2 {
		t.Fatalf("%d flushes, want one per comment", flushes)
	}
	s.end(t)
	if got, want := w.String(), "event: message\ndata: {}\n\n: keep-alive\n\n: keep-alive\n\n"; got != want {
		t.Fatalf("stream %q, want %q", got, want)
	}
}

// TestKeepAliveActivityRestartsTheClock: a write 20 s into the period
// pushes the comment to 25 s after that write.
func TestKeepAliveActivityRestartsTheClock(t *testing.T) {
	testkit.CheckGoroutines(t)
	c := testkit.NewClock(time.Unix(0, 0))
	s, w := serve(t, context.Background(), testKeepAlive(c))
	s.do(t, sseHeader)
	c.Advance(20 * time.Second)
	s.do(t, write("data: 1\n\n"))
	advance(t, c, 1, 5*time.Second) // the first wait ends after 5 s quiet: re-armed for 20 s
	advance(t, c, 1, 19*time.Second)
	if strings.Contains(w.String(), "keep-alive") {
		t.Fatalf("comment %v after the last write: %q", 24*time.Second, w.String())
	}
	c.Advance(time.Second)
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { return strings.Contains(w.String(), "keep-alive") }, "the comment")
}

// TestKeepAliveNeverInsideAnEvent: while a handler is between the Writes
// of one event no comment goes out; once the blank line ending it is
// written (LF, CRLF or CR line ends) the next comment follows it.
func TestKeepAliveNeverInsideAnEvent(t *testing.T) {
	for _, nl := range []string{"\n", "\r\n", "\r"} {
		t.Run(strings.NewReplacer("\r", "CR", "\n", "LF").Replace(nl), func(t *testing.T) {
			testkit.CheckGoroutines(t)
			c := testkit.NewClock(time.Unix(0, 0))
			s, w := serve(t, context.Background(), testKeepAlive(c))
			s.do(t, sseHeader)
			s.do(t, write("event: message"+nl))
			s.do(t, write("data: {}"+nl))
			advance(t, c, 1, every)
			advance(t, c, 1, every) // the first check found an open event and re-armed
			c.WaitForWaiters(t, 1)
			if strings.Contains(w.String(), "keep-alive") {
				t.Fatalf("comment inside an event: %q", w.String())
			}
			s.do(t, write(nl))
			advance(t, c, 1, every)
			testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { return strings.Contains(w.String(), "keep-alive") }, "the comment")
			s.end(t)
			if got, want := w.String(), "event: message"+nl+"data: {}"+nl+nl+": keep-alive\n\n"; got != want {
				t.Fatalf("stream %q, want %q", got, want)
			}
		})
	}
}

// TestKeepAliveLeavesOtherResponsesAlone: JSON, 204 and a status line the
// handler has not written yet (the HTTP proxy's first-event hold) get no
// timer and no bytes.
func TestKeepAliveLeavesOtherResponsesAlone(t *testing.T) {
	for _, tt := range []struct {
		name  string
		steps []func(http.ResponseWriter)
		want  string
	}{
		{"json", []func(http.ResponseWriter){func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
		}, write(`{"jsonrpc":"2.0","id":1,"result":{}}`)}, `{"jsonrpc":"2.0","id":1,"result":{}}`},
		{"event stream 204", []func(http.ResponseWriter){func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusNoContent)
		}}, ""},
		{"status line held back", []func(http.ResponseWriter){func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/event-stream")
		}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			testkit.CheckGoroutines(t)
			c := testkit.NewClock(time.Unix(0, 0))
			s, w := serve(t, context.Background(), testKeepAlive(c))
			for _, step := range tt.steps {
				s.do(t, step)
			}
			if n := c.Waiters(); n != 0 {
				t.Fatalf("%d timers armed", n)
			}
			c.Advance(10 * every)
			if got := w.String(); got != tt.want {
				t.Fatalf("body %q, want %q", got, tt.want)
			}
			if status, _ := w.state(); tt.name == "status line held back" && status != 0 {
				t.Fatalf("the wrapper wrote the status line (%d) before the handler", status)
			}
		})
	}
}

// TestKeepAliveDisabled: a zero period hands the handler the connection's
// own writer.
func TestKeepAliveDisabled(t *testing.T) {
	w := newFakeWriter()
	var got http.ResponseWriter
	h := keepAlive{every: 0}.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { got = w }))
	h.ServeHTTP(w, httptestRequest(context.Background()))
	if got != w {
		t.Fatalf("handler got %T, want the connection's writer", got)
	}
}

// TestKeepAliveStops: no comment after the handler returned, and the timer
// goroutine exits when the client goes away while the handler still runs.
func TestKeepAliveStops(t *testing.T) {
	t.Run("handler returned", func(t *testing.T) {
		testkit.CheckGoroutines(t)
		c := testkit.NewClock(time.Unix(0, 0))
		s, w := serve(t, context.Background(), testKeepAlive(c))
		s.do(t, sseHeader)
		s.end(t)
		c.Advance(10 * every)
		if got := w.String(); got != "" {
			t.Fatalf("written after the handler returned: %q", got)
		}
	})
	t.Run("client gone", func(t *testing.T) {
		testkit.CheckGoroutines(t)
		c := testkit.NewClock(time.Unix(0, 0))
		ctx, cancel := context.WithCancel(context.Background())
		s, w := serve(t, ctx, testKeepAlive(c))
		var kw *keepAliveWriter
		s.do(t, func(w http.ResponseWriter) { sseHeader(w); kw = w.(*keepAliveWriter) })
		cancel()
		advance(t, c, 1, 10*every)
		testkit.WaitFor(t, testkit.DefaultTimeout, func() bool {
			kw.mu.Lock()
			defer kw.mu.Unlock()
			return kw.done
		}, "the keep-alives to end")
		if n := c.Waiters(); n != 0 {
			t.Fatalf("%d timers re-armed after the client left", n)
		}
		c.Advance(10 * every)
		if got := w.String(); got != "" {
			t.Fatalf("written after the client left: %q", got)
		}
	})
}

// TestKeepAliveNoGoroutinePerStream: on the real clock an idle event
// stream waits on a runtime timer, not on a goroutine of its own, and the
// timer is stopped when the handler returns.
func TestKeepAliveNoGoroutinePerStream(t *testing.T) {
	testkit.CheckGoroutines(t)
	s, w := serve(t, context.Background(), keepAlive{every: time.Hour})
	s.do(t, func(http.ResponseWriter) {}) // the handler's goroutine is parked in its loop
	before := runtime.NumGoroutine()
	var kw *keepAliveWriter
	s.do(t, func(w http.ResponseWriter) { sseHeader(w); kw = w.(*keepAliveWriter) })
	if after := runtime.NumGoroutine(); after != before {
		t.Fatalf("%d goroutines while the stream idles, %d before it started", after, before)
	}
	kw.mu.Lock()
	armed := kw.cancel != nil
	kw.mu.Unlock()
	if !armed {
		t.Fatal("no timer armed on the idle stream")
	}
	s.end(t)
	kw.mu.Lock()
	defer kw.mu.Unlock()
	if kw.cancel != nil || !kw.done {
		t.Fatal("the timer outlived the handler")
	}
	if got := w.String(); got != "" {
		t.Fatalf("written: %q", got)
	}
}

// TestKeepAliveWriterControls: http.Flusher and http.ResponseController
// reach the connection (Flush directly, deadlines through Unwrap), and a
// Flush before any Write starts the stream as net/http would (status 200).
func TestKeepAliveWriterControls(t *testing.T) {
	testkit.CheckGoroutines(t)
	c := testkit.NewClock(time.Unix(0, 0))
	s, w := serve(t, context.Background(), testKeepAlive(c))
	deadline := time.Unix(100, 0)
	s.do(t, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		if err := rc.Flush(); err != nil {
			t.Errorf("ResponseController.Flush: %v", err)
		}
		w.(http.Flusher).Flush()
		if err := rc.SetWriteDeadline(deadline); err != nil {
			t.Errorf("ResponseController.SetWriteDeadline: %v", err)
		}
	})
	if status, flushes := w.state(); status != http.StatusOK || flushes != 2 {
		t.Fatalf("status %d, %d flushes; want 200 and 2", status, flushes)
	}
	w.mu.Lock()
	got := w.deadline
	w.mu.Unlock()
	if !got.Equal(deadline) {
		t.Fatalf("write deadline %v did not reach the connection", got)
	}
	advance(t, c, 1, every)
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { return w.String() == ": keep-alive\n\n" }, "a comment on the flushed stream")
}
