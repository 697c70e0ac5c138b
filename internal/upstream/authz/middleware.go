package authz

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// DefaultMaxResponseBytes is the default of Options.MaxResponseBytes: large
// enough for any realistic list page. It bounds memory per request, not
// the number of requests.
const DefaultMaxResponseBytes = 16 << 20

// Options configure [New].
type Options struct {
	// Deny writes the refusal of an operation the caller's token lacks
	// scopes for; scopes is every scope the operation needs
	// (RequiredScopes first, then the operation's own), so a client can
	// step up in one authorization request (RFC 6750 §3.1, MCP
	// "Scope challenge handling"). They are the scopes as configured (the
	// narrow ones), never the broader scopes that scope_implies says would
	// also satisfy them. The gateway passes a func calling
	// bearer.WriteError(w, bearer.ErrInsufficientScope(scopes),
	// resourceMetadataURL, nil). Nil: the same without resource_metadata.
	Deny func(w http.ResponseWriter, r *http.Request, scopes []string)
	// RequiredScopes are the scopes every request of the route already
	// needs (global plus route required_scopes). They are not checked here
	// (the bearer middleware did) but named in Deny's scopes: a client that
	// requested only the tool's scopes would lose the route's.
	RequiredScopes []string
	// MaxResponseBytes caps a response (JSON) or one event (SSE) that must
	// be inspected (default DefaultMaxResponseBytes). Beyond it a JSON
	// response becomes 502 and an event stream ends.
	MaxResponseBytes int64
	// Logger receives upstream faults (default: discard). Refusals and
	// unforwardable answers are recorded on the request's observe record
	// (internal/observe), not logged.
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
	// shape are the list kinds with rules; none: answers are not inspected.
	shape []listKind
	o     Options
	log   *slog.Logger
}

