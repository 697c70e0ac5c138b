package httpproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
)

// cancelTimeout bounds the best-effort notifications/cancelled POST sent
// when a client gives up on a bridged request.
const cancelTimeout = 5 * time.Second

// serve handles one client request on a bridged route.
func (b *bridge) serve(w http.ResponseWriter, r *http.Request, c *call.Call) {
	id := c.Body.FirstID()
	var s *bridgeSession
	if sids := r.Header.Values(mcpwire.HeaderSessionID); len(sids) > 0 {
		if len(sids) == 1 {
			if bid, ok := b.p.codec.unwrap(sids[0], c.Principal); ok {
				s = b.lookup(bid, c.Principal)
			}
		}
		if s == nil {
			mcpwire.WriteError(w, errSessionNotFound.at(id))
			return
		}
	}
	switch r.Method {
	case http.MethodGet:
		if s == nil {
			mcpwire.WriteError(w, errSessionRequired.at(nil))
			return
		}
		b.serveGET(w, r, s)
	case http.MethodDelete:
		if s == nil {
			mcpwire.WriteError(w, errSessionRequired.at(nil))
			return
		}
		s.cancel()
		<-s.done
		w.WriteHeader(http.StatusNoContent)
	default:
		b.servePOST(w, r, c, s)
	}
}

// servePOST forwards the client's messages to the upstream endpoint and,
// when they include requests, streams back as SSE their responses and the
// server messages routed to this POST.
func (b *bridge) servePOST(w http.ResponseWriter, r *http.Request, c *call.Call, s *bridgeSession) {
	body, pr := c.Body, c.Principal
	id := body.FirstID()
	var created *bridgeSession // until the client learns its id
	if s == nil {
		if v := r.Header.Get(mcpwire.HeaderProtocolVersion); mcpwire.Sessionless(v) {
			mcpwire.WriteError(w, errSessionsOnly(id, v))
			return
		}
		if len(body.Messages) != 1 || body.Messages[0].Method != "initialize" {
			mcpwire.WriteError(w, errSessionRequired.at(id))
			return
		}
		var status int
		var err error
		if s, status, err = b.open(r, pr); err != nil {
			b.openFailed(w, r, status, id, err)
			return
		}
		created = s
		defer func() {
			if created != nil {
				created.cancel() // no client will ever know this session
			}
		}()
	}
	s.touch(+1)
	defer s.touch(-1)
	s.mu.Lock()
	s.principal = pr
	s.mu.Unlock()
	wrapped, err := b.p.codec.wrap(s.id, pr)
	if err != nil {
		mcpwire.WriteError(w, errUpstreamUnavailable.at(id))
		return
	}
	reqs := body.Requests()
	wt, pending, ok := s.register(reqs)
	if !ok {
		mcpwire.WriteError(w, errDuplicateID.at(id))
		return
	}
	defer s.unregister(wt, reqs)
	for _, m := range body.Messages {
		if status, err := b.observedPost(r.Context(), s, pr, m.Raw); err != nil {
			b.p.log.WarnContext(r.Context(), "posting to the upstream failed", slog.Any("error", err))
			mcpwire.WriteError(w, statusError(status).at(id))
			return
		}
	}
	created = nil
	h := w.Header()
	h.Set(mcpwire.HeaderSessionID, wrapped)
	if len(pending) == 0 {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	setEventStream(h)
	ew := newEventWriter(w, http.StatusOK, b.p.holdFor(r))
	defer ew.close()
	send := func(data []byte) bool { return ew.send(mcpwire.MessageEvent(data)) == nil }
	var undelivered []item
	// The answer to the last pending request is not flushed: the stream
	// ends with it, and net/http writes both at once.
	deliver := func(it item) bool {
		_, answers := pending[it.answers]
		last := answers && len(pending) == 1
		if ew.write(mcpwire.MessageEvent(it.data), last) != nil {
			undelivered = append(undelivered, it)
			return false
		}
		delete(pending, it.answers)
		if !last {
			ew.flush()
		}
		return true
	}
	defer func() { s.refuseUndelivered(undelivered) }()
	for len(pending) > 0 {
		select {
		case it := <-wt.ch:
			if !deliver(it) {
				b.p.log.DebugContext(r.Context(), "client stream write failed")
				return
			}
		case <-r.Context().Done():
			b.p.log.DebugContext(r.Context(), "client went away before its responses", slog.Int("pending", len(pending)))
			b.cancelPending(s, pr, pending)
			return
		case <-s.done:
			for drained := false; !drained; {
				select {
				case it := <-wt.ch:
					deliver(it)
				default:
					drained = true
				}
			}
			for _, raw := range pending {
				send(errUpstreamUnavailable.body(raw))
			}
			return
		}
	}
}

// openFailed answers an initialize whose upstream session could not open.
func (b *bridge) openFailed(w http.ResponseWriter, r *http.Request, status int, id json.RawMessage, err error) {
	if r.Context().Err() != nil {
		return
	}
	b.p.log.WarnContext(r.Context(), "opening the upstream sse stream failed", slog.Int("status", status), slog.Any("error", err))
	switch status {
	case http.StatusServiceUnavailable:
		mcpwire.WriteError(w, errTooManySessions.at(id))
	case http.StatusTooManyRequests, http.StatusGatewayTimeout, http.StatusInternalServerError:
		mcpwire.WriteError(w, statusError(status).at(id))
	default:
		mcpwire.WriteError(w, errUpstreamUnavailable.at(id))
	}
}

// serveGET streams server-initiated messages to the client, one GET at a
// time per session (409 for a second, as the go-sdk server does).
// Last-Event-ID is ignored: the legacy transport cannot resume.
func (b *bridge) serveGET(w http.ResponseWriter, r *http.Request, s *bridgeSession) {
	s.mu.Lock()
	busy := s.getActive
	s.getActive = true
	s.mu.Unlock()
	if busy {
		mcpwire.WriteError(w, errStreamOpen.at(nil))
		return
	}
	s.touch(+1)
	var batch []item
	defer func() {
		s.mu.Lock()
		s.getActive = false
		// Server requests are never left for a later GET: nothing says one
		// will come. Notifications stay queued for it.
		var keep []item
		for _, it := range s.outbox {
			if it.serverID != nil {
				batch = append(batch, it)
			} else {
				keep = append(keep, it)
			}
		}
		s.outbox = keep
		s.mu.Unlock()
		s.refuseUndelivered(batch)
		s.touch(-1)
	}()
	setEventStream(w.Header())
	ew := newEventWriter(w, http.StatusOK, 0)
	defer ew.close()
	for {
		s.mu.Lock()
		batch = s.take()
		s.mu.Unlock()
		for len(batch) > 0 {
			if ew.write(mcpwire.MessageEvent(batch[0].data), false) != nil {
				return
			}
			batch = batch[1:]
		}
		ew.flush() // the batch leaves in one write
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-s.outReady:
		}
	}
}

