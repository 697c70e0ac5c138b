package httpproxy

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
)

// defaultResponseHold is how long a POST's event stream is held before its
// status line goes out alone (see the package doc, "Streams").
const defaultResponseHold = 25 * time.Millisecond

// maxHeldBytes ends a hold early: events beyond it go out at once.
const maxHeldBytes = 64 << 10

// endGrace is how long the answer that should end a stream (the response
// to the only request of a POST) waits unflushed for the upstream to end
// the stream, so that it leaves with the end of the response in one write;
// an upstream that keeps the stream open longer gets it flushed then.
const endGrace = 2 * time.Millisecond

// eventWriter writes one text/event-stream response. Events are written as
// they come and flushed only when nothing more is ready to follow them
// (idle, before the proxy waits for the upstream; send, for callers that
// have no such knowledge), so events read together leave together, and an
// answer that ends the stream is not flushed at all: net/http then writes
// the status line, headers, events and the end of the body in one write.
//
// With a hold, the status line, headers and the events of the first hold
// are written together, in one write, when the hold ends, when more than
// maxHeldBytes are held, or when the stream ends, whichever is first;
// never the headers alone before the hold ends. Its methods must not be
// called after the handler returned; close must be called before.
type eventWriter struct {
	w      http.ResponseWriter
	rc     *http.ResponseController
	status int

	mu     sync.Mutex
	held   []byte
	open   bool // status and headers written
	dirty  bool // bytes written since the last flush
	ending bool // the last event should end the stream (see endGrace)
	closed bool
	err    error
	stop   func() bool // the hold's timer
	grace  *time.Timer // endGrace's, once armed
	// endAfter overrides endGrace (tests); set before the first write.
	endAfter time.Duration
}

// newEventWriter starts a stream answering with status; hold <= 0 writes
// and flushes the headers at once.
func newEventWriter(w http.ResponseWriter, status int, hold time.Duration) *eventWriter {
	e := &eventWriter{w: w, rc: http.NewResponseController(w), status: status}
	if hold <= 0 {
		e.mu.Lock()
		e.commitLocked(true)
		e.mu.Unlock()
		return e
	}
	t := time.AfterFunc(hold, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if !e.closed && !e.open {
			e.commitLocked(true)
		}
	})
	e.stop = t.Stop
	return e
}

// send writes one encoded event and flushes it; an error means the client
// is gone.
func (e *eventWriter) send(ev []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.writeLocked(ev) == nil && e.open && e.dirty {
		e.flushLocked()
	}
	return e.err
}

// write writes one encoded event without flushing it: the caller flushes
// (idle, flush) or ends the stream. last says the event should be the
// stream's last (see endGrace).
func (e *eventWriter) write(ev []byte, last bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ending = last
	return e.writeLocked(ev)
}

func (e *eventWriter) writeLocked(ev []byte) error {
	if e.err != nil {
		return e.err
	}
	if !e.open {
		e.held = append(e.held, ev...)
		if len(e.held) > maxHeldBytes {
			e.commitLocked(true)
		}
		return e.err
	}
	if _, err := e.w.Write(ev); err != nil {
		e.err = err
		return err
	}
	e.dirty = true
	return nil
}

// holding reports whether the hold still keeps the status line back (what
// is written now goes out with it, unflushed until the hold or the stream
// ends).
func (e *eventWriter) holding() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return !e.open
}

// idle is called before waiting for more events: what was written goes
// out now, unless the last event should end the stream, which then gets
// endGrace to end before it is flushed.
func (e *eventWriter) idle() {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case !e.open || !e.dirty || e.err != nil:
	case !e.ending:
		e.flushLocked()
	case e.grace == nil:
		e.grace = time.AfterFunc(e.graceLocked(), e.flush)
	default:
		e.grace.Reset(e.graceLocked())
	}
}

func (e *eventWriter) graceLocked() time.Duration {
	if e.endAfter > 0 {
		return e.endAfter
	}
	return endGrace
}

// flush sends what was written and not flushed yet.
func (e *eventWriter) flush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.open && e.dirty && !e.closed && e.err == nil {
		e.flushLocked()
	}
}

