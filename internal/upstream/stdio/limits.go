package stdio

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
)

// Why an evicted session ended; a request on it later gets 404, which
// tells its client to initialize again.
const (
	reasonEvictedOwn    = "session ended: its user opened a newer session"
	reasonEvictedGlobal = "session ended: the route needed its process for another session"
)

// sessionUse is what makeRoomLocked reads of one session.
type sessionUse struct {
	s       *session
	idle    bool   // no HTTP request of it in flight, not ended
	lastUse uint64 // order of its last activity
}

// makeRoomLocked applies Options.MaxProcessesPerPrincipal and
// MaxProcesses to a new session of owner (srv.mu held). When owner already
// holds MaxProcessesPerPrincipal sessions, its least recently used idle
// session is ended, else 429. When the route holds MaxProcesses sessions,
// owner's own least recently used idle session is ended first; else that
// of the principal holding the most sessions among those with an idle one
// and more sessions than owner (so that one principal can never push out
// a principal holding fewer); else 503. "Idle" means no HTTP request of
// the session in flight right now, so pings do not keep a session busy;
// "least recently used" is the order in which requests last entered or
// left. The victim is ended and out of the table; the caller stops its
// process. Sessions still starting count as busy.
func (srv *Server) makeRoomLocked(owner string) (*session, error) {
	perOwner := map[string]int{}
	idle := map[string][]sessionUse{}
	for _, s := range srv.sessions {
		perOwner[s.owner]++
		s.mu.Lock()
		u := sessionUse{s: s, idle: s.active == 0 && !s.ended, lastUse: s.lastUse}
		s.mu.Unlock()
		if u.idle {
			idle[s.owner] = append(idle[s.owner], u)
		}
	}
	for _, list := range idle {
		slices.SortFunc(list, func(a, b sessionUse) int { return cmp.Compare(a.lastUse, b.lastUse) })
	}
	mine := perOwner[owner]
	switch {
	case mine >= srv.o.MaxProcessesPerPrincipal:
		if v := srv.evictFirstLocked(idle[owner], reasonEvictedOwn); v != nil {
			return v, nil
		}
		return nil, &errBusy{
			msg:    fmt.Sprintf("this user already has %d sessions on this route, all of them busy; end one (DELETE) or retry later", mine),
			status: http.StatusTooManyRequests, retryAfter: 1, reason: observe.ReasonProcesses,
		}
	case len(srv.sessions) >= srv.o.MaxProcesses:
		if v := srv.evictFirstLocked(idle[owner], reasonEvictedOwn); v != nil {
			return v, nil
		}
		// Principals holding more sessions than owner, most first (ties:
		// the one with the oldest idle session).
		var others []string
		for o := range idle {
			if o != owner && perOwner[o] > mine {
				others = append(others, o)
			}
		}
		slices.SortFunc(others, func(a, b string) int {
			if c := cmp.Compare(perOwner[b], perOwner[a]); c != 0 {
				return c
			}
			return cmp.Compare(idle[a][0].lastUse, idle[b][0].lastUse)
		})
		for _, o := range others {
			if v := srv.evictFirstLocked(idle[o], reasonEvictedGlobal); v != nil {
				return v, nil
			}
		}
		return nil, &errBusy{
			msg:        fmt.Sprintf("this route runs at most %d upstream processes", srv.o.MaxProcesses),
			retryAfter: 1, reason: observe.ReasonProcesses,
		}
	}
	return nil, nil
}

// evictFirstLocked ends the first session of list that is still idle
// and takes it out of the table (srv.mu held); nil if none is.
func (srv *Server) evictFirstLocked(list []sessionUse, reason string) *session {
	for _, u := range list {
		s := u.s
		s.mu.Lock()
		ok := s.active == 0 && s.endLocked(http.StatusNotFound, reason)
		s.mu.Unlock()
		if ok {
			delete(srv.sessions, s.id)
			return s
		}
	}
	return nil
}

// initTimedOut reports whether the initialize request timed out.
func (s *session) initTimedOut() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.initLate
}

// armDeadlineLocked starts the Options.Timeout deadline of a new POST
// stream (s.mu held).
func (s *session) armDeadlineLocked(st *stream) {
	st.opened = s.srv.o.now()
	st.deadline = s.srv.o.afterFunc(s.srv.o.Timeout, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.timeoutLocked(st)
	})
}

// timeoutLocked ends the wait of a POST stream whose deadline passed
// before the child sent anything for it: each of its requests gets a
// JSON-RPC error (the handler answers 504) and the child gets
// notifications/cancelled for it (MCP 2025-11-25, "Cancellation"), except
// for initialize, which must not be cancelled (the handler ends that
// session instead). Answers the child sends later are dropped; the session
// goes on. A stream that started is left alone.
func (s *session) timeoutLocked(st *stream) {
	if s.ended || st.next > 0 || len(st.pending) == 0 || s.streams[st.id] != st {
		return
	}
	msg := fmt.Sprintf("upstream timed out: no answer within %s", s.srv.o.Timeout)
	var cancels [][]byte
	for k, raw := range st.pending {
		st.appendLocked(mcpwire.ErrorBody(raw, mcpwire.CodeInternalError, msg, nil), false)
		if k == s.initID && !s.answered {
			s.initLate = true
		} else {
			cancels = append(cancels, mcpwire.CancelledNotification(raw, "the gateway's timeout passed"))
		}
		if s.byRequest[k] == st {
			delete(s.byRequest, k)
		}
	}
	clear(st.pending)
	s.unregisterTokensLocked(st)
	st.timedOut = true
	if !st.attached { // nothing was sent, so nobody can resume it
		s.forgetLocked(st)
	}
	s.log.Warn("stdio upstream: request timed out", "timeout", s.srv.o.Timeout, "requests", len(cancels))
	s.sendLocked(cancels)
}

// recordFailure records, on the request's observe record, why a POST
// stream was answered with status before the child sent anything for it.
func (s *session) recordFailure(r *http.Request, st *stream, status int) {
	ctx := r.Context()
	latency := s.srv.o.now().Sub(st.opened)
	switch status {
	case http.StatusGatewayTimeout:
		observe.Failed(ctx, observe.ReasonTimeout, fmt.Sprintf("upstream timed out: no answer within %s", s.srv.o.Timeout))
		observe.SetUpstream(ctx, 0, latency, "timeout")
	case http.StatusBadGateway:
		observe.Failed(ctx, observe.ReasonUpstream, "upstream process exited")
		observe.SetUpstream(ctx, 0, latency, "process")
	}
}
