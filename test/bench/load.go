//go:build bench

package bench

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ProtocolVersion is the MCP version the load generator initializes with:
// a 2025 generation with Mcp-Session-Id sessions, which every peer serves.
const ProtocolVersion = "2025-06-18"

// Tokens supplies the bearer token of each call. Next reports false once
// it has none left.
type Tokens interface{ Next() (string, bool) }

// SameToken presents one token on every call.
type SameToken string

// Next returns the token.
func (s SameToken) Next() (string, bool) { return string(s), true }

// TokenPool hands out each of its tokens once, in order.
type TokenPool struct {
	toks []string
	next atomic.Int64
}

// NewTokenPool returns a pool over toks (not copied).
func NewTokenPool(toks []string) *TokenPool { return &TokenPool{toks: toks} }

// Next returns the next unused token, or false when all are used.
func (p *TokenPool) Next() (string, bool) {
	j := p.next.Add(1) - 1
	if j >= int64(len(p.toks)) {
		return "", false
	}
	return p.toks[j], true
}

// Load is the load generator: Workers MCP sessions, each driven by its own
// goroutine, over one fresh http.Transport per run. Every call is a
// tools/call of "echo" whose reply must carry the message sent.
type Load struct {
	// Workers is the number of sessions (and goroutines).
	Workers int
	// Warmup runs before measurement starts; calls started in it are not
	// counted.
	Warmup time.Duration
	// Duration is the measured time.
	Duration time.Duration
	// SetupToken authenticates initialize and the session teardown.
	SetupToken string
	// Pids are the processes whose CPU time per call a run reports
	// (Result.CPU); nil reports none.
	Pids []int
}

// Result is one measured run.
type Result struct {
	// OK counts correct replies to calls started in the measured window;
	// Errors counts the rest (HTTP status, transport, JSON-RPC error,
	// wrong text).
	OK, Errors int
	// Elapsed is the measured window: Duration, or less when the token
	// pool ran out (Exhausted); at a fixed rate the peer could not keep
	// up with, the time until the last call due in the window was served.
	Elapsed time.Duration
	// Rate is OK per second of Elapsed.
	Rate float64
	// P50 and P99 are latencies of correct replies: from the send time in
	// a saturation run, from the scheduled send time in a fixed-rate run.
	P50, P99 time.Duration
	// Exhausted: the token pool ran out before the window ended; the run
	// stopped there rather than reuse a token.
	Exhausted bool
	// FirstError describes the first failed call, if any.
	FirstError string
	// CPU is, per process of Load.Pids, the CPU time (user + system) it
	// spent in the measured window divided by the calls that window
	// served: what one call costs each process, whatever else the
	// machine does.
	CPU []time.Duration
}

// Saturate runs closed-loop: every worker calls again as soon as its
// previous call returns, for Warmup then Duration.
func (l Load) Saturate(url string, toks Tokens) (Result, error) {
	return l.run(url, toks, 0)
}

// FixedRate runs open-loop at rate calls per second in total: call i is
// scheduled at start + i/rate and taken by the next free worker; its
// latency counts from the scheduled time, so time spent waiting for a free
// worker counts too (no coordinated omission).
func (l Load) FixedRate(url string, toks Tokens, rate float64) (Result, error) {
	if rate <= 0 {
		return Result{}, fmt.Errorf("rate %v", rate)
	}
	return l.run(url, toks, time.Duration(float64(time.Second)/rate))
}

// run drives the sessions; interval zero means closed loop.
func (l Load) run(url string, toks Tokens, interval time.Duration) (Result, error) {
	if l.Pids != nil {
		if _, err := ProcessCPU(l.Pids[0]); err != nil {
			return Result{}, err
		}
	}
	tr := &http.Transport{MaxIdleConns: 4 * l.Workers, MaxIdleConnsPerHost: 2 * l.Workers, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	sessions := make([]*Session, l.Workers)
	for w := range sessions {
		s, err := Open(client, url, l.SetupToken)
		if err != nil {
			return Result{}, fmt.Errorf("session %d: %w", w, err)
		}
		sessions[w] = s
	}
	defer func() {
		for _, s := range sessions {
			s.Close(l.SetupToken)
		}
	}()

	start := time.Now()
	measure := start.Add(l.Warmup)
	end := measure.Add(l.Duration)
	cpu := l.windowCPU(measure, end)
	var (
		mu        sync.Mutex
		lat       []time.Duration
		res       Result
		exhausted = end
		lastDone  time.Time
		slot      atomic.Int64
		wg        sync.WaitGroup
	)
	for w, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			timer := time.NewTimer(time.Hour)
			timer.Stop()
			var mine []time.Duration
			var ok, bad int
			var firstErr string
			ranOut := end
			var last time.Time
			for seq := 0; ; seq++ {
				sent := time.Now()
				if interval > 0 {
					sent = start.Add(time.Duration(slot.Add(1)-1) * interval)
					if d := time.Until(sent); d > 0 {
						timer.Reset(d)
						<-timer.C
					}
				}
				if !sent.Before(end) {
					break
				}
				tok, more := toks.Next()
				if !more {
					ranOut = sent
					break
				}
				msg := fmt.Sprintf("w%d-%d", w, seq)
				err := s.Echo(tok, int64(seq+1), msg)
				done := time.Now()
				if sent.Before(measure) {
					continue
				}
				if err != nil {
					bad++
					if firstErr == "" {
						firstErr = err.Error()
					}
					continue
				}
				ok++
				mine = append(mine, done.Sub(sent))
				last = done
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, mine...)
			res.OK += ok
			res.Errors += bad
			if res.FirstError == "" {
				res.FirstError = firstErr
			}
			if ranOut.Before(exhausted) {
				exhausted = ranOut
			}
			if last.After(lastDone) {
				lastDone = last
			}
		}()
	}
	wg.Wait()
	res.CPU = perCall(<-cpu, res.OK+res.Errors)
	res.Elapsed = l.Duration
	if late := lastDone.Sub(measure); interval > 0 && late > res.Elapsed {
		// Open loop behind schedule: the calls due in the window took
		// longer than the window to serve.
		res.Elapsed = late
	}
	if exhausted.Before(end) {
		res.Exhausted = true
		res.Elapsed = max(exhausted.Sub(measure), 0)
	}
	if res.Elapsed > 0 {
		res.Rate = float64(res.OK) / res.Elapsed.Seconds()
	}
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		res.P50, res.P99 = lat[(n-1)/2], lat[(n-1)*99/100]
	}
	return res, nil
}