// setEventStream sets the headers of a bridge's event stream.
func setEventStream(h http.Header) {
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
}

// post sends one message to the session's endpoint; the legacy transport
// answers 202 (any 2xx is accepted, its body ignored). ctx bounds it with
// Timeout and the session's end.
func (b *bridge) post(ctx context.Context, s *bridgeSession, pr *authn.Principal, raw []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, b.p.o.Timeout)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(raw))
	if err != nil {
		return http.StatusBadGateway, err
	}
	req.Header.Set("Content-Type", "application/json")
	observe.SetTraceHeaders(ctx, req.Header)
	if err := b.p.identify(ctx, req.Header, pr); err != nil {
		return http.StatusInternalServerError, err
	}
	resp, err := b.p.client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return http.StatusGatewayTimeout, err
		}
		return http.StatusBadGateway, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBodyBytes))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return http.StatusBadGateway, errUpstreamStatus
	}
	return 0, nil
}

// cancelPending tells the upstream the client gave up on its requests
// (MCP Cancellation: notifications/cancelled), best effort, bounded by
// cancelTimeout and the session's end (not by the gone request).
func (b *bridge) cancelPending(s *bridgeSession, pr *authn.Principal, pending map[mcpwire.Key][]byte) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), cancelTimeout)
	defer cancel()
	for _, raw := range pending {
		n := mcpwire.CancelledNotification(raw, "client disconnected")
		if _, err := b.post(ctx, s, pr, n); err != nil {
			b.p.log.Debug("cancel notification not delivered", slog.Any("error", err))
		}
	}
}

// touch counts a request or stream in (+1) or out (-1) for idle tracking.
func (s *bridgeSession) touch(delta int) {
	s.mu.Lock()
	s.active += delta
	s.lastUsed = s.b.p.o.clock.Now()
	s.mu.Unlock()
}
