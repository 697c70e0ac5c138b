package oauthcli

import (
	"fmt"
	"io"
	"sync"
)

// Steps numbers and prints a run's steps on one writer (stderr): the
// HTTP exchanges a Transport reports and the program's own steps. It is
// safe for concurrent use. It prints what it is given: callers pass no
// token, code or secret (Transport elides them from URLs and never prints
// headers other than WWW-Authenticate, nor bodies).
type Steps struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

// NewSteps returns a step log that writes to w.
func NewSteps(w io.Writer) *Steps { return &Steps{w: w} }

// Step prints "step N: <message>", N counting from 1.
func (s *Steps) Step(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	fmt.Fprintf(s.w, "step %d: %s\n", s.n, fmt.Sprintf(format, args...))
}

// Detail prints an indented line that belongs to the last step.
func (s *Steps) Detail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, "        %s\n", fmt.Sprintf(format, args...))
}

// Line prints a line as is (the "open: <url>" line).
func (s *Steps) Line(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format+"\n", args...)
}

// OrNone returns s, or "(none)" when s is empty.
func OrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
