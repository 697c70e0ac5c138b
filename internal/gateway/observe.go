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

// observed opens the observe record of every request on route (the
// outermost layer, so that Origin refusals are recorded too), sends its id
// as X-Request-Id, and closes it with the status answered when the
// handler returns (for a stream, when the stream ends).
func (s *Server) observed(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, rec := s.hub.Start(r.Context(), route, r, s.clientIP(r))
		w.Header().Set("X-Request-Id", rec.ID())
		sw := &statusWriter{ResponseWriter: w}
		defer func() { rec.Finish(ctx, sw.Status()) }()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

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

// statusWriter remembers the status written; Unwrap lets
// http.ResponseController reach the connection (flushes, deadlines).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush forwards to the underlying writer (streams flush every event).
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status is the status written, 200 if only a body was, 0 if nothing was.
func (w *statusWriter) Status() int { return w.status }
