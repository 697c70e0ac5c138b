package observe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// Observer receives every event. Observe is called once per event, in the
// goroutine of the request that ended, after the response was written; it
// must not block on I/O it cannot bound, and must treat e as read-only.
type Observer interface {
	Observe(ctx context.Context, e *Event)
}

// Phase names a timed part of a request.
type Phase string

// Phases.
const (
	// PhaseRequest is the whole request, from Hub.Start to Request.Finish.
	PhaseRequest Phase = "request"
	// PhaseVerify is the access token's verification.
	PhaseVerify Phase = "verify"
	// PhaseAuthz is per-operation authorization.
	PhaseAuthz Phase = "authz"
	// PhaseUpstream is the call to the upstream, until its answer starts.
	PhaseUpstream Phase = "upstream"
)

// PhaseObserver is implemented by observers that time phases (tracing).
// StartPhase returns the context the phase runs in (carrying a span) and
// the func that ends it, called once with the phase's error (nil: ok).
type PhaseObserver interface {
	StartPhase(ctx context.Context, p Phase, rec *Request) (context.Context, func(err error))
}

// Hub fans a request's record out to the observers.
type Hub struct {
	observers []Observer
	phases    []PhaseObserver
	now       func() time.Time
}

// NewHub returns a hub over observers (nil entries are skipped); those
// that implement PhaseObserver also time phases.
func NewHub(observers ...Observer) *Hub {
	h := &Hub{now: time.Now}
	for _, o := range observers {
		if o == nil {
			continue
		}
		h.observers = append(h.observers, o)
		if p, ok := o.(PhaseObserver); ok {
			h.phases = append(h.phases, p)
		}
	}
	return h
}

// WithClock sets the hub's clock (tests); it returns h.
func (h *Hub) WithClock(now func() time.Time) *Hub {
	h.now = now
	return h
}

// Request is the record of one HTTP request on a route. Its setters are
// safe for concurrent use; the first decision written wins.
type Request struct {
	hub *Hub
	// Header is the incoming request's header (read-only), for observers
	// that extract context from it (W3C traceparent) when a phase starts;
	// nil once Finish has run.
	Header http.Header

	mu       sync.Mutex
	ev       Event
	ops      []Operation
	ends     []func(error)
	finished bool
}

type recordKey struct{}

// Start opens the record of r on route, with the client's IP, and returns
// the context that carries it (and the request phase of the phase
// observers). The caller must call Finish once.
func (h *Hub) Start(ctx context.Context, route string, r *http.Request, remoteIP string) (context.Context, *Request) {
	rec := &Request{hub: h, Header: r.Header}
	rec.ev = Event{Time: h.now(), RequestID: newRequestID(), Route: route, HTTPMethod: r.Method, RemoteIP: remoteIP}
	ctx = context.WithValue(ctx, recordKey{}, rec)
	for _, p := range h.phases {
		var end func(error)
		ctx, end = p.StartPhase(ctx, PhaseRequest, rec)
		rec.ends = append(rec.ends, end)
	}
	return ctx, rec
}

// ID is the request id (also sent as X-Request-Id).
func (rec *Request) ID() string { return rec.ev.RequestID }

// From returns the record in ctx, or nil. Every setter below accepts a
// context without one and then does nothing.
func From(ctx context.Context) *Request {
	rec, _ := ctx.Value(recordKey{}).(*Request)
	return rec
}

// Snapshot returns a copy of the event as recorded so far (operations
// not expanded).
func (rec *Request) Snapshot() Event {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.ev
}