// New compiles p. It fails on an empty pattern, a pattern without scopes,
// or a scope that is not an RFC 6749 §3.3 scope token.
func New(p Policy, o Options) (*Middleware, error) {
	m := &Middleware{o: o, log: o.Logger}
	var err error
	if m.tools, err = compileRules("tool", p.Tools, nameViews); err != nil {
		return nil, err
	}
	if m.resources, err = compileRules("resource", p.Resources, uriPatternViews); err != nil {
		return nil, err
	}
	if m.prompts, err = compileRules("prompt", p.Prompts, nameViews); err != nil {
		return nil, err
	}
	for _, k := range listKinds {
		if len(m.rulesFor(k.kind)) > 0 {
			m.shape = append(m.shape, k)
		}
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

// Wrap returns next behind per-operation authorization. It must be mounted
// behind [call.Read], whose parsed body and principal it uses
// ([call.From]); a POST without a parsed body is a wiring bug and gets 500
// (-32603). For POST it refuses a batch where the MCP-Protocol-Version
// header forbids one ([mcpwire.BatchAllowed]: 400 -32600), checks
// Mcp-Method/Mcp-Name (see checkHeaders; 400 -32020), reads the operations
// of governed methods (see operationOf; unreadable params: 400 -32602),
// refuses through Options.Deny when the caller lacks a scope one of them
// needs (in a batch, one refused operation refuses the whole batch, naming
// the scopes of all of them), and otherwise hands next the request as it
// came. When the policy has rules, the upstream's answer is checked, as
// the package documentation's invariant says: POST answers by request id
// (a response to no request of the POST, or an answer that cannot be
// parsed, is never forwarded), GET event streams by shape; list results
// are filtered, and, under a sessionless MCP-Protocol-Version, list
// results of kinds with rules and reads of restricted resources are
// marked cacheScope "private" (MCP 2026-07-28 "Caching": they depend on
// the caller). Messages of methods the policy does not govern pass
// untouched.
//
// With no principal every configured operation is refused and every
// configured entry filtered out.
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
	if len(m.shape) == 0 {
		next.ServeHTTP(w, r)
		return
	}
	a := &answerFilter{allowed: m.entryAllowed(call.From(r.Context()).Principal), shape: m.shape}
	m.serveFiltered(w, r, next, a, nil, nil)
}

func (m *Middleware) post(w http.ResponseWriter, r *http.Request, next http.Handler) {
	c := call.From(r.Context())
	if c.Body == nil {
		m.log.LogAttrs(r.Context(), slog.LevelError, "authz: POST without a parsed body: call.Read is not mounted in front of authz",
			slog.String("path", r.URL.Path))
		mcpwire.WriteError(w, mcpwire.Errorf(http.StatusInternalServerError, mcpwire.CodeInternalError, nil, "internal error"))
		return
	}
	body, v := c.Body, r.Header.Get(mcpwire.HeaderProtocolVersion)
	// The decision is observe.PhaseAuthz: it ends refused unless the
	// request reaches next.
	_, endAuthz := observe.StartPhase(r.Context(), observe.PhaseAuthz)
	authorized := false
	defer func() {
		if !authorized {
			endAuthz(errors.New("authz: refused"))
		}
	}()
	if body.Batch && !mcpwire.BatchAllowed(v) {
		m.refuse(w, r, mcpwire.Errorf(http.StatusBadRequest, mcpwire.CodeInvalidRequest, nil,
			"invalid request: JSON-RPC batches are not allowed in protocol version %s", v))
		return
	}
	if body.Batch && (r.Header.Get(mcpwire.HeaderMethod) != "" || r.Header.Get(mcpwire.HeaderName) != "") {
		m.refuse(w, r, mcpwire.Errorf(http.StatusBadRequest, mcpwire.CodeHeaderMismatch, nil,
			"header mismatch: %s/%s on a batch, which has no single method", mcpwire.HeaderMethod, mcpwire.HeaderName))
		return
	}
	sessionless := mcpwire.Sessionless(v)
	a := &answerFilter{allowed: m.entryAllowed(c.Principal), requests: map[mcpwire.Key]*request{}, answered: map[mcpwire.Key]bool{}}
	var order []mcpwire.Key
	var needed []string
	denied := false
	for i := range body.Messages {
		msg := &body.Messages[i]
		op, err := operationOf(msg, sessionless)
		if err == nil && !body.Batch {
			err = checkHeaders(r.Header, msg, op)
		}
		if err != nil {
			if body.Batch {
				err = err.WithID(nil)
			}
			m.refuse(w, r, err)
			return
		}
		var need []string
		if op.kind != kindNone {
			need = m.needs(op.kind, op.names...)
			needed = union(needed, need)
			denied = denied || !holds(c.Principal, need)
		}
		if key, ok := msg.Key(); ok && msg.IsRequest() {
			req := &request{id: msg.ID}
			if k, ok := listKindOf(msg.Method); ok && len(m.rulesFor(k.kind)) > 0 {
				req.list, req.private = &k, sessionless
			}
			req.private = req.private || sessionless && msg.Method == "resources/read" && len(need) > 0
			a.requests[key] = req
			order = append(order, key)
		}
	}
	if denied {
		scopes := union(slices.Clone(m.o.RequiredScopes), needed)
		observe.Deny(r.Context(), observe.ReasonScope, "insufficient scope: needs "+strings.Join(scopes, " "))
		m.o.Deny(w, r, scopes)
		return
	}
	authorized = true
	endAuthz(nil)
	if len(m.shape) == 0 {
		next.ServeHTTP(w, r)
		return
	}
	m.serveFiltered(w, r, next, a, order, body.FirstID())
}

// serveFiltered runs next with its answer checked by a.
func (m *Middleware) serveFiltered(w http.ResponseWriter, r *http.Request, next http.Handler, a *answerFilter, order []mcpwire.Key, failID []byte) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	rc := http.NewResponseController(w)
	fw := &filterWriter{w: w, a: a, max: int(m.o.MaxResponseBytes), post: r.Method == http.MethodPost,
		order: order, failID: failID, cancel: cancel, log: m.logFunc(r), flush: func() { _ = rc.Flush() },
		failed: func(detail string) { observe.Failed(r.Context(), observe.ReasonUpstream, detail) }}
	next.ServeHTTP(fw, r.WithContext(ctx))
	fw.finish()
}

// needs returns the scopes the kind's rules require for names.
func (m *Middleware) needs(k kind, names ...string) []string {
	targets := make([][]string, len(names))
	for i, n := range names {
		targets[i] = m.views(k, n)
	}
	return m.rulesFor(k).needs(targets...)
}

// views are the spellings of a name that rules match (see Policy).
func (m *Middleware) views(k kind, name string) []string {
	if k == kindResource {
		return uriViews(name)
	}
	return nameViews(name)
}

// entryAllowed reports whether p may use a listed entry.
func (m *Middleware) entryAllowed(p *authn.Principal) func(kind, string) bool {
	return func(k kind, name string) bool { return holds(p, m.needs(k, name)) }
}

// holds reports whether p holds every scope of need, granted or implied
// by a granted one (Principal.MissingScopes honours the principal's
// authn.ScopeImplications, for calls and list filtering alike); a nil p
// holds none. It does not allocate when p holds them all.
func holds(p *authn.Principal, need []string) bool {
	return len(need) == 0 || p != nil && len(p.MissingScopes(need)) == 0
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

func (m *Middleware) refuse(w http.ResponseWriter, r *http.Request, e *mcpwire.Error) {
	observe.Deny(r.Context(), observe.ReasonInvalidRequest, e.Message)
	mcpwire.WriteError(w, e)
}

func (m *Middleware) logFunc(r *http.Request) func(string, error) {
	return func(msg string, err error) {
		lvl := slog.LevelWarn
		if err == nil || errors.Is(err, context.Canceled) {
			lvl = slog.LevelDebug
		}
		m.log.LogAttrs(r.Context(), lvl, msg, slog.String("path", r.URL.Path), slog.Any("error", err))
	}
}
