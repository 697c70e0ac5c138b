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

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
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
	DefaultTimeout                = 60 * time.Second
	DefaultMaxStreamsPerPrincipal = 16
	DefaultMaxBodyBytes           = 4 << 20
	DefaultSessionIdleTimeout     = 30 * time.Minute
	DefaultMaxSessions            = 1024
	// MinSessionKeyBytes is the least SessionKey length (HMAC-SHA256 key
	// strength, RFC 2104 §3).
	MinSessionKeyBytes = 32
)

// Injector adds to an upstream request's headers what the upstream should
// learn of the caller (signed identity headers, a static credential), so
// that the client's token is never passed through (MCP Security Best
// Practices §Token Passthrough; MCP Authorization §Access Token Privilege
// Restriction). It is called, concurrently, on every upstream request after
// the proxy removed the client's credentials; whatever it sets wins over
// client headers of the same name. The proxy does not check what it adds.
// An error fails the request with 500.
type Injector interface {
	Apply(h http.Header, p *authn.Principal) error
}

// Options configure [New]. Configuration keys map to them one to one
// (config.Route: upstream, transport, timeout, max_streams_per_principal;
// the gateway's session_secret and max_body_bytes).
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
	// Timeout bounds the wait for the upstream's response headers (default
	// DefaultTimeout); streams then run until an end closes.
	Timeout time.Duration
	// MaxStreamsPerPrincipal caps concurrent in-flight requests and streams
	// per principal (issuer|subject); beyond, 429 with Retry-After. Default
	// DefaultMaxStreamsPerPrincipal; negative disables the cap.
	MaxStreamsPerPrincipal int
	// MaxBodyBytes caps request bodies (413 beyond). Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Identity adds the caller's identity upstream; nil sends none.
	Identity Injector
	// HTTPClient sends upstream requests. Default: dial and TLS timeouts of
	// 10s, no overall timeout (streams), no proxy from the environment (an
	// HTTP_PROXY would see identity headers), HTTP/1.1 and HTTP/2, no
	// transparent compression (it would delay SSE events). Redirects are
	// never followed, whatever client is given; its Timeout, if any, also
	// cuts streams.
	HTTPClient *http.Client
	// SessionIdleTimeout ends bridge sessions (Transport "sse") without
	// requests or streams for this long. Default DefaultSessionIdleTimeout.
	SessionIdleTimeout time.Duration
	// MaxSessions caps open bridge sessions (Transport "sse"); beyond, 503.
	// Default DefaultMaxSessions.
	MaxSessions int
	// Logger receives upstream failures; default discards.
	Logger *slog.Logger
}

// Proxy is an http.Handler serving one route's MCP endpoint from an HTTP
// upstream. It must sit behind the gateway's bearer middleware: a request
// without a principal in its context is refused (500, a wiring bug).
type Proxy struct {
	o       Options
	target  *url.URL
	client  *http.Client
	log     *slog.Logger
	codec   sessionCodec
	limiter *limiter
	bridge  *bridge

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
	if o.Timeout < 0 || o.MaxBodyBytes < 0 || o.SessionIdleTimeout < 0 || o.MaxSessions < 0 {
		errs = append(errs, errors.New("httpproxy: Timeout, MaxBodyBytes, SessionIdleTimeout and MaxSessions must not be negative"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	setDefault(&o.Timeout, DefaultTimeout)
	setDefault(&o.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&o.MaxStreamsPerPrincipal, DefaultMaxStreamsPerPrincipal)
	setDefault(&o.SessionIdleTimeout, DefaultSessionIdleTimeout)
	setDefault(&o.MaxSessions, DefaultMaxSessions)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
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
		log:     o.Logger.With(slog.String("route", o.RouteID), slog.String("upstream", u.Redacted())),
		codec:   sessionCodec{key: append([]byte(nil), o.SessionKey...), route: o.RouteID},
		limiter: newLimiter(o.MaxStreamsPerPrincipal),
		ctx:     ctx, cancel: cancel,
	}
	if o.Transport == TransportSSE {
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
