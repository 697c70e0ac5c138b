package httpproxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

// Buffer sizes of a bridge session.
const (
	toClientBuffer = 64 // server-initiated messages awaiting the client's GET
	notesBuffer    = 32 // notifications and server requests awaiting one client POST
)

var (
	errUpstreamStatus = errors.New("upstream answered with an unexpected status")
	errNoEndpoint     = errors.New("upstream sse stream did not announce a usable endpoint")
	errBridgeClosed   = errors.New("bridge closed")
)

// bridge holds the legacy HTTP+SSE sessions of one Proxy (see the package
// doc). Sessions live in this process only.
type bridge struct {
	p        *Proxy
	mu       sync.Mutex
	sessions map[string]*bridgeSession
	closed   bool // set under mu before wg.Wait: no goroutine starts after
	wg       sync.WaitGroup
}

// bridgeSession is one upstream SSE stream and its routing state.
type bridgeSession struct {
	b        *bridge
	id       string
	owner    string
	endpoint string
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{} // closed when the upstream stream has ended

	mu sync.Mutex
	// principal is the owner as of the latest client POST (the
	// initializing one first): the identity of the upstream requests the
	// session makes on its own (refusals of server requests).
	principal *authn.Principal
	ended     bool                    // the reader is finishing: start no goroutine
	waiters   map[mcpwire.Key]*waiter // by request id
	progress  map[mcpwire.Key]*waiter // by progress token
	outbox    []item                  // for the client's GET stream, oldest first
	outReady  chan struct{}           // signalled (cap 1) when outbox gains an item
	getActive bool
	active    int
	lastUsed  time.Time
}

// waiter receives what the upstream sends for one client POST: the
// responses to its requests, progress for their tokens, and the server
// messages attributed to it, in order. ch has room for every expected
// response plus notesBuffer; other messages never take a response's place,
// so the reader never blocks on a slow client.
type waiter struct {
	ch       chan item
	reserved int // responses still expected; guarded by the session's mu
}

// item is one upstream message for a client stream.
type item struct {
	data []byte
	// answers is the key of the client request a response answers; "" for
	// other messages.
	answers mcpwire.Key
	// serverID is the id of a server-to-client request (nil otherwise): if
	// no client stream takes it, the bridge refuses it upstream.
	serverID json.RawMessage
}

func newBridge(p *Proxy) *bridge {
	b := &bridge{p: p, sessions: map[string]*bridgeSession{}}
	b.wg.Add(1)
	go b.janitor()
	return b
}

// janitor ends idle sessions until the proxy closes.
func (b *bridge) janitor() {
	defer b.wg.Done()
	clk := b.p.o.clock
	every := max(min(b.p.o.SessionIdleTimeout/4, time.Minute), 10*time.Millisecond)
	for {
		select {
		case <-b.p.ctx.Done():
			return
		case <-clk.After(every):
		}
		now := clk.Now()
		b.mu.Lock()
		var idle []*bridgeSession
		for _, s := range b.sessions {
			s.mu.Lock()
			if s.active == 0 && now.Sub(s.lastUsed) > b.p.o.SessionIdleTimeout {
				idle = append(idle, s)
			}
			s.mu.Unlock()
		}
		b.mu.Unlock()
		for _, s := range idle {
			b.p.log.Info("bridge session idle; closing")
			s.cancel()
		}
	}
}

// close ends every session and waits for the bridge's goroutines; the
// proxy's context is already cancelled.
func (b *bridge) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.wg.Wait()
}

// lookup returns the live session id owned by pr, or nil.
func (b *bridge) lookup(id string, pr *authn.Principal) *bridgeSession {
	b.mu.Lock()
	s := b.sessions[id]
	b.mu.Unlock()
	if s == nil || s.owner != principalKey(pr) || s.ctx.Err() != nil {
		return nil
	}
	return s
}

