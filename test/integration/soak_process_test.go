//go:build soak && unix

package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// soakSample is one measurement of the gateway process.
type soakSample struct {
	at         time.Time
	goroutines int // go_goroutines from its /metrics
	heapKiB    int // go_memstats_heap_inuse_bytes from its /metrics
	fds        int // entries of /proc/<pid>/fd
	rssKiB     int // VmRSS of /proc/<pid>/status
	children   int // processes whose parent it is (stdio upstreams)
}

// soakProbe measures the gateway process pid, reading goroutines from
// metricsURL (the Prometheus Go collector's go_goroutines).
type soakProbe struct {
	pid        int
	metricsURL string
	client     *http.Client

	mu   sync.Mutex
	peak soakSample
}

func newSoakProbe(pid int, metricsURL string) *soakProbe {
	return &soakProbe{pid: pid, metricsURL: metricsURL, client: &http.Client{Timeout: 10 * time.Second}}
}

// sample measures now and raises the peaks.
func (p *soakProbe) sample() (soakSample, error) {
	s := soakSample{at: time.Now()}
	var err error
	if s.goroutines, s.heapKiB, err = p.runtime(); err != nil {
		return s, err
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.pid))
	if err != nil {
		return s, err
	}
	s.fds = len(ents)
	if s.rssKiB, err = soakRSS(p.pid); err != nil {
		return s, err
	}
	s.children = soakChildren(p.pid)
	p.mu.Lock()
	p.peak.goroutines = max(p.peak.goroutines, s.goroutines)
	p.peak.fds = max(p.peak.fds, s.fds)
	p.peak.rssKiB = max(p.peak.rssKiB, s.rssKiB)
	p.peak.heapKiB = max(p.peak.heapKiB, s.heapKiB)
	p.peak.children = max(p.peak.children, s.children)
	p.mu.Unlock()
	return s, nil
}

// peaks returns the highest values sampled so far.
func (p *soakProbe) peaks() soakSample {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

// watch samples every interval until ctx ends, keeping the peaks; a failed
// sample is skipped (the gateway is checked at the end).
func (p *soakProbe) watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = p.sample()
		}
	}
}

// runtime reads go_goroutines and go_memstats_heap_inuse_bytes (in KiB)
// from the gateway's /metrics (the Prometheus Go collector).
func (p *soakProbe) runtime() (goroutines, heapKiB int, err error) {
	resp, err := p.client.Get(p.metricsURL)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET %s: %s", p.metricsURL, resp.Status)
	}
	want := map[string]float64{"go_goroutines": -1, "go_memstats_heap_inuse_bytes": -1}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if _, wanted := want[name]; ok && wanted {
			if want[name], err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
				return 0, 0, fmt.Errorf("GET %s: %s: %w", p.metricsURL, name, err)
			}
		}
	}
	for name, v := range want {
		if v < 0 {
			return 0, 0, fmt.Errorf("GET %s: no %s (is the Go collector registered?)", p.metricsURL, name)
		}
	}
	return int(want["go_goroutines"]), int(want["go_memstats_heap_inuse_bytes"] / 1024), nil
}

// soakRSS reads VmRSS (KiB) of pid.
func soakRSS(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
}

// soakChildren counts the live processes whose parent is pid.
func soakChildren(pid int) int { return len(soakChildList(pid)) }

// soakChildList describes the live processes whose parent is pid: pid,
// state and command line.
func soakChildList(pid int) []string {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []string
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(data[i+1:]))
		if len(fields) > 1 && fields[0] != "Z" && fields[1] == strconv.Itoa(pid) {
			dir := filepath.Dir(f)
			cmd, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
			out = append(out, fmt.Sprintf("pid %s (%s): %s", filepath.Base(dir), fields[0], bytes.ReplaceAll(bytes.TrimRight(cmd, "\x00"), []byte{0}, []byte{' '})))
		}
	}
	return out
}
