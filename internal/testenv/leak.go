package testenv

import (
	"runtime"
	"testing"
	"time"
)

// CheckGoroutines fails t if, at cleanup, more goroutines run than when it
// was called, after letting them settle for up to settle. It prints every
// goroutine's stack on failure. Tests that use it must not run in parallel
// with others in the same binary.
func CheckGoroutines(t testing.TB, settle time.Duration) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(settle)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
