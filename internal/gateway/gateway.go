// Package gateway is mcp-gateway's HTTP face: routes, the bearer middleware,
// the one body reader of MCP requests (call.Read), Protected Resource
// Metadata, Origin checks, SSE keep-alives on idle event streams, health
// endpoints and graceful shutdown. It knows nothing of JWTs: it asks a
// [TokenVerifier] and receives an authn.Principal. Its own refusals are
// JSON-RPC errors written by internal/mcpwire (OAuth errors by pkg/bearer).
package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/tlsserve"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// TokenVerifier turns a raw access token into a principal. It returns an
// error wrapping authn.ErrKeysUnavailable when it cannot decide.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (*authn.Principal, error)
}

var _ TokenVerifier = (*authn.Verifier)(nil)

// ReadyChecker reports whether a dependency (the issuer's keys) is loaded.
type ReadyChecker interface {
	Ready() bool
}

// Route is one protected resource: an MCP endpoint with its own identifier,
// metadata document, verifier (which knows the accepted audiences) and scopes.
type Route struct {
	// Path is where the MCP endpoint is served, e.g. /mcp.
	Path string
	// Verifier judges tokens for this resource.
	Verifier TokenVerifier
	// RequiredScopes are needed by every request to the route: the bearer
	// middleware checks them with the principal's MissingScopes (which
	// honours its scope hierarchy, authn.ScopeImplications) and names them
	// in the route's 401 challenge and in its 403 insufficient_scope, as
	// configured (the narrow scopes, never broader ones implying them).
	RequiredScopes []string
	// ScopesSupported is the route's own PRM scopes_supported (RFC 9728
	// §2), offline_access removed. mcp-gateway passes the route's scopes
	// (config.Config.RouteScopes: required, tool, resource and prompt
	// scopes), or the configured scopes_supported after RequiredScopes.
	ScopesSupported []string
	// Handler serves MCP once the request is authorized. call.From on the
	// request's context gives the principal and, for POST, the body that
	// the gateway read, capped and parsed once (call.Read); the Handler must
	// not read or cap the body again (it may read r.Body, which replays the
	// same bytes).
	Handler http.Handler
	// MaxStreamsPerPrincipal caps one caller's (issuer and subject)
	// requests in flight on this route, from the verified token through
	// the body to the response's last byte (GET streams included), whatever
	// serves it; over it, 429 with Retry-After. 0: the default,
	// config.DefaultMaxStreamsPerPrincipal; negative: no cap.
	MaxStreamsPerPrincipal int
}

// Options configure [New].
type Options struct {
	// PublicURL is the external base URL (scheme://host[/prefix]).
	PublicURL string
	// AuthorizationServers are advertised in PRM (RFC 9728 §2).
	AuthorizationServers []string
	// ResourceName is PRM's resource_name.
	ResourceName string
	// Routes are the protected MCP endpoints.
	Routes []Route
	// AllowedOrigins are accepted browser origins besides PublicURL's origin.
	AllowedOrigins []string
	// InsecureAllowLoopbackOrigins accepts any loopback http(s) Origin.
	InsecureAllowLoopbackOrigins bool
	// MaxBodyBytes caps the POST bodies of MCP routes (413 beyond; <= 0:
	// call.DefaultMaxBodyBytes). It is the only cap: call.Read applies it.
	MaxBodyBytes int64
	// BodyReadTimeout bounds reading one POST body (call.ReadWithin, from
	// when it starts reading; 408 beyond), and, from arrival, what net/http
	// reads of the unread body of a request refused before. 0: the
	// default, config.DefaultBodyReadTimeout; negative: none.
	BodyReadTimeout time.Duration
	// RateLimitPerIP limits requests per client address (ClientIP; IPv6
	// per /64) before the token is read; RateLimitPerPrincipal limits a
	// verified caller's (issuer and subject) requests over all routes.
	// Over either: 429 with Retry-After. Zero members take config's
	// defaults; a negative Rate disables one. They read the clock Now.
	RateLimitPerIP, RateLimitPerPrincipal RateLimit
	// StreamKeepalive is how long an MCP route's text/event-stream response
	// may stay silent before the gateway writes an SSE comment on it, so
	// that a load balancer or CDN in front does not cut an idle stream
	// (see keepAlive); <= 0 disables.
	StreamKeepalive time.Duration
	// Now and After are the keep-alive and rate-limit clock (default
	// time.Now and time.After); tests inject a fake clock. The body
	// deadline is the connection's, on the real clock.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Ready gates /readyz; nil means always ready.
	Ready ReadyChecker
	// MetricsHandler, when set, is served at GET /metrics (Prometheus; see
	// internal/observe/metrics), without authentication. Leave it nil when
	// metrics have their own listener (metrics_listen).
	MetricsHandler http.Handler
	// Observers receive one event per request on an MCP route (metrics,
	// the audit log, tracing); see internal/observe. None: nothing records.
	Observers []observe.Observer
	// ClientIP returns a request's client address (after trusted
	// proxies); nil: the TCP peer's.
	ClientIP func(*http.Request) string
	// Logger receives server errors (and, at debug level, one access line
	// per request); decisions go to Observers, not here.
	Logger *slog.Logger
}

