package testkit

import (
	"sort"
	"sync"
	"testing"
	"time"
)

// Clock is a fake clock for code that takes its time source as a
// func() time.Time (pass clock.Now) and, for timers, as a
// func(time.Duration) <-chan time.Time (pass clock.After). Time moves only
// when the test calls Advance or Set. It is safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*waiter
	changed chan struct{} // closed and replaced whenever waiters change
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, changed: make(chan struct{})}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Since returns the time elapsed on the clock since t.
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Advance moves the clock forward by d (d must not be negative) and fires,
// in deadline order, every After channel whose deadline has been reached.
func (c *Clock) Advance(d time.Duration) {
	if d < 0 {
		panic("testkit.Clock.Advance: negative duration")
	}
	c.mu.Lock()
	c.setLocked(c.now.Add(d))
	c.mu.Unlock()
}

// Set moves the clock to t (which may be earlier than Now) and fires every
// After channel whose deadline is not after t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.setLocked(t)
	c.mu.Unlock()
}

func (c *Clock) setLocked(t time.Time) {
	c.now = t
	sort.SliceStable(c.waiters, func(i, j int) bool { return c.waiters[i].at.Before(c.waiters[j].at) })
	kept := c.waiters[:0]
	fired := false
	for _, w := range c.waiters {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- t // buffered, sent once
		fired = true
	}
	clear(c.waiters[len(kept):])
	c.waiters = kept
	if fired {
		c.notifyLocked()
	}
}

// After returns a channel that receives the clock's time once the clock has
// been advanced by at least d. A d <= 0 fires at once. The channel is
// buffered, so an abandoned After never blocks the clock.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, &waiter{at: c.now.Add(d), ch: ch})
	c.notifyLocked()
	return ch
}

// Waiters returns how many After channels are pending (not yet fired).
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// WaitForWaiters blocks until at least n After channels are pending, so that
// a following Advance is sure to reach the goroutine that is about to block
// on one. It fails t after DefaultTimeout.
func (c *Clock) WaitForWaiters(t testing.TB, n int) {
	t.Helper()
	deadline := time.After(DefaultTimeout)
	for {
		c.mu.Lock()
		have, changed := len(c.waiters), c.changed
		c.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("testkit.Clock: %d pending After calls, want %d, after %v", have, n, DefaultTimeout)
		}
	}
}

func (c *Clock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}
