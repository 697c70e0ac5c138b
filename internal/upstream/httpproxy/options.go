package httpproxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/upstream/identity"
)

// Transports of an upstream.
const (
	// TransportStreamable is MCP Streamable HTTP (MCP 2025-03-26 and later,
	// Transports §Streamable HTTP), both the session generation (2025-x) and
	// the sessionless one (2026-07-28). Which one an upstream speaks is not
	// checked: requests are proxied as they come.
	TransportStreamable = "streamable"
	// TransportSSE is the HTTP+SSE transport of MCP 2024-11-05 (Transports
	// §HTTP with SSE), bridged to Streamable HTTP clients in one replica.
	TransportSSE = "sse"
)

// Defaults of [Options].
const (
	DefaultTimeout            = 60 * time.Second
	DefaultSessionIdleTimeout = 30 * time.Minute
	DefaultMaxSessions        = 1024
	// DefaultMaxSessionsPerPrincipal keeps one caller from taking every
	// bridge session (MaxSessions).
	DefaultMaxSessionsPerPrincipal = 32
	// MinSessionKeyBytes is the least SessionKey length (HMAC-SHA256 key
	// strength, RFC 2104 §3).
	MinSessionKeyBytes = 32
)

// Options configure [New]. Configuration keys map to them one to one
// (config.Route: upstream, transport, timeout, identity; the gateway's
// session_secret). Request bodies are capped and parsed before the proxy,
// by call.Read (the gateway's max_body_bytes), and requests in flight per
// principal are capped there too (max_streams_per_principal, for every
// route kind).
type Options struct {
	// URL is the upstream MCP endpoint, http or https.
	URL string
	// Transport is TransportStreamable (default) or TransportSSE.
	Transport string
	// RouteID is the stable id of the route (its path), bound into session ids.
	RouteID string
	// SessionKey is the HMAC key (at least MinSessionKeyBytes) of gateway
	// session ids; replicas share it.
	SessionKey []byte
	// Timeout bounds the wait for the upstream's response headers, and the
	// identity injector (default DefaultTimeout); streams then run until an
	// end closes.
	Timeout time.Duration
	// Identity sets what the upstream learns of the caller on every
	// upstream request (MCP Security Best Practices §Token Passthrough: the
	// client's token never passes), through identity.Outgoing. It is called
	// concurrently with a context bounded by Timeout: the client request's,
	// or, for the bridge's long-lived upstream stream, its cancel
	// notifications and its refusals of server requests, the bridge
	// session's (for the session's principal). What it sets wins
	// over client headers of the same name, and the proxy does not check
	// it. An error fails the request with 500. nil is identity.None.
	Identity identity.Injector
	// HTTPClient sends upstream requests. Default: dial and TLS timeouts of
	// 10s, no overall timeout (streams), no proxy from the environment (an
	// HTTP_PROXY would see identity headers), HTTP/2 to https upstreams
	// that offer it and HTTP/1.1 otherwise (no h2c), up to 64 idle
	// connections per upstream kept for 90 s (Go's default of 2 would
	// churn connections under parallel load), no transparent compression
	// (it would delay SSE events). Redirects are
	// never followed, whatever client is given; its Timeout, if any, also
	// cuts streams.
	HTTPClient *http.Client
	// SessionIdleTimeout ends bridge sessions (Transport "sse") without
	// requests or streams for this long. Default DefaultSessionIdleTimeout.
	SessionIdleTimeout time.Duration
	// MaxSessions caps open bridge sessions (Transport "sse"); beyond, 503.
	// Default DefaultMaxSessions.
	MaxSessions int
	// MaxSessionsPerPrincipal caps one principal's (issuer|subject) open
	// bridge sessions, which outlive the requests the gateway's stream cap
	// counts; beyond, 429 with Retry-After. Default
	// DefaultMaxSessionsPerPrincipal; negative disables the cap.
	MaxSessionsPerPrincipal int
	// Logger receives upstream failures; default discards.
	Logger *slog.Logger

	// responseHold overrides defaultResponseHold (tests); negative: none.
	responseHold time.Duration
	// endGrace overrides the const endGrace (tests).
	endGrace time.Duration
	// clock overrides the real clock of bridge idle tracking (tests).
	clock clock
}

// clock is what the bridge's janitor needs of time; *testkit.Clock
// implements it in tests.
type clock interface {
	Now() time.Time
	After(time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Proxy is an http.Handler serving one route's MCP endpoint from an HTTP
// upstream. It must sit behind the gateway's bearer middleware and
// call.Read: a request without a principal, or a POST without a parsed
// body, in its call.Call is refused (500, a wiring bug).
type Proxy struct {
	o      Options
	target *url.URL
	client *http.Client
	log    *slog.Logger
	codec  sessionCodec
	owned  *sessionCap // bridge sessions per principal
	bridge *bridge

	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
}

var _ http.Handler = (*Proxy)(nil)

// New validates o (URL, Transport, SessionKey length, RouteID, no negative
// limits; every problem at once) and fills defaults. It does not contact the
// upstream, so neither reachability nor the upstream's protocol version is
// checked.
func New(o Options) (*Proxy, error) {
	var errs []error
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("httpproxy: URL %q is not a plain http(s) URL", o.URL))
	}
	switch o.Transport {
	case "":
		o.Transport = TransportStreamable
	case TransportStreamable, TransportSSE:
	default:
		errs = append(errs, fmt.Errorf("httpproxy: Transport %q is not %q or %q", o.Transport, TransportStreamable, TransportSSE))
	}
	if len(o.SessionKey) < MinSessionKeyBytes {
		errs = append(errs, fmt.Errorf("httpproxy: SessionKey has %d bytes, need at least %d", len(o.SessionKey), MinSessionKeyBytes))
	}
	if o.RouteID == "" {
		errs = append(errs, errors.New("httpproxy: RouteID is required"))
	}
	if o.Timeout < 0 || o.SessionIdleTimeout < 0 || o.MaxSessions < 0 {
		errs = append(errs, errors.New("httpproxy: Timeout, SessionIdleTimeout and MaxSessions must not be negative"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	setDefault(&o.Timeout, DefaultTimeout)
	setDefault(&o.SessionIdleTimeout, DefaultSessionIdleTimeout)
	setDefault(&o.MaxSessions, DefaultMaxSessions)
	setDefault(&o.MaxSessionsPerPrincipal, DefaultMaxSessionsPerPrincipal)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Identity == nil {
		o.Identity = identity.None{}
	}
	setDefault(&o.responseHold, defaultResponseHold)
	if o.clock == nil {
		o.clock = realClock{}
	}
	client := defaultClient()
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		client = &c
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		o: o, target: u, client: client,
		log:   o.Logger.With(slog.String("route", o.RouteID), slog.String("upstream", u.Redacted())),
		codec: sessionCodec{key: append([]byte(nil), o.SessionKey...), route: o.RouteID},
		ctx:   ctx, cancel: cancel,
	}
	if o.Transport == TransportSSE {
		p.owned = newSessionCap(o.MaxSessionsPerPrincipal)
		p.bridge = newBridge(p)
	}
	return p, nil
}

// Close ends every open stream and bridge session and waits for the
// goroutines the Proxy owns. In-flight ServeHTTP calls return promptly (their
// upstream requests are cancelled); Close does not wait for them. Later
// requests get 503. Close is idempotent and always returns nil.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		p.cancel()
		if p.bridge != nil {
			p.bridge.close()
		}
		p.client.CloseIdleConnections()
	})
	return nil
}

func defaultClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}}
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