// Server is the gateway's HTTP application.
type Server struct {
	echo    *echo.Echo
	opts    Options
	log     *slog.Logger
	origins *originPolicy
	hub     *observe.Hub
	limits  limits
	caps    map[string]*streamCap // per route path
}

// New builds the routes. It returns an error for a route whose resource
// identifier cannot be derived from PublicURL.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// A nil After stays nil: keep-alives then wait on runtime timers
	// (time.AfterFunc), not on a goroutine per stream.
	origins, err := newOriginPolicy(opts.PublicURL, opts.AllowedOrigins, opts.InsecureAllowLoopbackOrigins)
	if err != nil {
		return nil, err
	}
	s := &Server{echo: echo.New(), opts: opts, log: opts.Logger, origins: origins, hub: observe.NewHub(opts.Observers...),
		limits: newLimits(opts), caps: map[string]*streamCap{}}
	s.echo.HideBanner, s.echo.HidePort = true, true
	s.echo.HTTPErrorHandler = s.httpError
	s.echo.Use(s.accessLog)
	s.echo.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	s.echo.GET("/readyz", s.readyz)
	if opts.MetricsHandler != nil {
		s.echo.GET("/metrics", echo.WrapHandler(opts.MetricsHandler))
	}
	root, err := s.rootMetadata()
	if err != nil {
		return nil, err
	}
	s.echo.Match([]string{http.MethodGet, http.MethodOptions}, oauthmeta.WellKnownProtectedResource, metadataHandler(root))
	for _, r := range opts.Routes {
		if err := s.addRoute(r); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Handler returns the gateway as an http.Handler.
// Every response carries Strict-Transport-Security when PublicURL is
// https (tlsserve.HSTS).
func (s *Server) Handler() http.Handler {
	return tlsserve.HSTS(strings.HasPrefix(strings.ToLower(s.opts.PublicURL), "https://"), s.echo)
}

// ResourceURL is the resource identifier of a route path: PublicURL + path.
func ResourceURL(publicURL, path string) string {
	return trimSlash(publicURL) + path
}

func (s *Server) addRoute(r Route) error {
	resource := ResourceURL(s.opts.PublicURL, r.Path)
	metaURL, err := oauthmeta.ProtectedResourceMetadataURL(resource)
	if err != nil {
		return fmt.Errorf("route %s: %w", r.Path, err)
	}
	prm := s.metadata(resource, r.ScopesSupported)
	s.echo.Match([]string{http.MethodGet, http.MethodOptions}, oauthmeta.WellKnownProtectedResource+r.Path, metadataHandler(prm))

	authz := bearer.Middleware(bearer.Options{
		Verify:           verifyFunc(r.Verifier),
		ResourceMetadata: metaURL,
		Scopes:           r.RequiredScopes,
		OnError:          recordRefusal,
	})
	// The observe record first (every outcome is recorded), the body's
	// deadline from arrival (refusals leave bodies unread), Origin next
	// (403 before anything else), the per-IP rate limit before the token
	// is read, then the token, the per-principal rate limit and stream
	// cap (the slot is held from before the body is read to the end of the
	// response), the one read of the body under its deadline, then
	// keep-alives on event streams, for every route kind.
	ka := keepAlive{every: s.opts.StreamKeepalive, now: s.opts.Now, after: s.opts.After}
	streams := newStreamCap(r.MaxStreamsPerPrincipal)
	s.caps[r.Path] = streams
	body := call.ReadWithin(s.opts.MaxBodyBytes, bodyReadTimeout(s.opts.BodyReadTimeout), ka.wrap(r.Handler))
	h := s.hub.Handler(r.Path, s.clientIP, s.bodyDeadline(s.origins.wrap(s.limitIP(authz(s.limitPrincipal(streams.wrap(body)))))))
	s.echo.Any(r.Path, echo.WrapHandler(h))
	return nil
}

func (s *Server) readyz(c echo.Context) error {
	if s.opts.Ready != nil && !s.opts.Ready.Ready() {
		return c.String(http.StatusServiceUnavailable, "issuer keys not loaded\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

// ServeOptions bound the HTTP server.
type ServeOptions struct {
	// TLS, when set, makes the server speak HTTPS on ln with this
	// configuration (tlsserve.Reloader.Config: TLS 1.2 minimum, reloaded
	// certificate); nil: plain HTTP.
	TLS               *tls.Config
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration
}

// Serve serves on ln until ctx ends, then shuts down gracefully, waiting up
// to ShutdownTimeout for in-flight requests. It sets no write timeout:
// MCP responses may be long-lived SSE streams.
func (s *Server) Serve(ctx context.Context, ln net.Listener, o ServeOptions) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() {
		if o.TLS != nil {
			srv.TLSConfig = o.TLS
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
