package authz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// Default caps of [Options]: the gateway's max_body_bytes default, and a
// response cap large enough for any realistic list page. They bound memory
// per request; they do not bound the number of requests.
const (
	DefaultMaxBodyBytes     = 4 << 20
	DefaultMaxResponseBytes = 16 << 20
)

// Options configure [New].
type Options struct {
	// Deny writes the refusal of an operation the caller's token lacks
	// scopes for; scopes is every scope the operation needs
	// (RequiredScopes first, then the operation's own), so a client can
	// step up in one authorization request (RFC 6750 §3.1, MCP
	// "Scope challenge handling"). The gateway passes a func calling
	// bearer.WriteError(w, bearer.ErrInsufficientScope(scopes),
	// resourceMetadataURL, nil). Nil: the same without resource_metadata.
	Deny func(w http.ResponseWriter, r *http.Request, scopes []string)
	// RequiredScopes are the scopes every request of the route already
	// needs (global plus route required_scopes). They are not checked here
	// (the bearer middleware did) but named in Deny's scopes: a client that
	// requested only the tool's scopes would lose the route's.
	RequiredScopes []string
	// MaxBodyBytes caps POST bodies; larger ones get 413 (default
	// DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// MaxResponseBytes caps a response (JSON) or one event (SSE) that must
	// be inspected to filter a list (default DefaultMaxResponseBytes).
	// Beyond it a JSON response becomes 502 and an event stream is cut.
	MaxResponseBytes int64
	// Logger receives refusals and upstream faults (default: discard).
	Logger *slog.Logger
}

// Middleware authorizes MCP operations per tool, resource and prompt (MCP
// 2025-11-25 authorization, "Scope challenge handling"); see the package
// documentation and [Middleware.Wrap]. It does not verify tokens, Origin,
// audiences or the route's required scopes (the gateway's bearer
// middleware runs first), and holds no per-session state: every request
// is judged on its own body, so any replica can serve it.
type Middleware struct {
	tools, resources, prompts rules
	o                         Options
	log                       *slog.Logger
}

