package testkit_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

func TestClockAfterFiresOnAdvance(t *testing.T) {
	start := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	c := testkit.NewClock(start)
	short, long := c.After(time.Second), c.After(time.Minute)
	if n := c.Waiters(); n != 2 {
		t.Fatalf("Waiters = %d, want 2", n)
	}
	c.Advance(999 * time.Millisecond)
	select {
	case <-short:
		t.Fatal("After(1s) fired after 999ms")
	default:
	}
	c.Advance(time.Millisecond)
	if got := <-short; !got.Equal(start.Add(time.Second)) {
		t.Fatalf("After(1s) delivered %v", got)
	}
	if n := c.Waiters(); n != 1 {
		t.Fatalf("Waiters = %d, want 1", n)
	}
	c.Set(start.Add(time.Hour))
	<-long
	if got := c.Since(start); got != time.Hour {
		t.Fatalf("Since = %v", got)
	}
	<-c.After(0) // fires at once
}

func TestWaitDone(t *testing.T) {
	done := make(chan struct{})
	go close(done)
	testkit.WaitDone(t, done, testkit.DefaultTimeout, "close")
}

func TestClockWaitForWaiters(t *testing.T) {
	c := testkit.NewClock(time.Unix(0, 0))
	done := make(chan time.Time)
	go func() { done <- <-c.After(time.Minute) }()
	c.WaitForWaiters(t, 1)
	c.Advance(time.Minute)
	if got := testkit.Recv(t, done, testkit.DefaultTimeout, "the timer"); !got.Equal(time.Unix(60, 0)) {
		t.Fatalf("got %v", got)
	}
}

func TestSafeBufferAndWaitContains(t *testing.T) {
	var b testkit.SafeBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { fmt.Fprintf(&b, "line %d\n", i) })
	}
	testkit.WaitContains(t, &b, "line 7\n", testkit.DefaultTimeout)
	wg.Wait()
	if b.Len() != 8*len("line 0\n") || len(b.Bytes()) != b.Len() {
		t.Fatalf("buffer holds %q", b.String())
	}
	b.Reset()
	if b.String() != "" {
		t.Fatal("Reset left data")
	}
	testkit.WaitContains(t, testkit.StringerFunc(func() string { return "abc" }), "b", time.Second)
}

func TestPoll(t *testing.T) {
	n := 0
	if !testkit.Poll(testkit.DefaultTimeout, func() bool { n++; return n == 3 }) {
		t.Fatal("Poll gave up")
	}
	if testkit.Poll(0, func() bool { return false }) {
		t.Fatal("Poll of a false condition returned true")
	}
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool { return n == 3 }, "n == 3")
}

func TestGolden(t *testing.T) {
	if testkit.Update() {
		t.Skip("compares against files the test writes itself")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "x.golden")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, path, []byte("a\nb\n"))
	if err := os.WriteFile(path, []byte("{\n  \"k\": 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testkit.GoldenJSON(t, path, map[string]int{"k": 1})
}

func TestCheckGoroutinesWaitsForExit(t *testing.T) {
	testkit.CheckGoroutines(t)
	release := make(chan struct{})
	go func() { <-release }()
	// The goroutine is still running when the test body ends; it exits
	// right after, and the cleanup must wait for that rather than fail.
	t.Cleanup(func() { close(release) })
}
