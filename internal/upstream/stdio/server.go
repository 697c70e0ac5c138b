package stdio

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
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

	// useSeq orders session activity (session.lastUse) for eviction.
	useSeq atomic.Uint64

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

// errBusy is an initialize refused for capacity or backoff, answered with
// status (503 unless set) and Retry-After (whole seconds). A refusal for a
// process cap (reason observe.ReasonProcesses) is recorded as denied, the
// others (shutdown, backoff) as failed.
type errBusy struct {
	msg        string
	retryAfter int
	status     int
	reason     observe.Reason
}

func (e *errBusy) Error() string { return e.msg }

// reserve admits a new session for owner, or says why not. It may end an
// idle session to make room (see makeRoomLocked): the caller must stop
// that victim's process before it launches the new one, so that the
// number of processes stays within MaxProcesses. The new session counts
// the initialize as a request in flight: the caller calls leave.
func (srv *Server) reserve(owner string) (s, victim *session, err error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	switch {
	case srv.closed:
		return nil, nil, &errBusy{msg: "the gateway is shutting down", retryAfter: 5, reason: observe.ReasonUnavailable}
	case srv.o.now().Before(srv.backoffUntil):
		wait := srv.backoffUntil.Sub(srv.o.now()).Seconds()
		return nil, nil, &errBusy{msg: "the upstream process keeps failing; retrying after a backoff", retryAfter: int(math.Ceil(wait)), reason: observe.ReasonUpstream}
	}
	if victim, err = srv.makeRoomLocked(owner); err != nil {
		return nil, nil, err
	}
	s = newSession(srv, owner)
	s.active = 1
	s.lastUse = srv.useSeq.Add(1)
	srv.sessions[s.id] = s
	srv.starting.Add(1)
	return s, victim, nil
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

// writeBusy answers a refused initialize and records the refusal on the
// request's observe record.
func writeBusy(w http.ResponseWriter, r *http.Request, id []byte, e *errBusy) {
	if e.reason == observe.ReasonProcesses {
		observe.Deny(r.Context(), e.reason, e.msg)
	} else {
		observe.Failed(r.Context(), e.reason, e.msg)
	}
	status := e.status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Retry-After", strconv.Itoa(max(e.retryAfter, 1)))
	mcpwire.WriteError(w, mcpwire.Errorf(status, mcpwire.CodeServerError, id, "%s", e.msg))
}
