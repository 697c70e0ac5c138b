package mcpidentity

import (
	"context"
	"errors"
	"net/http"
)

// Verifier checks a request's identity headers; [HMACVerifier] and
// [JWSVerifier] implement it.
type Verifier interface {
	Verify(h http.Header) (*Identity, error)
}

var (
	_ Verifier = (*HMACVerifier)(nil)
	_ Verifier = (*JWSVerifier)(nil)
)

type ctxKey struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the identity [Middleware] verified, or nil.
func FromContext(ctx context.Context) *Identity {
	id, _ := ctx.Value(ctxKey{}).(*Identity)
	return id
}

// Middleware serves next only for requests whose identity headers verify,
// with the identity in the request context ([FromContext]). Any other
// request gets 401 with a short text/plain reason (missing, invalid or
// expired; never the details, which could help a forger) and no
// WWW-Authenticate challenge: the caller is the gateway, not an OAuth
// client. It checks no scopes; use [Identity.HasScope] in handlers.
//
// Handlers that do not run in the request's context (for example go-sdk
// MCP tool handlers, which run in the session's) can verify again from the
// headers the SDK hands them (mcp.RequestExtra.Header).
func Middleware(v Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := v.Verify(r.Header)
		if err != nil {
			reason := "invalid gateway identity"
			switch {
			case errors.Is(err, ErrMissing):
				reason = "missing gateway identity"
			case errors.Is(err, ErrExpired):
				reason = "expired gateway identity"
			}
			http.Error(w, reason, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}
