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
)

// legacyVersions are what a bridged route accepts: every 2025 generation
// version (the bridge has sessions) and 2024-11-05.
var legacyVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}

// sessionlessVersion is the first MCP version without sessions.
const sessionlessVersion = "2026-07-28"

// cancelTimeout bounds the best-effort notifications/cancelled POST sent
// when a client gives up on a bridged request.
const cancelTimeout = 5 * time.Second

// serve handles one client request on a bridged route.
func (b *bridge) serve(w http.ResponseWriter, r *http.Request, pr *authn.Principal, body []byte) {
	id := requestID(body)
	var s *bridgeSession
	if sids := r.Header.Values("Mcp-Session-Id"); len(sids) > 0 {
		if len(sids) == 1 {
			if bid, ok := b.p.codec.unwrap(sids[0], pr); ok {
				s = b.lookup(bid, pr)
			}
		}
		if s == nil {
			writeRPCError(w, http.StatusNotFound, id, codeSessionNotFound, msgSessionNotFound)
			return
		}
	}
	switch r.Method {
	case http.MethodGet:
		if s == nil {
			writeRPCError(w, http.StatusBadRequest, nil, codeInvalidRequest, "Mcp-Session-Id is required")
			return
		}
		b.serveGET(w, r, s)
	case http.MethodDelete:
		if s == nil {
			writeRPCError(w, http.StatusBadRequest, nil, codeInvalidRequest, "Mcp-Session-Id is required")
			return
		}
		s.cancel()
		<-s.done
		w.WriteHeader(http.StatusNoContent)
	default:
		b.servePOST(w, r, pr, s, body)
	}
}

// servePOST forwards the client's messages to the upstream endpoint and,
// when they include requests, streams back their responses as SSE.
func (b *bridge) servePOST(w http.ResponseWriter, r *http.Request, pr *authn.Principal, s *bridgeSession, body []byte) {
	msgs, _, err := parseMessages(body)
	if err != nil || len(msgs) == 0 {
		writeRPCError(w, http.StatusBadRequest, nil, -32700, "parse error")
		return
	}
	id := msgs[0].id
	initialized := s != nil
	if s == nil {
		if v := r.Header.Get("Mcp-Protocol-Version"); v >= sessionlessVersion || len(msgs) != 1 || msgs[0].method != "initialize" {
			if v >= sessionlessVersion {
				data, _ := json.Marshal(map[string]any{"supported": legacyVersions, "requested": v})
				writeRPCErrorData(w, http.StatusBadRequest, id, codeUnsupportedProtocolVersion,
					"this route's upstream has sessions: protocol version "+v+" is not supported", data)
				return
			}
			writeRPCError(w, http.StatusBadRequest, id, codeInvalidRequest, "Mcp-Session-Id is required")
			return
		}
		var status int
		if s, status, err = b.open(r, pr); err != nil {
			b.openFailed(w, r, status, id, err)
			return
		}
		created := s
		defer func() {
			if !initialized {
				created.cancel() // no client will ever know this session
			}
		}()
	}
	s.touch(+1)
	defer s.touch(-1)
	wrapped, err := b.p.codec.wrap(s.id, pr)
	if err != nil {
		writeRPCError(w, http.StatusBadGateway, id, codeInternal, msgUpstreamUnavailable)
		return
	}
	wt, pending, err := s.register(msgs)
	if err != nil {
		writeRPCError(w, http.StatusBadRequest, id, codeInvalidRequest, err.Error())
		return
	}
	defer s.unregister(wt, msgs)
	for _, m := range msgs {
		if status, err := b.post(r.Context(), s, pr, m.raw); err != nil {
			b.p.log.WarnContext(r.Context(), "posting to the upstream failed", slog.Any("error", err))
			writeRPCError(w, status, id, codeInternal, msgUpstreamUnavailable)
			return
		}
	}
	h := w.Header()
	h.Set("Mcp-Session-Id", wrapped)
	initialized = true
	if len(pending) == 0 {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	send := func(data []byte) bool {
		if _, err := w.Write(encodeMessageEvent(data)); err != nil {
			return false
		}
		err := rc.Flush()
		return err == nil || errors.Is(err, http.ErrNotSupported)
	}
	deliver := func(it item) bool {
		delete(pending, it.id)
		return send(it.data)
	}
	for len(pending) > 0 {
		select {
		case it := <-wt.ch:
			if !deliver(it) {
				return
			}
		case <-r.Context().Done():
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
				send(rpcErrorBody(raw, codeInternal, msgUpstreamUnavailable, nil))
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
	case http.StatusTooManyRequests:
		writeRPCError(w, status, id, codeServerError, msgTooManyStreams)
	case http.StatusGatewayTimeout:
		writeRPCError(w, status, id, codeInternal, msgUpstreamTimeout)
	case http.StatusServiceUnavailable:
		writeRPCError(w, status, id, codeServerError, "too many sessions")
	default:
		writeRPCError(w, http.StatusBadGateway, id, codeInternal, msgUpstreamUnavailable)
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
		writeRPCError(w, http.StatusConflict, nil, codeInvalidRequest, "a stream for this session is already open")
		return
	}
	s.touch(+1)
	defer func() {
		s.mu.Lock()
		s.getActive = false
		s.mu.Unlock()
		s.touch(-1)
	}()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case data := <-s.toClient:
			if _, err := w.Write(encodeMessageEvent(data)); err != nil {
				return
			}
			if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
				return
			}
		}
	}
}