// open connects to the upstream SSE endpoint, reads its endpoint event and
// registers a session. The upstream stream is bound to the proxy's lifetime,
// not to r; identity headers are those of the initializing request.
func (b *bridge) open(r *http.Request, pr *authn.Principal) (*bridgeSession, int, error) {
	b.mu.Lock()
	full := len(b.sessions) >= b.p.o.MaxSessions
	b.mu.Unlock()
	if full {
		return nil, http.StatusServiceUnavailable, errors.New("bridge session cap reached")
	}
	// The session holds one of the principal's session slots while it lives.
	if !b.p.owned.acquire(principalKey(pr)) {
		return nil, http.StatusTooManyRequests, errors.New("per-principal session cap reached")
	}
	ctx, cancel := context.WithCancel(b.p.ctx)
	stop := context.AfterFunc(r.Context(), cancel) // only while opening
	defer stop()
	fail := func(status int, err error) (*bridgeSession, int, error) {
		cancel()
		b.p.owned.release(principalKey(pr))
		return nil, status, err
	}
	var timedOut atomic.Bool
	t := time.AfterFunc(b.p.o.Timeout, func() { timedOut.Store(true); cancel() })
	defer t.Stop()
	status := func() int {
		if timedOut.Load() {
			return http.StatusGatewayTimeout
		}
		return http.StatusBadGateway
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.p.target.String(), nil)
	if err != nil {
		return fail(http.StatusInternalServerError, err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if ua := r.Header.Get("User-Agent"); ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	// The stream outlives the request: the injector gets the session's
	// context, with the open's deadline.
	if err := b.p.identify(ctx, req.Header, pr); err != nil {
		return fail(http.StatusInternalServerError, err)
	}
	resp, err := b.p.client.Do(req)
	if err != nil {
		return fail(status(), err)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || mt != "text/event-stream" {
		resp.Body.Close()
		return fail(http.StatusBadGateway, fmt.Errorf("%w: GET answered %d %s", errUpstreamStatus, resp.StatusCode, mt))
	}
	rd := mcpwire.NewReader(resp.Body, mcpwire.DefaultMaxEventBytes)
	endpoint, err := b.readEndpoint(rd)
	if err != nil || !t.Stop() {
		resp.Body.Close()
		return fail(status(), fmt.Errorf("%w: %w", errNoEndpoint, err))
	}
	s := &bridgeSession{
		b: b, id: randomID(), owner: principalKey(pr), endpoint: endpoint, principal: pr,
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		waiters: map[mcpwire.Key]*waiter{}, progress: map[mcpwire.Key]*waiter{},
		outReady: make(chan struct{}, 1), lastUsed: b.p.o.clock.Now(),
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		resp.Body.Close()
		return fail(http.StatusServiceUnavailable, errBridgeClosed)
	}
	b.sessions[s.id] = s
	b.wg.Add(1)
	b.mu.Unlock()
	go b.read(s, rd, resp.Body)
	return s, 0, nil
}

// readEndpoint reads events until the endpoint event and resolves its URL,
// which must share the upstream URL's scheme and host (an upstream must not
// steer the gateway's POSTs, with identity headers, elsewhere).
func (b *bridge) readEndpoint(rd *mcpwire.Reader) (string, error) {
	for {
		ev, err := rd.Next()
		if err != nil {
			return "", err
		}
		if ev.Type != "endpoint" {
			continue
		}
		ref, err := url.Parse(string(bytes.TrimSpace(ev.Data)))
		if err != nil {
			return "", err
		}
		u := b.p.target.ResolveReference(ref)
		if u.Scheme != b.p.target.Scheme || u.Host != b.p.target.Host {
			return "", fmt.Errorf("endpoint %q is on another origin", u.Redacted())
		}
		return u.String(), nil
	}
}

// read routes upstream messages until the stream ends, then removes s.
func (b *bridge) read(s *bridgeSession, rd *mcpwire.Reader, body io.ReadCloser) {
	defer b.wg.Done()
	defer func() {
		s.cancel()
		body.Close()
		b.mu.Lock()
		delete(b.sessions, s.id)
		b.mu.Unlock()
		b.p.owned.release(s.owner)
		s.mu.Lock()
		s.ended = true
		s.mu.Unlock()
		close(s.done)
	}()
	for {
		ev, err := rd.Next()
		if err != nil {
			if s.ctx.Err() == nil && !errors.Is(err, io.EOF) {
				b.p.log.Warn("upstream sse stream ended", slog.Any("error", err))
			}
			return
		}
		if !ev.IsMessage() {
			continue
		}
		m, perr := mcpwire.ParseMessage(ev.Data)
		if perr != nil {
			b.p.log.Warn("upstream sent a message that is not JSON-RPC; dropped", slog.String("error", perr.Message))
			continue
		}
		s.route(m)
	}
}

func randomID() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}
