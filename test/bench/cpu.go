//go:build bench

package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ,
// 100 on Linux).
const clockTick = 10 * time.Millisecond

// ProcessCPU is the CPU time (user + system, every thread) process pid
// has used so far, from /proc/PID/stat (proc(5): fields 14 and 15, in
// clock ticks). Over a measured window of seconds and thousands of calls
// the 10 ms resolution is well below a microsecond per call.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("CPU time of process %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("CPU time of process %d: unreadable /proc stat", pid)
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("CPU time of process %d: short /proc stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("CPU time of process %d: unreadable /proc stat", pid)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// windowCPU reads the CPU time of l.Pids when the measured window opens
// and when it closes (timers on the window's edges, not events) and sends
// the difference per process once the window has closed.
func (l Load) windowCPU(open, close time.Time) <-chan []time.Duration {
	out := make(chan []time.Duration, 1)
	if len(l.Pids) == 0 {
		out <- nil
		return out
	}
	read := func() []time.Duration {
		d := make([]time.Duration, len(l.Pids))
		for i, pid := range l.Pids {
			d[i], _ = ProcessCPU(pid) // run checked the first; a dead peer fails its calls
		}
		return d
	}
	go func() {
		time.Sleep(time.Until(open)) // the window's edges are times, not events
		before := read()
		time.Sleep(time.Until(close))
		after := read()
		for i := range after {
			after[i] -= before[i]
		}
		out <- after
	}()
	return out
}

// perCall divides each process's CPU time by calls.
func perCall(cpu []time.Duration, calls int) []time.Duration {
	if calls == 0 || cpu == nil {
		return nil
	}
	for i := range cpu {
		cpu[i] /= time.Duration(calls)
	}
	return cpu
}
