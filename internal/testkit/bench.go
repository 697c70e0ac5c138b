//go:build unix

package testkit

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// HeapInUse is the live heap in bytes after two full collections (the
// second finishes sweeping what the first freed), for benchmarks that
// report the memory a setup holds as a difference of two readings.
func HeapInUse() float64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc)
}

// StackInUse is the memory of goroutine stacks in bytes, which HeapInUse
// does not count.
func StackInUse() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.StackInuse)
}

// CPUTime is the process's CPU time so far (user and system, every
// thread). Unlike wall time it does not grow while other processes hold
// the CPUs, so it is the steadier measure on a shared machine.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ReportCPU, called just before a benchmark's loop, returns the function
// to call after it, which reports the process's CPU time per iteration as
// the metric cpu-ns/op (garbage collection and helper goroutines
// included).
func ReportCPU(b *testing.B) func() {
	start := CPUTime()
	return func() { b.ReportMetric(float64((CPUTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op") }
}
