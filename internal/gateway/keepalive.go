package gateway

import (
	"errors"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

// keepAliveComment is what an idle event stream receives.
var keepAliveComment = mcpwire.EncodeComment("keep-alive")

// keepAlive writes an SSE comment ([mcpwire.EncodeComment]) on an event
// stream that has been idle for a while, so that a load balancer or CDN in
// front (an ALB drops a connection idle for 60 s by default, CloudFront
// waits 30 s by default for origin bytes) does not cut a stream that is
// merely waiting for the next message. It wraps every MCP route's handler,
// whatever the upstream, and acts only on responses whose Content-Type is
// text/event-stream when the status line goes out; other responses pass
// untouched.
//
// A comment goes out only at an event boundary ([mcpwire.EventBoundary]),
// never inside an event a handler writes in several Writes; it is written
// under the same lock as the handler's writes and flushed. The idle clock
// starts when the status line is written (a handler that holds its status
// line back, as the HTTP proxy's first-event hold does, is not hurried) and
// restarts on every Write. It stops when the handler returns or the client
// goes away. An idle stream costs a runtime timer, not a goroutine: the
// check runs as the timer's callback (time.AfterFunc). Not checked:
// whether the bytes the handler writes are valid SSE.
type keepAlive struct {
	every time.Duration
	now   func() time.Time
	// after, when set, is an injected clock's timer (tests): each wait
	// then runs on a goroutine of its own. nil: time.AfterFunc.
	after func(time.Duration) <-chan time.Time
}

// afterFunc runs f once d has passed on k's clock, unless the returned
// stop is called first (at most once).
func (k keepAlive) afterFunc(d time.Duration, f func()) (stop func()) {
	if k.after == nil {
		t := time.AfterFunc(d, f)
		return func() { t.Stop() }
	}
	fired, quit := k.after(d), make(chan struct{})
	go func() {
		select {
		case <-fired:
			f()
		case <-quit:
		}
	}()
	return func() { close(quit) }
}

// wrap returns next with keep-alives, or next itself when every <= 0.
func (k keepAlive) wrap(next http.Handler) http.Handler {
	if k.every <= 0 {
		return next
	}
	if k.now == nil {
		k.now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kw := &keepAliveWriter{w: w, k: k, req: r}
		defer kw.stop()
		next.ServeHTTP(kw, r)
	})
}

// keepAliveWriter is the http.ResponseWriter handed to a route's handler.
type keepAliveWriter struct {
	w   http.ResponseWriter
	k   keepAlive
	req *http.Request

	mu       sync.Mutex
	wrote    bool // status line written
	stream   bool // ... with Content-Type text/event-stream
	done     bool // handler returned, client gone or a write failed: no more comments
	last     time.Time
	boundary mcpwire.EventBoundary
	cancel   func() // stops the pending wait; nil when none
}

var (
	_ http.ResponseWriter = (*keepAliveWriter)(nil)
	_ http.Flusher        = (*keepAliveWriter)(nil)
	_ interface {
		FlushError() error
		Unwrap() http.ResponseWriter
	} = (*keepAliveWriter)(nil)
)

// Header implements http.ResponseWriter.
func (kw *keepAliveWriter) Header() http.Header { return kw.w.Header() }

// WriteHeader implements http.ResponseWriter.
func (kw *keepAliveWriter) WriteHeader(code int) {
	kw.mu.Lock()
	defer kw.mu.Unlock()
	kw.writeHeaderLocked(code)
}

func (kw *keepAliveWriter) writeHeaderLocked(code int) {
	if kw.wrote {
		kw.w.WriteHeader(code) // net/http logs the superfluous call
		return
	}
	if code < 200 { // 1xx informational: the real status follows
		kw.w.WriteHeader(code)
		return
	}
	kw.wrote = true
	ct, _, _ := mime.ParseMediaType(kw.w.Header().Get("Content-Type"))
	kw.w.WriteHeader(code)
	if ct != "text/event-stream" || code == http.StatusNoContent || code == http.StatusNotModified {
		return
	}
	kw.stream = true
	kw.last = kw.k.now()
	// The first wait is registered before the status line can reach the
	// client, so a test that has seen the headers may advance its clock.
	kw.armLocked(kw.k.every)
}

func (kw *keepAliveWriter) armLocked(d time.Duration) { kw.cancel = kw.k.afterFunc(d, kw.wake) }

// Write implements http.ResponseWriter.
func (kw *keepAliveWriter) Write(p []byte) (int, error) {
	kw.mu.Lock()
	defer kw.mu.Unlock()
	if !kw.wrote {
		kw.writeHeaderLocked(http.StatusOK)
	}
	n, err := kw.w.Write(p)
	if kw.stream {
		_, _ = kw.boundary.Write(p[:n])
		kw.last = kw.k.now()
		if err != nil {
			kw.done = true
		}
	}
	return n, err
}

// Flush implements http.Flusher.
func (kw *keepAliveWriter) Flush() { _ = kw.FlushError() }

// FlushError is what http.ResponseController.Flush calls. Flushing before
// any Write sends the status line (200), as net/http does.
func (kw *keepAliveWriter) FlushError() error {
	kw.mu.Lock()
	defer kw.mu.Unlock()
	if !kw.wrote {
		kw.writeHeaderLocked(http.StatusOK)
	}
	return http.NewResponseController(kw.w).Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer for
// deadlines and full duplex.
func (kw *keepAliveWriter) Unwrap() http.ResponseWriter { return kw.w }

// wake is the timer's callback: it writes a comment if the stream has
// been idle long enough (when at an event boundary; otherwise it waits
// one more period) and re-arms the timer, until stop, a failed write or
// the client going away.
func (kw *keepAliveWriter) wake() {
	kw.mu.Lock()
	defer kw.mu.Unlock()
	kw.cancel = nil
	if kw.done || kw.req.Context().Err() != nil {
		kw.done = true
		return
	}
	if next, ok := kw.tickLocked(); ok {
		kw.armLocked(next)
	}
}

// tickLocked writes a comment if the stream has been idle long enough and
// returns how long to wait before the next check; false ends the stream's
// keep-alives (a write failed).
func (kw *keepAliveWriter) tickLocked() (time.Duration, bool) {
	if quiet := kw.k.now().Sub(kw.last); quiet < kw.k.every {
		return kw.k.every - quiet, true
	}
	if !kw.boundary.AtBoundary() {
		return kw.k.every, true // inside an event: never split it
	}
	if _, err := kw.w.Write(keepAliveComment); err != nil {
		kw.done = true
		return 0, false
	}
	_, _ = kw.boundary.Write(keepAliveComment)
	kw.last = kw.k.now()
	if err := http.NewResponseController(kw.w).Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		kw.done = true
		return 0, false
	}
	return kw.k.every, true
}

// stop ends the keep-alives once the handler returned: no comment is
// written after it (a callback already waiting for the lock finds done).
func (kw *keepAliveWriter) stop() {
	kw.mu.Lock()
	defer kw.mu.Unlock()
	kw.done = true
	if kw.cancel != nil {
		kw.cancel()
		kw.cancel = nil
	}
}