// New compiles p. It fails on an empty pattern, a pattern without scopes,
// or a scope that is not an RFC 6749 §3.3 scope token.
func New(p Policy, o Options) (*Middleware, error) {
	m := &Middleware{o: o, log: o.Logger}
	var err error
	if m.tools, err = compileRules("tool", p.Tools); err != nil {
		return nil, err
	}
	if m.resources, err = compileRules("resource", p.Resources); err != nil {
		return nil, err
	}
	if m.prompts, err = compileRules("prompt", p.Prompts); err != nil {
		return nil, err
	}
	if m.o.MaxBodyBytes <= 0 {
		m.o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if m.o.MaxResponseBytes <= 0 {
		m.o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.o.Deny == nil {
		m.o.Deny = func(w http.ResponseWriter, _ *http.Request, scopes []string) {
			bearer.WriteError(w, bearer.ErrInsufficientScope(scopes), "", nil)
		}
	}
	return m, nil
}

// Wrap returns next behind per-operation authorization. For POST it reads
// the body (capped: 413), parses it as one JSON-RPC 2.0 message or a batch
// (invalid JSON: 400 -32700; not JSON-RPC: 400 -32600; a batch with
// MCP-Protocol-Version 2025-06-18 or later: 400 -32600; a batch without
// the header is allowed, as the 2025-03-26 transport that had batches sent
// no such header), checks Mcp-Method/Mcp-Name (see checkHeaders; mismatch:
// 400 -32020), refuses through Options.Deny when the caller lacks a scope
// one of the operations needs (in a batch, one refused operation refuses
// the whole batch, naming the scopes of all of them), and hands next the
// same bytes. Responses to list requests are filtered. GET responses that
// are event streams are filtered by shape (resumed streams replay earlier
// responses, MCP 2025-11-25 "Resumability and Redelivery"); every other
// event, and every other method, passes through unchanged.
//
// The caller's scopes come from the token pkg/bearer stored in the request
// context (bearer.TokenFromContext; an *authn.Principal in the gateway, the
// same value upstream.PrincipalFrom returns; that package is not imported
// so that it may import this one). With no token every configured
// operation is refused and every configured entry filtered out.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			m.post(w, r, next)
		case http.MethodGet:
			m.get(w, r, next)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (m *Middleware) get(w http.ResponseWriter, r *http.Request, next http.Handler) {
	var shape []listKind
	for _, k := range listKinds {
		if len(m.rulesFor(k.kind)) > 0 {
			shape = append(shape, k)
		}
	}
	if len(shape) == 0 {
		next.ServeHTTP(w, r)
		return
	}
	l := &lister{allowed: entryAllowed(m.allowed(r.Context())), shape: shape}
	fw := newFilterWriter(w, l, int(m.o.MaxResponseBytes), false, m.logFunc(r))
	next.ServeHTTP(fw, r)
	fw.finish()
}

func (m *Middleware) post(w http.ResponseWriter, r *http.Request, next http.Handler) {
	body, err := io.ReadAll(io.LimitReader(r.Body, m.o.MaxBodyBytes+1))
	if err != nil {
		m.refuse(w, r, &rpcError{status: http.StatusBadRequest, code: codeInvalidRequest, msg: "reading the request body failed"})
		return
	}
	if int64(len(body)) > m.o.MaxBodyBytes {
		m.refuse(w, r, &rpcError{status: http.StatusRequestEntityTooLarge, code: codeInvalidRequest,
			msg: fmt.Sprintf("request body exceeds %d bytes", m.o.MaxBodyBytes)})
		return
	}
	msgs, batch, perr := parseBody(body)
	if perr != nil {
		m.refuse(w, r, perr)
		return
	}
	if v := r.Header.Get(versionHeader); batch && v != "" && v >= noBatchVersion {
		m.refuse(w, r, refuse(codeInvalidRequest, nil, "invalid request: JSON-RPC batches are not allowed in protocol version %s", v))
		return
	}
	if batch && (r.Header.Get(methodHeader) != "" || r.Header.Get(nameHeader) != "") {
		m.refuse(w, r, refuse(codeHeaderMismatch, nil, "header mismatch: %s/%s on a batch, which has no single method", methodHeader, nameHeader))
		return
	}
	allowed := m.allowed(r.Context())
	var needed []string
	denied := false
	lists := map[string]listKind{}
	for _, msg := range msgs {
		op, err := operationOf(msg)
		if err == nil && !batch {
			err = checkHeaders(r.Header, msg, op)
		}
		if err != nil {
			if batch {
				err.id = nil
			}
			m.refuse(w, r, err)
			return
		}
		if need := m.rulesFor(op.kind).needs(op.names...); len(need) > 0 {
			needed = union(needed, need)
			denied = denied || !allowed(op.kind, op.names...)
		}
		if k, ok := listKindOf(msg.method); ok && msg.id != nil && len(m.rulesFor(k.kind)) > 0 {
			if key, ok := idKey(msg.id); ok {
				lists[key] = k
			}
		}
	}
	if denied {
		scopes := union(slices.Clone(m.o.RequiredScopes), needed)
		m.log.LogAttrs(r.Context(), slog.LevelInfo, "operation refused: insufficient scope",
			slog.String("path", r.URL.Path), slog.Any("scopes", scopes))
		m.o.Deny(w, r, scopes)
		return
	}
	r2 := r.WithContext(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	r2.TransferEncoding = nil
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if len(lists) == 0 {
		next.ServeHTTP(w, r2)
		return
	}
	l := &lister{allowed: entryAllowed(allowed), byID: lists}
	fw := newFilterWriter(w, l, int(m.o.MaxResponseBytes), true, m.logFunc(r))
	next.ServeHTTP(fw, r2)
	fw.finish()
}

// allowed returns whether the request's caller holds every scope the kind's
// patterns matching any of names need.
func (m *Middleware) allowed(ctx context.Context) func(k kind, names ...string) bool {
	tok := token(ctx)
	return func(k kind, names ...string) bool {
		need := m.rulesFor(k).needs(names...)
		if len(need) == 0 {
			return true
		}
		return tok != nil && len(tok.MissingScopes(need)) == 0
	}
}

// entryAllowed adapts allowed to one listed entry, matching resources with
// their dot-segment-resolved variant too.
func entryAllowed(allowed func(kind, ...string) bool) func(kind, string) bool {
	return func(k kind, name string) bool {
		if k == kindResource {
			return allowed(k, uriVariants(name)...)
		}
		return allowed(k, name)
	}
}

func (m *Middleware) rulesFor(k kind) rules {
	switch k {
	case kindTool:
		return m.tools
	case kindResource:
		return m.resources
	case kindPrompt:
		return m.prompts
	}
	return nil
}

// token is the verified token of the request, nil when there is none (a
// nil *authn.Principal counts as none).
func token(ctx context.Context) bearer.Token {
	t := bearer.TokenFromContext(ctx)
	if p, ok := t.(*authn.Principal); ok && p == nil {
		return nil
	}
	return t
}

func (m *Middleware) refuse(w http.ResponseWriter, r *http.Request, e *rpcError) {
	m.log.LogAttrs(r.Context(), slog.LevelInfo, "request refused",
		slog.String("path", r.URL.Path), slog.Int("status", e.status), slog.Int64("code", e.code), slog.String("reason", e.msg))
	writeRPCError(w, e)
}

func (m *Middleware) logFunc(r *http.Request) func(string, error) {
	return func(msg string, err error) {
		lvl := slog.LevelWarn
		if errors.Is(err, context.Canceled) {
			lvl = slog.LevelDebug
		}
		m.log.LogAttrs(r.Context(), lvl, msg, slog.String("path", r.URL.Path), slog.Any("error", err))
	}
}