func update(ctx context.Context, f func(e *Event, rec *Request)) {
	rec := From(ctx)
	if rec == nil {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	f(&rec.ev, rec)
}

// Deny records that the gateway refused the request for reason; detail
// is what the client was told. The first decision recorded wins.
func Deny(ctx context.Context, reason Reason, detail string) {
	decide(ctx, DecisionDeny, reason, detail)
}

// Failed records that an allowed request failed on the way (reason
// ReasonUpstream, ReasonTimeout, ReasonUnavailable).
func Failed(ctx context.Context, reason Reason, detail string) {
	decide(ctx, DecisionError, reason, detail)
}

func decide(ctx context.Context, d Decision, reason Reason, detail string) {
	update(ctx, func(e *Event, _ *Request) {
		if e.Decision == "" {
			e.Decision, e.Reason, e.Detail = d, reason, detail
		}
	})
}

// SetPrincipal records the verified caller.
func SetPrincipal(ctx context.Context, subject, clientID, issuer string) {
	update(ctx, func(e *Event, _ *Request) { e.Subject, e.ClientID, e.Issuer = subject, clientID, issuer })
}

// SetOperations records the JSON-RPC messages of the body.
func SetOperations(ctx context.Context, ops []Operation) {
	update(ctx, func(_ *Event, rec *Request) { rec.ops = ops })
}

// SetUpstream records the upstream's status (0 when it has none), the
// time until its answer started and, on failure, the error kind
// (connect, status, timeout, protocol, process).
func SetUpstream(ctx context.Context, status int, latency time.Duration, errKind string) {
	update(ctx, func(e *Event, _ *Request) {
		e.UpstreamStatus, e.UpstreamLatency, e.UpstreamError = status, latency, errKind
	})
}

// SetTraceID records the request's W3C trace id (the tracing observer
// does, when a span starts).
func SetTraceID(ctx context.Context, id string) {
	update(ctx, func(e *Event, _ *Request) { e.TraceID = id })
}

// StartPhase starts phase p of the request in ctx for every phase
// observer; the returned func ends it (call it once, with the phase's
// error). Without a record or phase observers it returns ctx and a no-op.
func StartPhase(ctx context.Context, p Phase) (context.Context, func(error)) {
	rec := From(ctx)
	if rec == nil || len(rec.hub.phases) == 0 {
		return ctx, func(error) {}
	}
	ends := make([]func(error), 0, len(rec.hub.phases))
	for _, po := range rec.hub.phases {
		var end func(error)
		ctx, end = po.StartPhase(ctx, p, rec)
		ends = append(ends, end)
	}
	return ctx, func(err error) {
		for i := len(ends) - 1; i >= 0; i-- {
			ends[i](err)
		}
	}
}

// Finish closes the record with the HTTP status answered and hands one
// event per operation (one event when the body had none, or for GET and
// DELETE) to every observer, then ends the request phase and drops the
// record's references to the request (see release). A request without a
// decision is allowed. Later calls do nothing.
func (rec *Request) Finish(ctx context.Context, status int) {
	rec.mu.Lock()
	if rec.finished {
		rec.mu.Unlock()
		return
	}
	rec.finished = true
	e := rec.ev
	ops := rec.ops
	rec.mu.Unlock()

	e.Status = status
	e.Latency = rec.hub.now().Sub(e.Time)
	if e.Decision == "" {
		e.Decision = DecisionAllow
	}
	if len(ops) > 1 {
		e.Batch = len(ops)
	}
	if len(ops) == 0 {
		rec.emit(ctx, &e)
	}
	for _, op := range ops {
		ev := e
		ev.Operation = op
		rec.emit(ctx, &ev)
	}
	var err error
	if e.Decision != DecisionAllow {
		err = decisionError{e.Decision, e.Reason}
	}
	for i := len(rec.ends) - 1; i >= 0; i-- {
		rec.ends[i](err)
	}
	rec.release()
}

// release drops what the record needs only until Finish: the request's
// header (its bearer token among it), the operations and the phase ends.
// A record can outlive its request: the go-sdk keeps the context of the
// request that created a session (with the record in it) for the
// session's life, and a header map held there costs every idle session
// its initialize request's header for as long as the session lasts.
func (rec *Request) release() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.Header, rec.ops, rec.ends = nil, nil, nil
}

func (rec *Request) emit(ctx context.Context, e *Event) {
	for _, o := range rec.hub.observers {
		o.Observe(ctx, e)
	}
}

// decisionError ends a refused or failed request's phase with its reason.
type decisionError struct {
	d Decision
	r Reason
}

func (e decisionError) Error() string { return string(e.d) + ": " + string(e.r) }

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
