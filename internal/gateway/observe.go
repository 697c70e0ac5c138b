package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// clientIP is Options.ClientIP, or the TCP peer's address.
func (s *Server) clientIP(r *http.Request) string {
	if s.opts.ClientIP != nil {
		return s.opts.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// recordRefusal is the bearer middleware's OnError: it writes the refusal
// on the request's record with its reason (the token check that failed,
// from authn.FailureReason, for invalid tokens).
func recordRefusal(r *http.Request, e *bearer.Error, cause error) {
	ctx := r.Context()
	switch {
	case e.Code == bearer.CodeUnavailable:
		observe.Failed(ctx, observe.ReasonUnavailable, e.Description)
	case e.Code == "":
		observe.Deny(ctx, observe.ReasonMissing, "no bearer token")
	case e.Code == bearer.CodeInvalidRequest:
		observe.Deny(ctx, observe.ReasonMalformed, e.Description)
	case e.Code == bearer.CodeInsufficientScope:
		observe.Deny(ctx, observe.ReasonScope, e.Description)
	case cause != nil:
		observe.Deny(ctx, observe.Reason(authn.FailureReason(cause)), e.Description)
	default:
		observe.Deny(ctx, observe.ReasonMalformed, e.Description)
	}
}

// verifyFunc adapts a TokenVerifier to the pkg/bearer middleware: the
// verification runs as observe.PhaseVerify, a verified caller is written
// on the request's record, and key unavailability maps to 503 (fail
// closed, but honest about why).
func verifyFunc(v TokenVerifier) bearer.VerifyFunc {
	return func(ctx context.Context, raw string) (bearer.Token, error) {
		vctx, end := observe.StartPhase(ctx, observe.PhaseVerify)
		p, err := v.Verify(vctx, raw)
		end(err)
		if err != nil {
			if errors.Is(err, authn.ErrKeysUnavailable) {
				return nil, fmt.Errorf("%w: %w", bearer.ErrUnavailable, err)
			}
			return nil, err
		}
		if p == nil {
			return nil, nil
		}
		observe.SetPrincipal(ctx, p.Subject, p.ClientID, p.Issuer)
		return p, nil
	}
}
