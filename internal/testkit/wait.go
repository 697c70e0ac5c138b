package testkit

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// DefaultTimeout is the failure bound the kit uses when it picks one (Clock,
// CheckGoroutines), and a good value for WaitFor, WaitContains and Recv. It
// is deliberately generous: it bounds how long a broken test hangs on a
// loaded machine; a passing test never waits for it.
const DefaultTimeout = 30 * time.Second

// maxPoll caps the pause between two checks of a polled condition.
const maxPoll = 100 * time.Millisecond

// WaitFor polls cond until it returns true and fails t (Fatal) if it is
// still false after timeout, a failure bound and not an expected duration.
// what names the awaited condition in the failure message ("the server to
// log its address"). Call it from the test goroutine only.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// Poll polls cond until it returns true (then Poll returns true) or timeout
// passes (then false). For helpers that report the failure themselves.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return cond()
		}
		time.Sleep(pause)
		pause = min(2*pause, maxPoll)
	}
}

// WaitContains waits until s.String() contains substr (a SafeBuffer the code
// under test writes to, say) and fails t (Fatal) with what it holds if it
// still does not after timeout. It returns the content that matched.
func WaitContains(t testing.TB, s fmt.Stringer, substr string, timeout time.Duration) string {
	t.Helper()
	var last string
	if !Poll(timeout, func() bool { last = s.String(); return strings.Contains(last, substr) }) {
		t.Fatalf("timed out after %v waiting for %q in:\n%s", timeout, substr, last)
	}
	return last
}

// StringerFunc adapts a func() string (such as a Process's Stderr method) to
// fmt.Stringer for WaitContains.
type StringerFunc func() string

// String calls f.
func (f StringerFunc) String() string { return f() }

// Recv waits for a value on ch and returns it; it fails t (Fatal) if none
// arrives within timeout or ch is closed first. what names the awaited
// event in the failure message.
func Recv[T any](t testing.TB, ch <-chan T, timeout time.Duration, what string) T {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("channel closed while waiting for %s", what)
		}
		return v
	case <-timer.C:
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
	panic("unreachable")
}

// WaitDone waits until done is closed (or delivers a value): a ctx.Done(),
// or a chan struct{} the code under test closes to signal an event. It
// fails t (Fatal) if that does not happen within timeout. what names the
// awaited event in the failure message.
func WaitDone(t testing.TB, done <-chan struct{}, timeout time.Duration, what string) {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// WaitClosed waits until nothing accepts TCP connections on addr (a
// server's listener was closed), failing t after DefaultTimeout. what names
// the server in the failure message.
func WaitClosed(t testing.TB, addr, what string) {
	t.Helper()
	WaitFor(t, DefaultTimeout, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true
		}
		_ = c.Close()
		return false
	}, what+" to stop listening on "+addr)
}
