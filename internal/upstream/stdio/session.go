package stdio

import (
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

// session is one MCP session: one child process and its streams.
type session struct {
	srv   *Server
	id    string
	owner string // issuer|subject of the principal that opened it
	log   *slog.Logger

	mu         sync.Mutex
	proc       *process
	version    string      // protocol version the child answered initialize with
	initID     mcpwire.Key // key of the initialize request's id
	answered   bool        // the child answered initialize
	initLate   bool        // Options.Timeout passed before it did
	streams    map[string]*stream
	byRequest  map[mcpwire.Key]*stream // request id key -> stream awaiting it
	byToken    map[mcpwire.Key]*stream // progress token key -> stream
	standalone *stream
	seq        uint64
	active     int    // HTTP requests of this session in flight
	lastUse    uint64 // Server.useSeq when a request last entered or left
	idle       timer
	ended      bool
	endStatus  int
	done       chan struct{}
}

func newSession(srv *Server, owner string) *session {
	id := rand.Text()
	s := &session{
		srv: srv, id: id, owner: owner,
		log:       srv.o.Logger.With("session", id[:8]),
		streams:   map[string]*stream{},
		byRequest: map[mcpwire.Key]*stream{},
		byToken:   map[mcpwire.Key]*stream{},
		done:      make(chan struct{}),
	}
	s.standalone = newStream(rand.Text(), true, 0)
	s.streams[s.standalone.id] = s.standalone
	return s
}

// fromChild routes one stdout line of the child (see the package doc).
func (s *session) fromChild(line []byte) {
	body, perr := mcpwire.ParseBody(line)
	if perr != nil {
		s.log.Warn("stdio upstream: dropping a stdout line that is not JSON-RPC", "err", perr, "bytes", len(line))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	for i := range body.Messages {
		m := &body.Messages[i]
		switch {
		case m.IsResponse():
			k, ok := m.Key()
			if !ok {
				s.log.Debug("stdio upstream: dropping an error response with a null id")
				continue
			}
			if k == s.initID && !s.answered {
				s.answered = true
				s.version = protocolVersion(m.Result)
			}
			st := s.byRequest[k]
			if st == nil {
				s.log.Debug("stdio upstream: response to no waiting request", "id", string(m.ID))
				continue
			}
			delete(s.byRequest, k)
			delete(st.pending, k)
			st.appendLocked(m.Raw, true)
			if st.completeLocked() {
				s.unregisterTokensLocked(st)
			}
		case m.Method == "notifications/progress" && s.byToken[tokenKey(m)] != nil:
			s.byToken[tokenKey(m)].appendLocked(m.Raw, true)
		default:
			s.otherLocked().appendLocked(m.Raw, true)
		}
	}
}

// tokenKey is the key of m's progress token; "" (no stream's) if none.
func tokenKey(m *mcpwire.Message) mcpwire.Key {
	k, _ := mcpwire.KeyOf(m.ProgressToken())
	return k
}

// protocolVersion reads an initialize result's protocolVersion ("" if
// absent or not a string).
func protocolVersion(result json.RawMessage) string {
	obj, err := mcpwire.Object(result, "protocolVersion")
	if err != nil {
		return ""
	}
	v, _ := mcpwire.String(obj["protocolVersion"])
	return v
}

// otherLocked picks the stream for a child message that names no request:
// the standalone stream if a GET holds it, else the newest connected POST
// stream still waiting, else the standalone stream (kept for the next GET).
func (s *session) otherLocked() *stream {
	if s.standalone.attached {
		return s.standalone
	}
	var best *stream
	for _, st := range s.streams {
		if !st.standalone && st.attached && len(st.pending) > 0 && (best == nil || st.seq > best.seq) {
			best = st
		}
	}
	if best != nil {
		return best
	}
	return s.standalone
}

func (s *session) unregisterTokensLocked(st *stream) {
	for _, t := range st.tokens {
		if s.byToken[t] == st {
			delete(s.byToken, t)
		}
	}
	st.tokens = nil
}

// post relays one POST body (line: body.Raw on one line) to the child.
// With no requests in it, the answer is 202 (MCP 2025-11-25, "Sending
// Messages to the Server"); else an SSE stream with the responses. It
// reports false if the client left before every response was written.
func (s *session) post(w http.ResponseWriter, r *http.Request, body *mcpwire.Body, line []byte) bool {
	var st *stream
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusNotFound, mcpwire.CodeSessionNotFound, body.FirstID(), "session not found"))
		return true
	}
	for _, m := range body.Requests() {
		k, _ := m.Key()
		if s.byRequest[k] != nil {
			s.mu.Unlock()
			mcpwire.WriteError(w, mcpwire.Errorf(http.StatusBadRequest, mcpwire.CodeInvalidRequest, m.ID, "a request with this id is already in flight"))
			return true
		}
		if st == nil {
			s.seq++
			st = newStream(rand.Text(), false, s.seq)
		}
		st.pending[k] = m.ID
		if tk := tokenKey(m); tk != "" {
			st.tokens = append(st.tokens, tk)
		}
		if m.Method == "initialize" {
			s.initID = k
		}
	}
	if st != nil {
		for k := range st.pending {
			s.byRequest[k] = st
		}
		for _, t := range st.tokens {
			s.byToken[t] = st
		}
		st.attached = true
		s.streams[st.id] = st
		s.armDeadlineLocked(st)
	}
	proc := s.proc
	s.mu.Unlock()

	line, w, endUpstream := upstreamPhase(w, r, line)
	defer endUpstream()
	if err := proc.write(line); err != nil {
		s.log.Warn("stdio upstream: write failed", "err", err)
		if st != nil {
			s.forget(st)
		}
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusBadGateway, mcpwire.CodeInternalError, body.FirstID(), "upstream process is not accepting messages"))
		return true
	}
	if st == nil {
		w.WriteHeader(http.StatusAccepted)
		return true
	}
	return s.serveStream(w, r, st, 0, false)
}

