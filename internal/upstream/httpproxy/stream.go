package httpproxy

import (
	"errors"
	"net/http"
	"sync"
	"time"
)

// defaultResponseHold is how long a POST's event stream is held before its
// status line goes out alone (see the package doc, "Streams").
const defaultResponseHold = 25 * time.Millisecond

// maxHeldBytes ends a hold early: events beyond it go out at once.
const maxHeldBytes = 64 << 10

// eventWriter writes one text/event-stream response, flushing after each
// event. With a hold, the status line, headers and the events of the first
// hold are written together, in one write, when the hold ends, when more
// than maxHeldBytes are held, or when the stream ends, whichever is first;
// never the headers alone before the hold ends. Its methods must not be
// called after the handler returned; close must be called before.
type eventWriter struct {
	w      http.ResponseWriter
	rc     *http.ResponseController
	status int

	mu     sync.Mutex
	held   []byte
	open   bool // status and headers written
	closed bool
	err    error
	stop   func() bool
}

// newEventWriter starts a stream answering with status; hold <= 0 writes
// the headers at once.
func newEventWriter(w http.ResponseWriter, status int, hold time.Duration) *eventWriter {
	e := &eventWriter{w: w, rc: http.NewResponseController(w), status: status}
	if hold <= 0 {
		e.mu.Lock()
		e.commitLocked()
		e.mu.Unlock()
		return e
	}
	t := time.AfterFunc(hold, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if !e.closed {
			e.commitLocked()
		}
	})
	e.stop = t.Stop
	return e
}

// send writes one encoded event; an error means the client is gone.
func (e *eventWriter) send(ev []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return e.err
	}
	if !e.open {
		e.held = append(e.held, ev...)
		if len(e.held) > maxHeldBytes {
			e.commitLocked()
		}
		return e.err
	}
	if _, err := e.w.Write(ev); err != nil {
		e.err = err
		return err
	}
	e.flushLocked()
	return e.err
}

// close ends the hold (writing what it held) and detaches the timer.
func (e *eventWriter) close() {
	if e.stop != nil {
		e.stop()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.open {
		e.commitLocked()
	}
	e.closed = true
}

// commitLocked writes the status line, the headers and what was held.
func (e *eventWriter) commitLocked() {
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
	e.flushLocked()
}

func (e *eventWriter) flushLocked() {
	if err := e.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		e.err = err
	}
}
