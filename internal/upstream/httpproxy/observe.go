package httpproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/identity"
)

// Upstream failure kinds recorded with observe.SetUpstream (the "kind"
// label of mcpgw_upstream_errors_total).
const (
	errKindConnect  = "connect"  // no response: refused, reset, DNS, TLS
	errKindTimeout  = "timeout"  // no response headers within Timeout
	errKindStatus   = "status"   // a 5xx answer
	errKindProtocol = "protocol" // an answer the gateway cannot forward (401, 403, 3xx)
)

// traceBody is the body to forward in the upstream phase ctx: raw with
// the phase's W3C trace context in params._meta of each request
// (mcpwire.SetTraceMeta), or raw itself when tracing is off.
func traceBody(ctx context.Context, raw []byte) []byte {
	parent, state := observe.TraceContext(ctx)
	return mcpwire.SetTraceMeta(raw, parent, state)
}

// observedDo is do as the end of observe.PhaseUpstream (ctx is the
// phase's): it records the upstream's status, the time until its
// response headers and the failure kind on the request's record
// (observe.SetUpstream; observe.Failed for a failure, not for a client
// that went away), then ends the phase with end.
func (p *Proxy) observedDo(ctx context.Context, end func(error), cancel context.CancelFunc, req *http.Request) (*http.Response, int, error) {
	start := p.o.clock.Now()
	resp, status, err := p.do(ctx, cancel, req)
	latency := p.o.clock.Now().Sub(start)
	code, kind := 0, ""
	switch {
	case err != nil && status == http.StatusGatewayTimeout:
		kind = errKindTimeout
		observe.Failed(ctx, observe.ReasonTimeout, errUpstreamTimeout.msg)
	case err != nil && status == http.StatusBadGateway:
		kind = errKindConnect
		observe.Failed(ctx, observe.ReasonUpstream, errUpstreamUnavailable.msg)
	case err != nil:
		// The client or the gateway went away: not the upstream's fault.
	case resp.StatusCode >= 500:
		code, kind = resp.StatusCode, errKindStatus
		observe.Failed(ctx, observe.ReasonUpstream, fmt.Sprintf("upstream answered %d", resp.StatusCode))
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode/100 == 3:
		code, kind = resp.StatusCode, errKindProtocol
		observe.Failed(ctx, observe.ReasonUpstream, errUpstreamRefused.msg)
	default:
		code = resp.StatusCode
	}
	observe.SetUpstream(ctx, code, latency, kind)
	phaseErr := err
	if err == nil && kind != "" {
		phaseErr = fmt.Errorf("upstream answered %d", code)
	}
	end(phaseErr)
	return resp, status, err
}

// observedPost is post as observe.PhaseUpstream: the message carries the
// phase's W3C trace context in params._meta (and post sets the headers),
// and the outcome is recorded as observedDo records it (the legacy
// endpoint's status is not: it only acknowledges).
func (b *bridge) observedPost(ctx context.Context, s *bridgeSession, pr *authn.Principal, raw []byte) (int, error) {
	ctx, end := observe.StartPhase(ctx, observe.PhaseUpstream)
	start := b.p.o.clock.Now()
	status, err := b.post(ctx, s, pr, traceBody(ctx, raw))
	kind := ""
	switch {
	case err == nil:
	case status == http.StatusGatewayTimeout:
		kind = errKindTimeout
		observe.Failed(ctx, observe.ReasonTimeout, errUpstreamTimeout.msg)
	case errors.Is(err, errUpstreamStatus):
		kind = errKindStatus
		observe.Failed(ctx, observe.ReasonUpstream, errUpstreamUnavailable.msg)
	case status == http.StatusBadGateway:
		kind = errKindConnect
		observe.Failed(ctx, observe.ReasonUpstream, errUpstreamUnavailable.msg)
	}
	observe.SetUpstream(ctx, 0, b.p.o.clock.Now().Sub(start), kind)
	end(err)
	return status, err
}

// identityFailed answers a request whose upstream identity could not be
// produced; nothing was sent upstream. A failed token exchange (the
// authorization server refused or could not be reached) is 502 with audit
// reason token_exchange and the cause as detail; anything else is a
// configuration or wiring fault: 500.
func (p *Proxy) identityFailed(w http.ResponseWriter, r *http.Request, id json.RawMessage, err error) {
	p.log.ErrorContext(r.Context(), "identity for upstream failed", slog.Any("error", err))
	if errors.Is(err, identity.ErrExchange) {
		observe.Failed(r.Context(), observe.ReasonTokenExchange, err.Error())
		mcpwire.WriteError(w, errTokenExchange.at(id))
		return
	}
	mcpwire.WriteError(w, errNoIdentity.at(id))
}
