package testkit

import (
	"runtime"
	"testing"
)

// CheckGoroutines records how many goroutines run now and registers a
// cleanup that waits until no more than that many run again, failing t with
// every goroutine's stack if that does not happen within DefaultTimeout (a
// bound on a real leak, not a settle time: a clean test returns as soon as
// the count is back). Call it first in the test, so that the cleanup runs
// after the test's other cleanups. Tests that use it must not run in
// parallel with others in the same binary.
func CheckGoroutines(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		var n int
		if Poll(DefaultTimeout, func() bool { n = runtime.NumGoroutine(); return n <= before }) {
			return
		}
		buf := make([]byte, 1<<20)
		t.Errorf("goroutine leak: %d before, %d after %v\n%s", before, n, DefaultTimeout, buf[:runtime.Stack(buf, true)])
	})
}