// close ends the hold, writing what it held without flushing it (net/http
// writes it when the handler returns), and detaches the timers.
func (e *eventWriter) close() {
	if e.stop != nil {
		e.stop()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.grace != nil {
		e.grace.Stop()
	}
	if !e.open {
		e.commitLocked(false)
	}
	e.closed = true
}

// commitLocked writes the status line, the headers and what was held,
// flushing them when flush is set.
func (e *eventWriter) commitLocked(flush bool) {
	e.open = true
	e.w.WriteHeader(e.status)
	if len(e.held) > 0 {
		_, err := e.w.Write(e.held)
		e.held = nil
		if err != nil {
			e.err = err
			return
		}
	}
	e.dirty = true
	if flush {
		e.flushLocked()
	}
}

func (e *eventWriter) flushLocked() {
	e.dirty = false
	if err := e.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		e.err = err
	}
}

// readBuffers are the upstream read buffers of streams (one per stream
// while it reads).
var readBuffers = sync.Pool{New: func() any { b := make([]byte, 8<<10); return &b }}

// stream copies an SSE body event by event (the mcpwire.Splitter grammar;
// events are forwarded as their raw bytes), flushing when no further
// event is ready (see eventWriter), and stops after the last complete
// event when either side ends. A POST's stream starts with the response
// hold (see eventWriter); the response to a POST's only request is not
// flushed before the upstream ends the stream (endGrace).
func (p *Proxy) stream(w http.ResponseWriter, r *http.Request, resp *http.Response, c *call.Call) {
	w.Header().Set("X-Accel-Buffering", "no")
	ew := newEventWriter(w, resp.StatusCode, p.holdFor(r))
	ew.endAfter = p.o.endGrace
	defer ew.close()
	only, hasOnly := onlyRequest(c)
	var clientErr error
	split := mcpwire.Splitter{Max: mcpwire.DefaultMaxEventBytes, OnEvent: func(raw []byte) error {
		last := hasOnly && !ew.holding() && answers(raw, only)
		clientErr = ew.write(raw, last)
		return clientErr
	}}
	bp := readBuffers.Get().(*[]byte)
	defer readBuffers.Put(bp)
	for {
		// Every complete event read so far has been written: before
		// waiting for more, what was written goes out.
		ew.idle()
		n, err := resp.Body.Read(*bp)
		if n > 0 {
			if _, serr := split.Write((*bp)[:n]); serr != nil {
				if clientErr != nil {
					p.log.DebugContext(r.Context(), "client stream write failed", slog.Any("error", clientErr))
				} else {
					p.log.WarnContext(r.Context(), "upstream stream ended abnormally", slog.Any("error", serr))
				}
				return
			}
		}
		if err == nil {
			continue
		}
		split.OnEvent = func([]byte) error { return nil } // clients discard an incomplete final event
		if tail, _ := split.Flush(); tail && errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		if !errors.Is(err, io.EOF) && r.Context().Err() == nil && p.ctx.Err() == nil {
			p.log.WarnContext(r.Context(), "upstream stream ended abnormally", slog.Any("error", err))
		} else {
			p.log.DebugContext(r.Context(), "upstream stream ended", slog.Any("error", err))
		}
		return
	}
}

// onlyRequest is the key of the only request of c's body, if it has one
// request (MCP Transports §Streamable HTTP: the server should end the
// stream once it has answered every request of the POST).
func onlyRequest(c *call.Call) (mcpwire.Key, bool) {
	if c.Body == nil {
		return "", false
	}
	var key mcpwire.Key
	n := 0
	for i := range c.Body.Messages {
		if m := &c.Body.Messages[i]; m.IsRequest() {
			if n++; n > 1 {
				return "", false
			}
			key, _ = m.Key()
		}
	}
	return key, n == 1
}

// answers reports whether the raw event is a response to the request
// keyed key.
func answers(raw []byte, key mcpwire.Key) bool {
	ev := mcpwire.ParseEvent(raw)
	if !ev.IsMessage() {
		return false
	}
	m, err := mcpwire.ParseMessage(ev.Data)
	if err != nil || !m.IsResponse() {
		return false
	}
	k, ok := m.Key()
	return ok && k == key
}
