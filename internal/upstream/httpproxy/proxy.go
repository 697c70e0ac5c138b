package httpproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// maxErrorBodyBytes bounds a non-2xx upstream body copied to the client.
const maxErrorBodyBytes = 64 << 10

// principalFrom returns the principal the bearer middleware stored. It reads
// pkg/bearer directly (as upstream.PrincipalFrom does) so that package
// upstream may import this one.
func principalFrom(ctx context.Context) *authn.Principal {
	p, _ := bearer.TokenFromContext(ctx).(*authn.Principal)
	return p
}

// ServeHTTP proxies one MCP request (POST, GET or DELETE; MCP Transports
// §Streamable HTTP) to the upstream on behalf of the principal in the request
// context. Other methods get 405. It does not check Origin, the token, or
// per-tool scopes.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pr := principalFrom(r.Context())
	if pr == nil {
		p.log.ErrorContext(r.Context(), "request without a verified principal reached the proxy")
		writeRPCError(w, http.StatusInternalServerError, nil, codeInternal, "no verified principal")
		return
	}
	switch r.Method {
	case http.MethodPost, http.MethodGet, http.MethodDelete:
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeRPCError(w, http.StatusMethodNotAllowed, nil, codeServerError, "method not allowed")
		return
	}
	if p.ctx.Err() != nil {
		writeRPCError(w, http.StatusServiceUnavailable, nil, codeServerError, msgShuttingDown)
		return
	}
	key := principalKey(pr)
	if !p.limiter.acquire(key) {
		p.log.InfoContext(r.Context(), "stream cap reached", slog.String("principal", key))
		writeRPCError(w, http.StatusTooManyRequests, nil, codeServerError, msgTooManyStreams)
		return
	}
	defer p.limiter.release(key)
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		if body, err = readBody(r.Body, p.o.MaxBodyBytes); err != nil {
			if errors.Is(err, errBodyTooLarge) {
				writeRPCError(w, http.StatusRequestEntityTooLarge, nil, codeInvalidRequest, msgBodyTooLarge)
			} else {
				writeRPCError(w, http.StatusBadRequest, nil, codeInvalidRequest, "request body could not be read")
			}
			return
		}
	}
	if p.bridge != nil {
		p.bridge.serve(w, r, pr, body)
		return
	}
	p.forward(w, r, pr, body)
}

var errBodyTooLarge = errors.New("request body too large")

// readBody reads at most max bytes of b.
func readBody(b io.Reader, max int64) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(b, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, errBodyTooLarge
	}
	return data, nil
}

// forward proxies a Streamable HTTP request.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, pr *authn.Principal, body []byte) {
	var upstreamSID string
	if sids := r.Header.Values("Mcp-Session-Id"); len(sids) > 0 {
		sid, ok := "", len(sids) == 1
		if ok {
			sid, ok = p.codec.unwrap(sids[0], pr)
		}
		if !ok {
			p.log.InfoContext(r.Context(), "unknown or foreign session id refused", slog.String("principal", principalKey(pr)))
			writeRPCError(w, http.StatusNotFound, requestID(body), codeSessionNotFound, msgSessionNotFound)
			return
		}
		upstreamSID = sid
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(p.ctx, cancel)()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, p.target.String(), rd)
	if err != nil {
		writeRPCError(w, http.StatusInternalServerError, requestID(body), codeInternal, msgUpstreamUnavailable)
		return
	}
	req.Header = requestHeaders(r.Header)
	if upstreamSID != "" {
		req.Header.Set("Mcp-Session-Id", upstreamSID)
	}
	if !p.applyIdentity(w, r, req.Header, pr, body) {
		return
	}
	resp, status, err := p.do(ctx, cancel, req)
	if err != nil {
		p.failed(w, r, status, requestID(body), err)
		return
	}
	defer resp.Body.Close()
	p.respond(w, r, resp, pr, body)
}

// applyIdentity runs the Injector; false means an error was written.
func (p *Proxy) applyIdentity(w http.ResponseWriter, r *http.Request, h http.Header, pr *authn.Principal, body []byte) bool {
	if p.o.Identity == nil {
		return true
	}
	if err := p.o.Identity.Apply(h, pr); err != nil {
		p.log.ErrorContext(r.Context(), "identity for upstream failed", slog.Any("error", err))
		writeRPCError(w, http.StatusInternalServerError, requestID(body), codeInternal, "identity for the upstream could not be produced")
		return false
	}
	return true
}

