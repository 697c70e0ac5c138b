package gateway

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"
)

// BenchmarkKeepAliveIdleStream reports the memory (heap and stacks) that
// keep-alives add to an idle event stream (B/stream): b.N streams whose
// handlers wait with their status line written, with keep-alives on,
// against the same streams with keep-alives off.
func BenchmarkKeepAliveIdleStream(b *testing.B) {
	held := func(k keepAlive) float64 {
		release := make(chan struct{})
		var started, done sync.WaitGroup
		h := k.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			sseHeader(w)
			started.Done()
			<-release
		}))
		before := inUse()
		for range b.N {
			started.Add(1)
			done.Add(1)
			go func() {
				defer done.Done()
				h.ServeHTTP(newFakeWriter(), httptestRequest(context.Background()))
			}()
		}
		started.Wait()
		after := inUse()
		close(release)
		done.Wait()
		return (after - before) / float64(b.N)
	}
	off := held(keepAlive{})
	on := held(keepAlive{every: time.Hour, now: time.Now})
	b.ReportMetric(on-off, "B/stream")
}

// inUse is the live heap and the goroutine stacks after a full collection.
func inUse() float64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc + m.StackInuse)
}
