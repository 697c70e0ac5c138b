package bearer

import (
	"context"
	"errors"
	"net/http"
)

// Token is what a verifier returns for an accepted access token.
type Token interface {
	// MissingScopes returns which of required the token does not hold,
	// nil when none. A token may honour a scope hierarchy (MCP 2026-07-28:
	// "a broader scope implies narrower ones"; see the gateway's
	// authn.Principal): then a granted broader scope satisfies a narrower
	// required one.
	MissingScopes(required []string) []string
}

// VerifyFunc verifies a raw access token. It returns an error wrapping
// ErrUnavailable when it cannot decide (for example, the issuer's keys cannot
// be fetched); any other error means the token is invalid, and its text is
// shown to the client as error_description, so it must not leak secrets.
type VerifyFunc func(ctx context.Context, raw string) (Token, error)

// ErrUnavailable tells the middleware that verification could not be
// performed; the request gets 503 with Retry-After (fail closed).
var ErrUnavailable = errors.New("token verification temporarily unavailable")

// Options configure [Middleware].
type Options struct {
	// Verify is required.
	Verify VerifyFunc
	// ResourceMetadata is the RFC 9728 metadata URL named in every challenge.
	ResourceMetadata string
	// Scopes are required of every request (Token.MissingScopes decides);
	// they are also named, all of them as given, in the 401 challenge so
	// clients request them (MCP scope selection) and in the 403
	// insufficient_scope challenge, whatever subset is missing.
	Scopes []string
	// OnError, when set, is called with each rejection (for logs and metrics).
	OnError func(r *http.Request, e *Error, cause error)
}

type tokenKey struct{}

// TokenFromContext returns the verified token the middleware stored, or nil.
func TokenFromContext(ctx context.Context) Token {
	t, _ := ctx.Value(tokenKey{}).(Token)
	return t
}

// WithToken returns ctx carrying t (for tests and other middleware).
func WithToken(ctx context.Context, t Token) context.Context {
	return context.WithValue(ctx, tokenKey{}, t)
}

// Middleware requires a valid bearer token with opts.Scopes on every request.
// It writes every failure through [WriteError]. It does not check Origin,
// audiences or per-operation scopes: the verifier and later handlers do.
func Middleware(opts Options) func(http.Handler) http.Handler {
	if opts.Verify == nil {
		panic("bearer: Options.Verify is required")
	}
	fail := func(w http.ResponseWriter, r *http.Request, e *Error, cause error) {
		if opts.OnError != nil {
			opts.OnError(r, e, cause)
		}
		WriteError(w, e, opts.ResourceMetadata, opts.Scopes)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, e := ExtractToken(r)
			if e != nil {
				fail(w, r, e, nil)
				return
			}
			tok, err := opts.Verify(r.Context(), raw)
			switch {
			case errors.Is(err, ErrUnavailable):
				fail(w, r, &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
					Description: "the authorization server's keys are unavailable; retry later"}, err)
				return
			case err != nil:
				fail(w, r, ErrInvalidToken(err.Error()), err)
				return
			case tok == nil:
				fail(w, r, ErrInvalidToken("token rejected"), nil)
				return
			}
			if missing := tok.MissingScopes(opts.Scopes); len(missing) > 0 {
				fail(w, r, ErrInsufficientScope(opts.Scopes), nil)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithToken(r.Context(), tok)))
		})
	}
}