// do sends req, bounding the wait for response headers by Timeout. On error
// it returns the HTTP status the client should get (0: the client is gone).
func (p *Proxy) do(ctx context.Context, cancel context.CancelFunc, req *http.Request) (*http.Response, int, error) {
	var timedOut atomic.Bool
	t := time.AfterFunc(p.o.Timeout, func() { timedOut.Store(true); cancel() })
	resp, err := p.client.Do(req)
	t.Stop()
	if err == nil && timedOut.Load() {
		resp.Body.Close()
		err = context.DeadlineExceeded
	}
	switch {
	case err == nil:
		return resp, 0, nil
	case timedOut.Load():
		return nil, http.StatusGatewayTimeout, err
	case p.ctx.Err() != nil:
		return nil, http.StatusServiceUnavailable, err
	case ctx.Err() != nil:
		return nil, 0, err
	default:
		return nil, http.StatusBadGateway, err
	}
}

// failed answers an upstream request that produced no response.
func (p *Proxy) failed(w http.ResponseWriter, r *http.Request, status int, id json.RawMessage, err error) {
	switch status {
	case 0:
		p.log.DebugContext(r.Context(), "client went away before the upstream answered", slog.Any("error", err))
	case http.StatusGatewayTimeout:
		p.log.WarnContext(r.Context(), "upstream timed out", slog.Duration("timeout", p.o.Timeout))
		writeRPCError(w, status, id, codeInternal, msgUpstreamTimeout)
	case http.StatusServiceUnavailable:
		writeRPCError(w, status, id, codeServerError, msgShuttingDown)
	default:
		p.log.WarnContext(r.Context(), "upstream unavailable", slog.Any("error", err))
		writeRPCError(w, status, id, codeInternal, msgUpstreamUnavailable)
	}
}

// respond copies the upstream response to the client; body is the client's
// request body, read for its id only when answering with an error.
func (p *Proxy) respond(w http.ResponseWriter, r *http.Request, resp *http.Response, pr *authn.Principal, body []byte) {
	code := resp.StatusCode
	if code == http.StatusUnauthorized || code == http.StatusForbidden || (code >= 300 && code < 400) {
		p.log.WarnContext(r.Context(), "upstream refused the gateway (check the route's identity settings)", slog.Int("status", code))
		writeRPCError(w, http.StatusBadGateway, requestID(body), codeInternal, msgUpstreamRefused)
		return
	}
	h := w.Header()
	copyResponseHeaders(h, resp.Header)
	if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" {
		wrapped, err := p.codec.wrap(sid, pr)
		if err != nil {
			p.log.WarnContext(r.Context(), "upstream session id refused", slog.Any("error", err))
			clear(h)
			writeRPCError(w, http.StatusBadGateway, requestID(body), codeInternal, msgUpstreamUnavailable)
			return
		}
		h.Set("Mcp-Session-Id", wrapped)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case code/100 == 2 && mt == "text/event-stream":
		p.stream(w, r, resp)
	case code/100 == 2:
		w.WriteHeader(code)
		if _, err := io.Copy(w, resp.Body); err != nil {
			p.log.DebugContext(r.Context(), "response copy ended early", slog.Any("error", err))
		}
	default:
		w.WriteHeader(code)
		_, _ = io.Copy(w, io.LimitReader(resp.Body, maxErrorBodyBytes))
	}
}

// stream copies an SSE body event by event, flushing after each, and stops
// after the last complete event when either side ends.
func (p *Proxy) stream(w http.ResponseWriter, r *http.Request, resp *http.Response) {
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		p.log.WarnContext(r.Context(), "response writer cannot flush; events may be delayed", slog.Any("error", err))
	}
	rd := newSSEReader(resp.Body, defaultMaxEventBytes)
	for {
		ev, err := rd.next()
		if err != nil {
			if !errors.Is(err, io.EOF) && r.Context().Err() == nil && p.ctx.Err() == nil {
				p.log.WarnContext(r.Context(), "upstream stream ended abnormally", slog.Any("error", err))
			} else {
				p.log.DebugContext(r.Context(), "upstream stream ended", slog.Any("error", err))
			}
			return
		}
		if _, err := w.Write(ev.raw); err != nil {
			p.log.DebugContext(r.Context(), "client stream write failed", slog.Any("error", err))
			return
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			p.log.DebugContext(r.Context(), "client stream flush failed", slog.Any("error", err))
			return
		}
	}
}
