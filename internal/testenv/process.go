//go:build unix

package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DefaultStartTimeout bounds how long Start waits for readiness.
const DefaultStartTimeout = 30 * time.Second

// stopGrace is how long a stopped process gets between SIGTERM and SIGKILL.
const stopGrace = 5 * time.Second

// ProcessSpec describes a process for Start.
type ProcessSpec struct {
	// Name prefixes every logged line ("[Name] ...").
	Name string
	// Path is the program (looked up on PATH when it has no slash).
	Path string
	// Args are the program's arguments.
	Args []string
	// Env entries ("K=V") are added to the test's environment, from which
	// inherited MCPGW_* and MCPDCR_* variables are removed.
	Env []string
	// Dir is the working directory; empty means a fresh t.TempDir(), so that
	// no stray .env or config file is picked up.
	Dir string
	// Ready, when set, is called with every output line (stdout and stderr);
	// the process is ready at the first line for which it returns true.
	Ready func(line string) bool
	// ReadyURL, when set, is polled with GET until it answers 200.
	// With both Ready and ReadyURL, both must be satisfied; with neither, the
	// process counts as ready once started.
	ReadyURL string
	// Timeout bounds the wait for readiness; zero means DefaultStartTimeout.
	Timeout time.Duration
}

// Process is a running process started by Start.
type Process struct {
	// Name is the spec's name.
	Name string
	// Pid is the process id (also its process group id).
	Pid int
	// ReadyLine is the output line that satisfied ProcessSpec.Ready, if any.
	ReadyLine string

	t      testing.TB
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // valid once exited is closed

	mu       sync.Mutex
	stdout   bytes.Buffer
	stderr   bytes.Buffer
	quiet    bool // test is over: stop logging
	readyFn  func(string) bool
	readyHit chan string
}

// Start starts spec in its own process group, streams its output to the test
// log (and to buffers, see Stdout, Stderr and Output), waits until it is ready,
// and registers a cleanup that sends SIGTERM to the group, waits briefly, and
// then sends SIGKILL. It fails the test if the process exits or times out
// before it is ready.
func Start(t testing.TB, spec ProcessSpec) *Process {
	t.Helper()
	if spec.Name == "" {
		spec.Name = spec.Path
	}
	if spec.Timeout == 0 {
		spec.Timeout = DefaultStartTimeout
	}
	if spec.Dir == "" {
		spec.Dir = t.TempDir()
	}
	p := &Process{
		Name:     spec.Name,
		t:        t,
		exited:   make(chan struct{}),
		readyFn:  spec.Ready,
		readyHit: make(chan string, 1),
	}
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Dir = spec.Dir
	cmd.Env = cleanEnv(spec.Env)
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stdout = &lineWriter{p: p, buf: &p.stdout}
	cmd.Stderr = &lineWriter{p: p, buf: &p.stderr, prefix: "stderr: "}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", spec.Name, err)
	}
	p.cmd = cmd
	p.Pid = cmd.Process.Pid
	t.Logf("[%s] started pid %d: %s %s", spec.Name, p.Pid, spec.Path, strings.Join(spec.Args, " "))
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.stop)

	deadline := time.Now().Add(spec.Timeout)
	if spec.Ready != nil {
		select {
		case line := <-p.readyHit:
			p.ReadyLine = line
		case <-p.exited:
			t.Fatalf("%s exited before it was ready: %v\n%s", spec.Name, p.err, p.Output())
		case <-time.After(time.Until(deadline)):
			t.Fatalf("%s: no ready line within %v\n%s", spec.Name, spec.Timeout, p.Output())
		}
	}
	if spec.ReadyURL != "" {
		if err := p.pollURL(spec.ReadyURL, deadline); err != nil {
			t.Fatalf("%s: %v\n%s", spec.Name, err, p.Output())
		}
	}
	t.Logf("[%s] ready", spec.Name)
	return p
}

// WaitURL polls url with GET until it answers 200 or timeout passes.
func WaitURL(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	if err := pollURL(url, time.Now().Add(timeout), nil); err != nil {
		t.Fatal(err)
	}
}

func (p *Process) pollURL(url string, deadline time.Time) error {
	return pollURL(url, deadline, p.exited)
}

func pollURL(url string, deadline time.Time, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	var last string
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-exited:
			return fmt.Errorf("exited while waiting for %s (last: %s)", url, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not 200 before the deadline (last: %s)", url, last)
}

// Stdout returns everything the process wrote to stdout so far.
func (p *Process) Stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

// Stderr returns everything the process wrote to stderr so far.
func (p *Process) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// Output returns stdout and stderr, labelled, for failure messages.
func (p *Process) Output() string {
	return fmt.Sprintf("--- %s stdout ---\n%s--- %s stderr ---\n%s", p.Name, p.Stdout(), p.Name, p.Stderr())
}

// Exited reports whether the process has exited, and its Wait error if so.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.exited:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop stops the process now, as the test's cleanup would: SIGTERM to its
// process group, then SIGKILL after a grace period; it returns once the
// process has exited. The cleanup then has nothing left to do.
func (p *Process) Stop() { p.stop() }

// stop sends SIGTERM to the process group, then SIGKILL after stopGrace.
func (p *Process) stop() {
	select {
	case <-p.exited:
		p.t.Logf("[%s] had already exited: %v", p.Name, p.err)
	default:
		_ = syscall.Kill(-p.Pid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(stopGrace):
			p.t.Logf("[%s] still running %v after SIGTERM: SIGKILL", p.Name, stopGrace)
			_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
			<-p.exited
		}
		var exitErr *exec.ExitError
		if p.err != nil && !errors.As(p.err, &exitErr) {
			p.t.Logf("[%s] wait: %v", p.Name, p.err)
		}
		p.t.Logf("[%s] stopped: %v", p.Name, p.err)
	}
	p.mu.Lock()
	p.quiet = true
	p.mu.Unlock()
}

// lineWriter splits a stream into lines: each goes to the buffer, the test
// log, and the readiness check.
type lineWriter struct {
	p       *Process
	buf     *bytes.Buffer
	prefix  string
	partial []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	p := w.p
	p.mu.Lock()
	w.buf.Write(b)
	w.partial = append(w.partial, b...)
	var lines []string
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, strings.TrimRight(string(w.partial[:i]), "\r"))
		w.partial = w.partial[i+1:]
	}
	quiet := p.quiet
	p.mu.Unlock()
	for _, line := range lines {
		if !quiet {
			p.t.Logf("[%s] %s%s", p.Name, w.prefix, line)
		}
		if p.readyFn != nil && p.readyFn(line) {
			select {
			case p.readyHit <- line:
			default:
			}
		}
	}
	return len(b), nil
}