// post sends one message to the session's endpoint; the legacy transport
// answers 202 (any 2xx is accepted, its body ignored).
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
	if b.p.o.Identity != nil {
		if err := b.p.o.Identity.Apply(req.Header, pr); err != nil {
			return http.StatusInternalServerError, err
		}
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
		return http.StatusBadGateway, errUpstreamRefused
	}
	return 0, nil
}

// cancelPending tells the upstream the client gave up on its requests
// (MCP Cancellation: notifications/cancelled), best effort.
func (b *bridge) cancelPending(s *bridgeSession, pr *authn.Principal, pending map[string]json.RawMessage) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), cancelTimeout)
	defer cancel()
	for _, raw := range pending {
		n, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "notifications/cancelled",
			"params": map[string]any{"requestId": raw, "reason": "client disconnected"}})
		if _, err := b.post(ctx, s, pr, n); err != nil {
			b.p.log.Debug("cancel notification not delivered", slog.Any("error", err))
		}
	}
}

// register creates the waiter of one POST for its requests; pending maps
// their id keys to raw ids. A request id already pending in the session is
// refused (JSON-RPC ids must be unique among in-flight requests).
func (s *bridgeSession) register(msgs []message) (*waiter, map[string]json.RawMessage, error) {
	pending := map[string]json.RawMessage{}
	for _, m := range msgs {
		if m.isRequest() {
			pending[idKey(m.id)] = m.id
		}
	}
	w := &waiter{ch: make(chan item, len(pending)+notesBuffer), reserved: len(pending)}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range pending {
		if s.waiters[k] != nil {
			return nil, nil, errors.New("a request with this id is already in flight")
		}
	}
	for _, m := range msgs {
		if m.isRequest() {
			s.waiters[idKey(m.id)] = w
			if len(m.token) > 0 {
				s.progress[idKey(m.token)] = w
			}
		}
	}
	return w, pending, nil
}

// unregister forgets w's requests and tokens.
func (s *bridgeSession) unregister(w *waiter, msgs []message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		if !m.isRequest() {
			continue
		}
		if s.waiters[idKey(m.id)] == w {
			delete(s.waiters, idKey(m.id))
		}
		if len(m.token) > 0 && s.progress[idKey(m.token)] == w {
			delete(s.progress, idKey(m.token))
		}
	}
}

// touch counts a request or stream in (+1) or out (-1) for idle tracking.
func (s *bridgeSession) touch(delta int) {
	s.mu.Lock()
	s.active += delta
	s.lastUsed = time.Now()
	s.mu.Unlock()
}
