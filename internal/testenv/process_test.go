//go:build unix

package testenv

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

func TestRootAndFreePort(t *testing.T) {
	root := Root(t)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("Root %s has no go.mod: %v", root, err)
	}
	seen := map[int]bool{}
	for range 5 {
		p := FreePort(t)
		if seen[p] {
			t.Fatalf("FreePort returned %d twice", p)
		}
		seen[p] = true
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("port %d not free: %v", p, err)
		}
		_ = l.Close()
	}
}

func TestStartReadyLineAndStop(t *testing.T) {
	var pid, childPid int
	t.Run("run", func(t *testing.T) {
		// The shell starts a grandchild (sleep) in the same process group: cleanup
		// must take both down. TERM is ignored by the shell, so SIGKILL is needed.
		p := Start(t, ProcessSpec{
			Name: "sh",
			Path: "/bin/sh",
			Args: []string{"-c", `trap '' TERM; sleep 60 & echo "child $!"; echo noise >&2; echo "READY http://x"; wait`},
			Ready: func(line string) bool {
				return strings.HasPrefix(line, "READY ")
			},
			Timeout: testkit.DefaultTimeout,
		})
		if p.ReadyLine != "READY http://x" {
			t.Errorf("ReadyLine = %q", p.ReadyLine)
		}
		// The ready line came on stdout; stderr is a separate pipe read by
		// its own goroutine, so "noise" may land after Start returned: wait
		// for it instead of asserting at once. Stdout's "child" line came
		// before READY on the same pipe, so it is already there.
		testkit.WaitContains(t, testkit.StringerFunc(p.Stderr), "noise", testkit.DefaultTimeout)
		if _, err := fmt.Sscanf(p.Stdout(), "child %d", &childPid); err != nil {
			t.Fatalf("stdout %q: %v", p.Stdout(), err)
		}
		pid = p.Pid
	})
	for _, id := range []int{pid, childPid} {
		if id == 0 {
			continue
		}
		// The shell was reaped by Wait; the grandchild was re-parented and
		// killed, so it is gone or a zombie of init: signal 0 must not find a
		// live process in our session beyond that. Reaping by init is not
		// ours to time: wait for it, with a generous bound.
		testkit.WaitFor(t, testkit.DefaultTimeout, func() bool {
			err := syscall.Kill(id, 0)
			return errors.Is(err, syscall.ESRCH) || isZombie(id)
		}, fmt.Sprintf("pid %d to be gone after cleanup", id))
	}
}

func isZombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(data))
	return len(f) > 2 && f[2] == "Z"
}

func TestStartReadyURL(t *testing.T) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.NotFound(w, r)
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	p := Start(t, ProcessSpec{
		Name:     "sleeper",
		Path:     "sleep",
		Args:     []string{"30"},
		ReadyURL: "http://" + l.Addr().String() + "/readyz",
		Timeout:  testkit.DefaultTimeout,
	})
	if exited, err := p.Exited(); exited {
		t.Fatalf("sleeper exited early: %v", err)
	}
}

func TestInCI(t *testing.T) {
	tests := []struct {
		val  string
		want bool
	}{{"true", true}, {"1", true}, {"TRUE", true}, {"", false}, {"false", false}}
	for _, tc := range tests {
		t.Run(tc.val, func(t *testing.T) {
			t.Setenv("CI", tc.val)
			if got := InCI(); got != tc.want {
				t.Errorf("InCI() with CI=%q = %v, want %v", tc.val, got, tc.want)
			}
		})
	}
}

// TestStopNow: Process.Stop ends the process before the test does, and
// the cleanup that runs later finds it gone.
func TestStopNow(t *testing.T) {
	p := Start(t, ProcessSpec{Name: "sleeper", Path: "sleep", Args: []string{"30"}, Timeout: testkit.DefaultTimeout})
	if exited, _ := p.Exited(); exited {
		t.Fatal("sleeper exited before Stop")
	}
	p.Stop()
	if exited, _ := p.Exited(); !exited {
		t.Fatal("Stop returned with the process still running")
	}
}
