package stdio

import (
	"sync"
	"time"
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
