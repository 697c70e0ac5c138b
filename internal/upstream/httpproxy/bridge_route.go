package httpproxy

import (
	"context"
	"errors"
	"log/slog"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

// route delivers one upstream message of a bridge session (see the package
// doc, "Legacy HTTP+SSE upstreams"): a response to the POST that asked,
// progress to the POST that set the token, a server-to-client request to
// the POST it can be attributed to, else the GET stream, else a refusal
// sent upstream; a notification to the GET stream, or to the only POST in
// flight when no GET stream is open. It runs on the reader goroutine and
// never blocks.
func (s *bridgeSession) route(m mcpwire.Message) {
	log := s.b.p.log
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case m.IsResponse():
		k, ok := m.Key()
		if w := s.waiters[k]; ok && w != nil {
			delete(s.waiters, k)
			w.reserved--
			w.ch <- item{data: m.Raw, answers: k} // capacity reserved
			return
		}
		log.Debug("upstream response for no pending request; dropped")
	case m.IsRequest():
		it := item{data: m.Raw, serverID: m.ID}
		if w := s.soleWaiter(); w != nil && s.offer(w, it) {
			return
		}
		if s.getActive && s.post(it) {
			return
		}
		log.Info("server request with no client stream to carry it; refused", slog.String("method", m.Method))
		s.refuse(m.ID)
	default:
		if m.Method == "notifications/progress" {
			if k, ok := mcpwire.KeyOf(m.ProgressToken()); ok && s.progress[k] != nil {
				if !s.offer(s.progress[k], item{data: m.Raw}) {
					log.Warn("client too slow for progress notifications; one dropped")
				}
				return
			}
		}
		it := item{data: m.Raw}
		if !s.getActive {
			if w := s.soleWaiter(); w != nil && s.offer(w, it) {
				return
			}
		}
		if !s.post(it) {
			log.Warn("client GET stream absent or too slow; server notification dropped")
		}
	}
}

// soleWaiter returns the waiter of the only client POST with requests in
// flight, or nil when there are none or several: a server message can be
// attributed to a request only when one is in flight (the legacy transport
// says nothing of which request caused it). The caller holds s.mu.
func (s *bridgeSession) soleWaiter() *waiter {
	var sole *waiter
	for _, w := range s.waiters {
		if sole != nil && w != sole {
			return nil
		}
		sole = w
	}
	return sole
}

// offer queues it on w unless that would take room kept for w's responses.
// The caller holds s.mu.
func (s *bridgeSession) offer(w *waiter, it item) bool {
	if len(w.ch) >= cap(w.ch)-w.reserved {
		return false
	}
	w.ch <- it
	return true
}

// post queues it for the GET stream, at most toClientBuffer items. The
// caller holds s.mu.
func (s *bridgeSession) post(it item) bool {
	if len(s.outbox) >= toClientBuffer {
		return false
	}
	s.outbox = append(s.outbox, it)
	select {
	case s.outReady <- struct{}{}:
	default:
	}
	return true
}

// take empties the GET stream's queue. The caller holds s.mu.
func (s *bridgeSession) take() []item {
	out := s.outbox
	s.outbox = nil
	return out
}

// refuse answers a server-to-client request upstream with a JSON-RPC error
// (-32603, errUnroutable), so that the tool call waiting on it fails at
// once instead of when the upstream's timeout runs out. It posts from a new
// goroutine (never from the reader) and does nothing once the session
// ends. The caller holds s.mu.
func (s *bridgeSession) refuse(id []byte) {
	if s.ended || s.ctx.Err() != nil {
		return
	}
	b, pr := s.b, s.principal
	body := errUnroutable.body(id)
	b.wg.Add(1) // the reader's count is held: it sets ended under s.mu first
	go func() {
		defer b.wg.Done()
		ctx, cancel := context.WithTimeout(s.ctx, b.p.o.Timeout)
		defer cancel()
		if _, err := b.post(ctx, s, pr, body); err != nil && !errors.Is(err, context.Canceled) {
			b.p.log.Warn("refusing a server request upstream failed", slog.Any("error", err))
		}
	}()
}

// refuseUndelivered refuses the server requests among items that no client
// stream took (a POST or GET stream that ended first).
func (s *bridgeSession) refuseUndelivered(items []item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range items {
		if it.serverID != nil {
			s.refuse(it.serverID)
		}
	}
}

// register creates the waiter of one POST for its requests; pending maps
// their id keys to raw ids. ok is false when a request id is already
// pending in the session (JSON-RPC ids must be unique among in-flight
// requests; 1 and 1.0 are one id).
func (s *bridgeSession) register(reqs []*mcpwire.Message) (w *waiter, pending map[mcpwire.Key][]byte, ok bool) {
	pending = make(map[mcpwire.Key][]byte, len(reqs))
	for _, m := range reqs {
		k, _ := m.Key()
		pending[k] = m.ID
	}
	w = &waiter{ch: make(chan item, len(pending)+notesBuffer), reserved: len(pending)}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range pending {
		if s.waiters[k] != nil {
			return nil, nil, false
		}
	}
	for _, m := range reqs {
		k, _ := m.Key()
		s.waiters[k] = w
		if tk, ok := mcpwire.KeyOf(m.ProgressToken()); ok {
			s.progress[tk] = w
		}
	}
	return w, pending, true
}

// unregister forgets w's requests and tokens, then refuses the server
// requests queued on w that its POST did not deliver.
func (s *bridgeSession) unregister(w *waiter, reqs []*mcpwire.Message) {
	s.mu.Lock()
	for _, m := range reqs {
		if k, _ := m.Key(); s.waiters[k] == w {
			delete(s.waiters, k)
		}
		if tk, ok := mcpwire.KeyOf(m.ProgressToken()); ok && s.progress[tk] == w {
			delete(s.progress, tk)
		}
	}
	s.mu.Unlock()
	var left []item
	for {
		select {
		case it := <-w.ch:
			left = append(left, it)
			continue
		default:
		}
		break
	}
	s.refuseUndelivered(left)
}
