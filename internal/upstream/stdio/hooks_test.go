package stdio

import (
	"net/http"
	"sync"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
)

// firedTimers counts timer callbacks that have returned, by duration, so
// a test can wait until one has run.
type firedTimers struct {
	mu sync.Mutex
	n  map[time.Duration]int
}

// wrap returns afterFunc whose callbacks are counted.
func (ft *firedTimers) wrap(afterFunc func(time.Duration, func()) timer) func(time.Duration, func()) timer {
	return func(d time.Duration, f func()) timer {
		return afterFunc(d, func() {
			f()
			ft.mu.Lock()
			ft.n[d]++
			ft.mu.Unlock()
		})
	}
}

// fired is how many callbacks of timers of duration d have returned.
func (ft *firedTimers) fired(d time.Duration) int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.n[d]
}

// observed opens an observe record (hub.Start) for every request, as the
// gateway's front does, and finishes it with the status written.
func observed(hub *observe.Hub, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, rec := hub.Start(r.Context(), "/stdio", r, "")
		sw := &statusWriter{ResponseWriter: w}
		defer func() { rec.Finish(ctx, sw.status) }()
		h.ServeHTTP(sw, r.WithContext(ctx))
	})
}

// statusWriter remembers the status written; Unwrap lets
// http.ResponseController flush the connection.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// busy reports whether session sid has an HTTP request in flight.
func (srv *Server) busy(sid string) bool {
	s := srv.session(sid)
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active > 0
}
