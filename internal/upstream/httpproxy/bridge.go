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
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
)

// Buffer sizes of a bridge session.
const (
	toClientBuffer = 64 // server-initiated messages awaiting the client's GET
	notesBuffer    = 32 // progress notifications awaiting one client POST
)

var (
	errUpstreamRefused = errors.New("upstream refused the gateway's request")
	errNoEndpoint      = errors.New("upstream sse stream did not announce a usable endpoint")
	errSessionGone     = errors.New("bridge session ended")
)

// bridge holds the legacy HTTP+SSE sessions of one Proxy (see the package
// doc). Sessions live in this process only.
type bridge struct {
	p        *Proxy
	mu       sync.Mutex
	sessions map[string]*bridgeSession
	wg       sync.WaitGroup
}

// bridgeSession is one upstream SSE stream and its routing state.
type bridgeSession struct {
	id       string
	owner    string
	endpoint string
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{} // closed when the upstream stream has ended

	mu        sync.Mutex
	waiters   map[string]*waiter // by request id
	progress  map[string]*waiter // by progress token
	toClient  chan []byte
	getActive bool
	active    int
	lastUsed  time.Time
}

// waiter receives what the upstream sends for one client POST: the
// responses to its requests and progress for their tokens, in order. ch has
// room for every expected response plus notesBuffer; notifications are
// dropped rather than ever taking a response's place, so the reader never
// blocks on a slow client.
type waiter struct {
	ch       chan item
	reserved int // responses still expected; guarded by the session's mu
}

// item is one upstream message for a waiter.
type item struct {
	data []byte
	id   string // idKey of the request answered; "" for notifications
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
	every := min(b.p.o.SessionIdleTimeout/4, time.Minute)
	t := time.NewTicker(max(every, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-b.p.ctx.Done():
			return
		case now := <-t.C:
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
}

// close ends every session and waits for the bridge's goroutines; the
// proxy's context is already cancelled.
func (b *bridge) close() { b.wg.Wait() }

// count reports open sessions (tests).
func (b *bridge) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.sessions)
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
	// The session holds one of the principal's stream slots while it lives.
	if !b.p.limiter.acquire(principalKey(pr)) {
		return nil, http.StatusTooManyRequests, errors.New("stream cap reached")
	}
	ctx, cancel := context.WithCancel(b.p.ctx)
	stop := context.AfterFunc(r.Context(), cancel) // only while opening
	defer stop()
	fail := func(status int, err error) (*bridgeSession, int, error) {
		cancel()
		b.p.limiter.release(principalKey(pr))
		return nil, status, err
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
	if b.p.o.Identity != nil {
		if err := b.p.o.Identity.Apply(req.Header, pr); err != nil {
			return fail(http.StatusInternalServerError, fmt.Errorf("identity: %w", err))
		}
	}
	var timedOut bool
	var tmu sync.Mutex
	t := time.AfterFunc(b.p.o.Timeout, func() { tmu.Lock(); timedOut = true; tmu.Unlock(); cancel() })
	defer t.Stop()
	status := func() int {
		tmu.Lock()
		defer tmu.Unlock()
		if timedOut {
			return http.StatusGatewayTimeout
		}
		return http.StatusBadGateway
	}
	resp, err := b.p.client.Do(req)
	if err != nil {
		return fail(status(), err)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || mt != "text/event-stream" {
		resp.Body.Close()
		return fail(http.StatusBadGateway, fmt.Errorf("%w: GET answered %d %s", errUpstreamRefused, resp.StatusCode, mt))
	}
	rd := newSSEReader(resp.Body, defaultMaxEventBytes)
	endpoint, err := b.readEndpoint(rd)
	if err != nil || !t.Stop() {
		resp.Body.Close()
		return fail(status(), fmt.Errorf("%w: %w", errNoEndpoint, err))
	}
	s := &bridgeSession{
		id: randomID(), owner: principalKey(pr), endpoint: endpoint,
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		waiters: map[string]*waiter{}, progress: map[string]*waiter{},
		toClient: make(chan []byte, toClientBuffer), lastUsed: time.Now(),
	}
	b.mu.Lock()
	b.sessions[s.id] = s
	b.mu.Unlock()
	b.wg.Add(1)
	go b.read(s, rd, resp.Body)
	return s, 0, nil
}

// readEndpoint reads events until the endpoint event and resolves its URL,
// which must share the upstream URL's scheme and host (an upstream must not
// steer the gateway's POSTs, with identity headers, elsewhere).
func (b *bridge) readEndpoint(rd *sseReader) (string, error) {
	for {
		ev, err := rd.next()
		if err != nil {
			return "", err
		}
		if ev.name != "endpoint" {
			continue
		}
		ref, err := url.Parse(string(bytes.TrimSpace(ev.data)))
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
func (b *bridge) read(s *bridgeSession, rd *sseReader, body io.ReadCloser) {
	defer b.wg.Done()
	defer func() {
		s.cancel()
		body.Close()
		b.mu.Lock()
		delete(b.sessions, s.id)
		b.mu.Unlock()
		b.p.limiter.release(s.owner)
		close(s.done)
	}()
	for {
		ev, err := rd.next()
		if err != nil {
			if s.ctx.Err() == nil && !errors.Is(err, io.EOF) {
				b.p.log.Warn("upstream sse stream ended", slog.Any("error", err))
			}
			return
		}
		if ev.name != "" && ev.name != "message" {
			continue
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, ev.data); err != nil {
			b.p.log.Warn("upstream sent a message that is not JSON; dropped")
			continue
		}
		s.route(b.p.log, compact.Bytes())
	}
}

// route delivers one upstream message: a response to its waiter, progress to
// the waiter that set the token, anything else to the client's GET stream.
func (s *bridgeSession) route(log *slog.Logger, data []byte) {
	msgs, _, err := parseMessages(data)
	if err != nil || len(msgs) != 1 {
		log.Warn("upstream sent an unparsable message; dropped")
		return
	}
	m := msgs[0]
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case m.method == "" && len(m.id) > 0:
		k := idKey(m.id)
		if w := s.waiters[k]; w != nil {
			delete(s.waiters, k)
			w.reserved--
			w.ch <- item{data: data, id: k} // capacity reserved
			return
		}
		log.Debug("upstream response for no pending request; dropped")
		return
	case m.method == "notifications/progress":
		var n struct {
			Params struct {
				Token json.RawMessage `json:"progressToken"`
			} `json:"params"`
		}
		if json.Unmarshal(data, &n) == nil && len(n.Params.Token) > 0 {
			if w := s.progress[idKey(n.Params.Token)]; w != nil {
				if len(w.ch) < cap(w.ch)-w.reserved {
					w.ch <- item{data: data}
				} else {
					log.Warn("client too slow for progress notifications; one dropped")
				}
				return
			}
		}
	}
	select {
	case s.toClient <- data:
	default:
		log.Warn("client GET stream absent or too slow; server message dropped")
	}
}

// idKey normalises a JSON id or token for map keys.
func idKey(raw json.RawMessage) string { return string(bytes.TrimSpace(raw)) }

func randomID() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}
