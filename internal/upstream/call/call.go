// Package call carries one MCP request's verified caller and its parsed
// JSON-RPC body from the gateway's front to whatever serves the route
// (per-operation authorization, the HTTP proxy, the stdio relay, the
// built-in server, identity injection): the one accessor for both, so
// that the body is read once, capped once and parsed once.
//
// [Read] (and [ReadWithin], which bounds the time the body may take) is
// the front: it runs after the bearer middleware stored the verified
// token. It does not check the token, Origin, scopes or the
// MCP-Protocol-Version header.
package call

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// DefaultMaxBodyBytes caps a POST body when [Read] is given no cap.
const DefaultMaxBodyBytes = 4 << 20

// Call is what the gateway knows of one MCP request.
type Call struct {
	// Principal is the verified caller; nil when the bearer middleware
	// stored none (every consumer then fails closed).
	Principal *authn.Principal
	// Body is the parsed POST body; nil for GET and DELETE.
	Body *mcpwire.Body
}

type key struct{}

// With returns ctx carrying c.
func With(ctx context.Context, c *Call) context.Context { return context.WithValue(ctx, key{}, c) }

// From returns the request's Call: the one [Read] stored, or, when none was
// stored (a handler mounted without Read, as in unit tests of GET
// streams), one holding the principal of the bearer token in ctx and no
// body. It never returns nil.
func From(ctx context.Context) *Call {
	if c, ok := ctx.Value(key{}).(*Call); ok && c != nil {
		return c
	}
	return &Call{Principal: principalOf(ctx)}
}

// PrincipalFrom returns the verified principal of the request, or nil.
func PrincipalFrom(ctx context.Context) *authn.Principal { return From(ctx).Principal }

func principalOf(ctx context.Context) *authn.Principal {
	p, _ := bearer.TokenFromContext(ctx).(*authn.Principal)
	return p
}

// Read returns next behind the one body reader of MCP requests. For POST
// it reads the body once, up to maxBody bytes (<= 0: DefaultMaxBodyBytes;
// beyond: 413 with a JSON-RPC error), parses it with [mcpwire.ParseBody]
// (invalid JSON: 400 -32700; not JSON-RPC: 400 -32600), and hands next a
// request whose context carries the [Call] and whose Body replays the same
// bytes (for handlers, such as the go-sdk's, that read it themselves). GET
// and DELETE carry a Call without a body. The principal comes from the
// bearer token in the request context. It sets no deadline: see
// [ReadWithin].
func Read(maxBody int64, next http.Handler) http.Handler { return ReadWithin(maxBody, 0, next) }

// ReadWithin is [Read] with a deadline: when timeout > 0 the whole POST
// body must arrive within timeout of the request reaching it, or the
// request gets 408 with a JSON-RPC error (-32000) and its connection is
// closed, so that a client trickling its body cannot hold a connection
// and a goroutine for long. The deadline is the connection's read
// deadline, set through http.ResponseController (every writer wrapping
// w must Unwrap to the connection's; if none supports it the request
// fails closed with 500), and cleared once the body has been read, so
// that long responses and streams are not cut.
func ReadWithin(maxBody int64, timeout time.Duration, next http.Handler) http.Handler {
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &Call{Principal: principalOf(r.Context())}
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r.WithContext(With(r.Context(), c)))
			return
		}
		rc := http.NewResponseController(w)
		if timeout > 0 {
			if err := rc.SetReadDeadline(time.Now().Add(timeout)); err != nil {
				observe.Failed(r.Context(), observe.ReasonBodyTimeout, "request body deadline unavailable")
				mcpwire.WriteError(w, mcpwire.Errorf(http.StatusInternalServerError, mcpwire.CodeInternalError, nil, "request body deadline unavailable"))
				return
			}
		}
		raw, err := readBody(r, maxBody)
		if err != nil {
			// The deadline stays: whatever the server still reads of this
			// body on its way out stops at it.
			reason := observe.ReasonInvalidRequest
			switch err.Status {
			case http.StatusRequestEntityTooLarge:
				reason = observe.ReasonBodyTooLarge
			case http.StatusRequestTimeout:
				reason = observe.ReasonBodyTimeout
				w.Header().Set("Connection", "close")
			}
			observe.Deny(r.Context(), reason, err.Message)
			mcpwire.WriteError(w, err)
			return
		}
		if timeout > 0 {
			_ = rc.SetReadDeadline(time.Time{})
		}
		body, perr := mcpwire.ParseBody(raw)
		if perr != nil {
			observe.Deny(r.Context(), observe.ReasonInvalidRequest, perr.Message)
			mcpwire.WriteError(w, perr)
			return
		}
		c.Body = body
		observe.SetOperations(r.Context(), Operations(body))
		r2 := r.WithContext(With(r.Context(), c))
		r2.Body = io.NopCloser(bytes.NewReader(raw))
		r2.ContentLength = int64(len(raw))
		r2.TransferEncoding = nil
		r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
		next.ServeHTTP(w, r2)
	})
}

func readBody(r *http.Request, max int64) ([]byte, *mcpwire.Error) {
	tooLarge := func() *mcpwire.Error {
		return mcpwire.Errorf(http.StatusRequestEntityTooLarge, mcpwire.CodeInvalidRequest, nil, "request body exceeds %d bytes", max)
	}
	if r.ContentLength > max {
		return nil, tooLarge()
	}
	if r.Body == nil {
		return nil, mcpwire.Errorf(http.StatusBadRequest, mcpwire.CodeParseError, nil, "parse error: empty body")
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, tooLarge()
		case isTimeout(err):
			return nil, mcpwire.Errorf(http.StatusRequestTimeout, mcpwire.CodeServerError, nil, "request body not received in time")
		}
		return nil, mcpwire.Errorf(http.StatusBadRequest, mcpwire.CodeInvalidRequest, nil, "reading the request body failed")
	}
	if int64(len(raw)) > max {
		return nil, tooLarge()
	}
	return raw, nil
}

// isTimeout reports a read that ended at its deadline (HTTP/1 returns the
// connection's timeout, HTTP/2 os.ErrDeadlineExceeded).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// Operations lists what body's messages are for observers: each message's
// method and, for tools/call and prompts/get, the name, for
// resources/read and resources/subscribe the URI (a missing or non-string
// member gives ""; authorization refuses those, not this).
func Operations(body *mcpwire.Body) []observe.Operation {
	ops := make([]observe.Operation, 0, len(body.Messages))
	for _, m := range body.Messages {
		op := observe.Operation{Method: m.Method}
		switch m.Method {
		case "tools/call", "prompts/get":
			op.Name, _ = m.ParamString("name")
		case "resources/read", "resources/subscribe":
			op.Name, _ = m.ParamString("uri")
		}
		ops = append(ops, op)
	}
	return ops
}
