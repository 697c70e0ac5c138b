// Package observetest has an observe.Observer that records events, for
// tests of the layers that write on the record.
package observetest

import (
	"context"
	"sync"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
)

// Recorder keeps every event it observes.
type Recorder struct {
	mu     sync.Mutex
	events []observe.Event
	notify chan struct{}
}

var _ observe.Observer = (*Recorder)(nil)

// New returns an empty recorder.
func New() *Recorder { return &Recorder{notify: make(chan struct{}, 1)} }

// Observe records e.
func (r *Recorder) Observe(_ context.Context, e *observe.Event) {
	r.mu.Lock()
	r.events = append(r.events, *e)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// Events returns a copy of the events so far.
func (r *Recorder) Events() []observe.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]observe.Event(nil), r.events...)
}

// Wait blocks until at least n events were recorded or ctx ends, and
// returns the events so far.
func (r *Recorder) Wait(ctx context.Context, n int) []observe.Event {
	for {
		if ev := r.Events(); len(ev) >= n {
			return ev
		}
		select {
		case <-r.notify:
		case <-ctx.Done():
			return r.Events()
		}
	}
}
