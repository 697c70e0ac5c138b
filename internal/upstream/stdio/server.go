package stdio

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

// Server is the Streamable HTTP handler of one stdio route: it runs one
// child process per MCP session (see the package doc for every decision).
// It must sit behind the gateway's bearer middleware and call.Read, which
// store the verified principal and the parsed body in the request context
// (call.From); without a principal every request gets 401, and a POST
// without a parsed body gets 500. It does not check Origin, scopes or
// tokens.
type Server struct {
	o Options

	mu           sync.Mutex
	sessions     map[string]*session
	closed       bool
	failures     int       // consecutive process failures
	backoffUntil time.Time // no new process before this

	starting sync.WaitGroup // sessions whose process is being started
	wg       sync.WaitGroup // goroutines of processes and cancellations
}

var _ http.Handler = (*Server)(nil)

// New returns the handler for a stdio MCP server with o's command and
// limits. It starts nothing: processes start with sessions.
func New(o Options) (*Server, error) {
	if err := o.applyDefaults(); err != nil {
		return nil, err
	}
	return &Server{o: o, sessions: map[string]*session{}}, nil
}

// Sessions returns the number of live sessions, i.e. of processes.
func (srv *Server) Sessions() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return len(srv.sessions)
}

// Close ends every session, stops every child (stdin closed, SIGTERM to its
// process group, SIGKILL after Options.StopTimeout), reaps them, and waits
// for the goroutines the Server started. Requests still streaming get a
// JSON-RPC error. Later requests get 503. Close is idempotent.
func (srv *Server) Close() error {
	srv.mu.Lock()
	srv.closed = true
	srv.mu.Unlock()
	srv.starting.Wait()
	srv.mu.Lock()
	list := make([]*session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		list = append(list, s)
	}
	srv.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.end(http.StatusServiceUnavailable, "the gateway is shutting down")
			s.stop()
		}()
	}
	wg.Wait()
	srv.wg.Wait()
	return nil
}

// remove takes an ended session out of the table.
func (srv *Server) remove(s *session) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.sessions[s.id] == s {
		delete(srv.sessions, s.id)
	}
}

// errBusy is an initialize refused for capacity or backoff; retryAfter is
// in whole seconds.
type errBusy struct {
	msg        string
	retryAfter int
}

func (e *errBusy) Error() string { return e.msg }

// reserve admits a new session or says why not.
func (srv *Server) reserve(owner string) (*session, error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	switch {
	case srv.closed:
		return nil, &errBusy{"the gateway is shutting down", 5}
	case srv.o.now().Before(srv.backoffUntil):
		wait := srv.backoffUntil.Sub(srv.o.now()).Seconds()
		return nil, &errBusy{"the upstream process keeps failing; retrying after a backoff", int(math.Ceil(wait))}
	case len(srv.sessions) >= srv.o.MaxProcesses:
		return nil, &errBusy{fmt.Sprintf("this route runs at most %d upstream processes", srv.o.MaxProcesses), 1}
	}
	s := newSession(srv, owner)
	srv.sessions[s.id] = s
	srv.starting.Add(1)
	return s, nil
}

// launch starts the process of a reserved session with ident (the
// caller's identity variables) in its environment.
func (srv *Server) launch(s *session, ident map[string]string) error {
	defer srv.starting.Done()
	env := childEnv(srv.o.Env, ident)
	proc, err := startProcess(srv.o.Command, env, srv.o.Dir, srv.o.MaxMessageBytes, srv.o.now, s.log, &srv.wg,
		s.fromChild, func(proc *process, err error) { srv.exited(s, proc, err) })
	if err != nil {
		srv.recordExit(true, false, 0)
		s.end(http.StatusBadGateway, "upstream process could not be started")
		return err
	}
	s.mu.Lock()
	s.proc = proc
	ended := s.ended
	s.mu.Unlock()
	if ended { // Close ran meanwhile
		proc.stop(srv.o.StopTimeout)
		return errors.New("stdio: the gateway is shutting down")
	}
	s.log.Info("stdio upstream: process started", "pid", proc.pid)
	return nil
}

// exited handles a child's exit: the session ends (see the package doc).
func (srv *Server) exited(s *session, p *process, err error) {
	crashed := !p.stopRequested()
	s.mu.Lock()
	answered := s.answered
	s.mu.Unlock()
	srv.recordExit(crashed, answered, srv.o.now().Sub(p.started))
	if crashed {
		s.log.Warn("stdio upstream: process exited", "pid", p.pid, "err", err, "initialized", answered)
	} else {
		s.log.Info("stdio upstream: process stopped", "pid", p.pid)
	}
	s.end(http.StatusBadGateway, "upstream process exited")
}

// recordExit updates the restart backoff (see the package doc).
func (srv *Server) recordExit(crashed, answered bool, uptime time.Duration) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if !crashed {
		srv.failures = 0
		return
	}
	if !answered || uptime < stableRun {
		srv.failures++
	} else {
		srv.failures = 1
	}
	d := srv.o.RestartBackoff
	for i := 1; i < srv.failures && d < MaxRestartBackoff; i++ {
		d *= 2
	}
	d = min(d, MaxRestartBackoff)
	srv.backoffUntil = srv.o.now().Add(d)
}

func writeBusy(w http.ResponseWriter, id []byte, e *errBusy) {
	w.Header().Set("Retry-After", strconv.Itoa(max(e.retryAfter, 1)))
	mcpwire.WriteError(w, mcpwire.Errorf(http.StatusServiceUnavailable, mcpwire.CodeServerError, id, "%s", e.msg))
}
