package httpproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/identity"
)

// maxErrorBodyBytes bounds a non-2xx upstream body copied to the client.
const maxErrorBodyBytes = 64 << 10

// ServeHTTP proxies one MCP request (POST, GET or DELETE; MCP Transports
// §Streamable HTTP) to the upstream on behalf of the principal of the
// request's call.Call, forwarding the body call.Read parsed (the proxy
// never reads r.Body). Other methods get 405. It does not check Origin, the
// token, or per-tool scopes.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := call.From(r.Context())
	if c.Principal == nil {
		p.log.ErrorContext(r.Context(), "request without a verified principal reached the proxy")
		mcpwire.WriteError(w, errNoPrincipal.at(nil))
		return
	}
	switch r.Method {
	case http.MethodPost:
		if c.Body == nil {
			p.log.ErrorContext(r.Context(), "POST without a parsed body reached the proxy (call.Read is not in front)")
			mcpwire.WriteError(w, errNoBody.at(nil))
			return
		}
	case http.MethodGet, http.MethodDelete:
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		mcpwire.WriteError(w, errMethodNotAllowed.at(nil))
		return
	}
	id := c.Body.FirstID()
	if p.ctx.Err() != nil {
		mcpwire.WriteError(w, errShuttingDown.at(id))
		return
	}
	if p.bridge != nil {
		p.bridge.serve(w, r, c)
		return
	}
	p.forward(w, r, c)
}

// forward proxies a Streamable HTTP request.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, c *call.Call) {
	id := c.Body.FirstID()
	var upstreamSID string
	if sids := r.Header.Values(mcpwire.HeaderSessionID); len(sids) > 0 {
		sid, ok := "", len(sids) == 1
		if ok {
			sid, ok = p.codec.unwrap(sids[0], c.Principal)
		}
		if !ok {
			p.log.InfoContext(r.Context(), "unknown or foreign session id refused", slog.String("principal", principalKey(c.Principal)))
			mcpwire.WriteError(w, errSessionNotFound.at(id))
			return
		}
		upstreamSID = sid
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(p.ctx, cancel)()
	uctx, endUpstream := observe.StartPhase(ctx, observe.PhaseUpstream)
	var body io.Reader
	if c.Body != nil {
		body = bytes.NewReader(traceBody(uctx, c.Body.Raw))
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, p.target.String(), body)
	if err != nil {
		endUpstream(err)
		mcpwire.WriteError(w, errUpstreamUnavailable.at(id))
		return
	}
	req.Header = requestHeaders(r.Header)
	observe.SetTraceHeaders(uctx, req.Header)
	if upstreamSID != "" {
		req.Header.Set(mcpwire.HeaderSessionID, upstreamSID)
	}
	if err := p.identify(ctx, req.Header, c.Principal); err != nil {
		endUpstream(err)
		p.identityFailed(w, r, id, err)
		return
	}
	resp, status, err := p.observedDo(uctx, endUpstream, cancel, req)
	if err != nil {
		p.failed(w, r, status, id, err)
		return
	}
	defer resp.Body.Close()
	p.respond(w, r, resp, c)
}

// identify sets the route's identity headers on h for pr. The injector
// gets ctx bounded by Timeout (a token exchange must not hold a request
// longer than the upstream may).
func (p *Proxy) identify(ctx context.Context, h http.Header, pr *authn.Principal) error {
	ctx, cancel := context.WithTimeout(ctx, p.o.Timeout)
	defer cancel()
	return identity.Outgoing(ctx, h, p.o.Identity, pr)
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
		return
	case http.StatusGatewayTimeout:
		p.log.WarnContext(r.Context(), "upstream timed out", slog.Duration("timeout", p.o.Timeout))
	case http.StatusBadGateway:
		p.log.WarnContext(r.Context(), "upstream unavailable", slog.Any("error", err))
	}
	mcpwire.WriteError(w, statusError(status).at(id))
}

// respond copies the upstream response to the client.
func (p *Proxy) respond(w http.ResponseWriter, r *http.Request, resp *http.Response, c *call.Call) {
	id := c.Body.FirstID()
	code := resp.StatusCode
	if code == http.StatusUnauthorized || code == http.StatusForbidden || (code >= 300 && code < 400) {
		p.log.WarnContext(r.Context(), "upstream refused the gateway (check the route's identity settings)", slog.Int("status", code))
		mcpwire.WriteError(w, errUpstreamRefused.at(id))
		return
	}
	h := w.Header()
	copyResponseHeaders(h, resp.Header)
	if sid := resp.Header.Get(mcpwire.HeaderSessionID); sid != "" {
		wrapped, err := p.codec.wrap(sid, c.Principal)
		if err != nil {
			p.log.WarnContext(r.Context(), "upstream session id refused", slog.Any("error", err))
			clear(h)
			mcpwire.WriteError(w, errUpstreamUnavailable.at(id))
			return
		}
		h.Set(mcpwire.HeaderSessionID, wrapped)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case code/100 == 2 && mt == "text/event-stream":
		p.stream(w, r, resp, c)
	case code/100 == 2:
		w.WriteHeader(code)
		if _, err := io.Copy(w, resp.Body); err != nil {
			p.log.DebugContext(r.Context(), "response copy ended early", slog.Any("error", err))
		}
	default:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
		if sessionsOnlyRefusal(r, code, body) {
			v := r.Header.Get(mcpwire.HeaderProtocolVersion)
			p.log.DebugContext(r.Context(), "session-only upstream refused a sessionless request; answering unsupported protocol version",
				slog.Int("status", code), slog.String("version", v))
			clear(h)
			mcpwire.WriteError(w, errSessionsOnly(id, v))
			return
		}
		w.WriteHeader(code)
		_, _ = w.Write(body)
	}
}

// holdFor is the response hold of r's event stream: POST streams only (a
// GET has no request body for a proxy in front to race with).
func (p *Proxy) holdFor(r *http.Request) time.Duration {
	if r.Method != http.MethodPost {
		return 0
	}
	return p.o.responseHold
}
