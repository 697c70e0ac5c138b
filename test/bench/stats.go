//go:build bench

package bench

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Settings are the load generator's, from the environment.
type Settings struct {
	// Workers is BENCH_CONCURRENCY (default 32): sessions in flight.
	Workers int
	// Warmup precedes every run (BENCH_WARMUP, default 1s).
	Warmup time.Duration
	// Duration is BENCH_DURATION (default 5s; "5" means seconds).
	Duration time.Duration
	// Rounds is BENCH_ROUNDS (default 3).
	Rounds int
}

// LoadSettings reads Settings from the environment.
func LoadSettings(t testing.TB) Settings {
	t.Helper()
	s := Settings{Workers: 32, Warmup: time.Second, Duration: 5 * time.Second, Rounds: 3}
	dur := func(key string, d *time.Duration) {
		v := os.Getenv(key)
		if v == "" {
			return
		}
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			v = fmt.Sprintf("%gs", n)
		}
		x, err := time.ParseDuration(v)
		if err != nil || x <= 0 {
			t.Fatalf("%s=%q: want a positive duration such as 5s", key, os.Getenv(key))
		}
		*d = x
	}
	num := func(key string, n *int) {
		if v := os.Getenv(key); v != "" {
			x, err := strconv.Atoi(v)
			if err != nil || x <= 0 {
				t.Fatalf("%s=%q: want a positive integer", key, v)
			}
			*n = x
		}
	}
	dur("BENCH_WARMUP", &s.Warmup)
	dur("BENCH_DURATION", &s.Duration)
	num("BENCH_CONCURRENCY", &s.Workers)
	num("BENCH_ROUNDS", &s.Rounds)
	return s
}

// median of xs (the mean of the middle two for an even count); NaN-free
// callers only. Zero for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Summary is one peer's results over the rounds of one workload.
type Summary struct {
	Rate, MinRate, MaxRate float64
	P50, P99               time.Duration
	Errors, OK             int
	// Exhausted counts rounds whose token pool ran out.
	Exhausted int
	// FirstError is the first failure seen, if any.
	FirstError string
}

// Summarize takes the medians over rounds and the spread of the rates.
func Summarize(rs []Result) Summary {
	var s Summary
	if len(rs) == 0 {
		return s
	}
	var rates, p50, p99 []float64
	for _, r := range rs {
		rates = append(rates, r.Rate)
		p50 = append(p50, float64(r.P50))
		p99 = append(p99, float64(r.P99))
		s.Errors += r.Errors
		s.OK += r.OK
		if r.Exhausted {
			s.Exhausted++
		}
		if s.FirstError == "" {
			s.FirstError = r.FirstError
		}
	}
	s.Rate, s.MinRate, s.MaxRate = median(rates), slices.Min(rates), slices.Max(rates)
	s.P50, s.P99 = time.Duration(median(p50)), time.Duration(median(p99))
	return s
}

// RoundRatios returns a[i]/b[i] per round, skipping rounds where b is
// zero, and their median.
func RoundRatios(a, b []Result) (ratios []float64, med float64) {
	for i := range min(len(a), len(b)) {
		if b[i].Rate > 0 {
			ratios = append(ratios, a[i].Rate/b[i].Rate)
		}
	}
	return ratios, median(ratios)
}

// roundDeltas returns f(a[i]) − f(b[i]) per round and their median.
func roundDeltas(a, b []Result, f func(Result) time.Duration) time.Duration {
	var d []float64
	for i := range min(len(a), len(b)) {
		d = append(d, float64(f(a[i])-f(b[i])))
	}
	return time.Duration(median(d))
}

// ms formats a latency in milliseconds.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// signedMS formats a latency difference in milliseconds with its sign.
func signedMS(d time.Duration) string {
	s := ms(d)
	if d >= 0 {
		s = "+" + s
	}
	return s
}

// rate formats calls per second.
func rate(r float64) string { return strconv.FormatFloat(r, 'f', 0, 64) }

// ratioList formats per-round ratios as "0.91, 0.93, 0.90".
func ratioList(rs []float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = strconv.FormatFloat(r, 'f', 2, 64)
	}
	return strings.Join(parts, ", ")
}