// forget drops a POST stream and whatever it was waiting for.
func (s *session) forget(st *stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetLocked(st)
}

func (s *session) forgetLocked(st *stream) {
	for k := range st.pending {
		if s.byRequest[k] == st {
			delete(s.byRequest, k)
		}
	}
	s.unregisterTokensLocked(st)
	st.stopTimers()
	delete(s.streams, st.id)
}

// detach marks st as having no HTTP response. A POST stream is then kept
// for Options.ResumeWindow; see expire.
func (s *session) detach(st *stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st.attached = false
	if st.standalone || s.ended {
		return
	}
	if s.srv.o.ResumeWindow < 0 {
		s.expireLocked(st)
		return
	}
	st.timer = s.srv.o.afterFunc(s.srv.o.ResumeWindow, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !st.attached && !s.ended {
			s.expireLocked(st)
		}
	})
}

// expireLocked gives up on a detached stream: the child gets
// notifications/cancelled for each unanswered request (MCP 2025-11-25,
// "Cancellation"), written without blocking the caller.
func (s *session) expireLocked(st *stream) {
	var cancels [][]byte
	for _, raw := range st.pending {
		cancels = append(cancels, mcpwire.CancelledNotification(raw, "the client disconnected"))
	}
	s.forgetLocked(st)
	s.sendLocked(cancels)
}

// sendLocked writes msgs to the child from a goroutine of its own, so
// that the caller (holding s.mu) does not wait for a child that does not
// read; it stops at the first failed write.
func (s *session) sendLocked(msgs [][]byte) {
	if len(msgs) == 0 || s.proc == nil {
		return
	}
	proc := s.proc
	s.srv.wg.Add(1)
	go func() {
		defer s.srv.wg.Done()
		for _, m := range msgs {
			if err := proc.write(m); err != nil {
				return
			}
		}
	}()
}

// resume attaches a GET to the stream named by Last-Event-ID; it returns
// the index to continue from, or an HTTP status for the refusal.
func (s *session) resume(lastEventID string) (*stream, int, int) {
	sid, idx, ok := parseEventID(lastEventID)
	if !ok {
		return nil, 0, http.StatusBadRequest
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[sid]
	switch {
	case st == nil:
		return nil, 0, http.StatusBadRequest
	case st.attached:
		return nil, 0, http.StatusConflict
	}
	st.attached = true
	if st.timer != nil {
		st.timer.Stop()
	}
	return st, idx + 1, 0
}

// openStandalone attaches a GET without Last-Event-ID to the standalone
// stream, from the first message no GET has seen yet.
func (s *session) openStandalone() (*stream, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.standalone.attached {
		return nil, 0, false
	}
	s.standalone.attached = true
	return s.standalone, s.standalone.delivered, true
}

// enter and leave count HTTP requests in flight; the idle timer runs while
// there are none.
func (s *session) enter() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active++
	s.lastUse = s.srv.useSeq.Add(1)
	if s.idle != nil {
		s.idle.Stop()
		s.idle = nil
	}
}

func (s *session) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	s.lastUse = s.srv.useSeq.Add(1)
	if s.active > 0 || s.ended {
		return
	}
	s.idle = s.srv.o.afterFunc(s.srv.o.IdleTimeout, func() {
		s.mu.Lock()
		busy := s.active > 0 || s.ended
		s.mu.Unlock()
		if !busy {
			s.log.Info("stdio upstream: session idle, stopping its process")
			s.end(http.StatusNotFound, "session ended: idle")
			s.stop()
		}
	})
}

// end ends the session once: every unanswered request gets a JSON-RPC
// error, waiting responses are released, and the session leaves the
// server's table (later requests get 404). status is what a request that got
// nothing from the child yet is answered with.
func (s *session) end(status int, reason string) {
	s.mu.Lock()
	ended := s.endLocked(status, reason)
	s.mu.Unlock()
	if ended {
		s.srv.remove(s)
	}
}

// endLocked is end without leaving the server's table; it reports false
// if the session had already ended.
func (s *session) endLocked(status int, reason string) bool {
	if s.ended {
		return false
	}
	s.ended = true
	s.endStatus = status
	for _, st := range s.streams {
		for _, raw := range st.pending {
			st.appendLocked(mcpwire.ErrorBody(raw, mcpwire.CodeInternalError, reason, nil), false)
		}
		clear(st.pending)
		st.stopTimers()
	}
	clear(s.byRequest)
	clear(s.byToken)
	if s.idle != nil {
		s.idle.Stop()
	}
	close(s.done)
	return true
}

// stop stops the process (if it was started) and waits for it.
func (s *session) stop() {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p != nil {
		p.stop(s.srv.o.StopTimeout)
	}
}

// negotiated returns the protocol version of the session.
func (s *session) negotiated() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}
