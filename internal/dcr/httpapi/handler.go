package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cimd"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// Registrar is the registration service the handler drives (*dcr.Service).
// Errors that are (errors.As) a *bearer.Error are written as they are;
// others become 500 server_error, or 503 with Retry-After when
// Options.Retryable says so.
type Registrar interface {
	// Register performs RFC 7591 §3.1 registration.
	Register(ctx context.Context, md dcr.ClientMetadata) (*dcr.Result, error)
	// Read, Update and Delete are RFC 7592 §2.1-§2.3, authorized by the
	// registration access token rat.
	Read(ctx context.Context, clientID, rat string) (*dcr.Result, error)
	// body carries the update request's client_id and client_secret
	// members (RFC 7592 §2.2), which the service checks.
	Update(ctx context.Context, clientID, rat string, md dcr.ClientMetadata, body ...dcr.BodyCredentials) (*dcr.Result, error)
	Delete(ctx context.Context, clientID, rat string) error
}

var _ Registrar = (*dcr.Service)(nil)

// Bridge is the CIMD bridge (*cimd.Bridge): RFC 6749 §3.1 and §3.2
// endpoints in front of Cognito's managed login. The handler passes both
// its registration rate limiter as t (see [cimd.Throttle]): the Cognito
// writes their requests cause spend the registration buckets.
type Bridge interface {
	Authorize(w http.ResponseWriter, r *http.Request, t cimd.Throttle)
	Token(w http.ResponseWriter, r *http.Request, t cimd.Throttle)
}

var _ Bridge = (*cimd.Bridge)(nil)

// Defaults for Options.
const (
	DefaultRateLimit    = 10 // requests per source per minute
	DefaultRateBurst    = 10
	DefaultMaxBodyBytes = 16 << 10
	DefaultScopesTTL    = 5 * time.Minute
	// RetryAfterSeconds is the Retry-After sent with 503 answers.
	RetryAfterSeconds = 5
)

// Options configures a [Handler].
type Options struct {
	// Service registers clients (required).
	Service Registrar
	// PublicURL is the issuer identifier and base of this service's
	// endpoints (required; https, or http on loopback). A trailing slash is
	// removed.
	PublicURL string
	// CognitoDomain is the managed-login base URL (required): its
	// /oauth2/authorize, /oauth2/token, /oauth2/revoke and /oauth2/userInfo
	// are advertised when no Bridge is mounted.
	CognitoDomain string
	// JWKSURI is the pool's key set URL (required).
	JWKSURI string
	// Scopes returns scopes_supported; called at most once per ScopesTTL
	// (DefaultScopesTTL when zero). On error the last good answer is kept,
	// or scopes_supported is omitted. offline_access is never advertised.
	Scopes    func(ctx context.Context) ([]string, error)
	ScopesTTL time.Duration
	// RateLimit is requests per source per minute on /register*, and
	// Cognito writes per source per minute caused by the bridge's
	// /authorize and /token requests (mapping a new or changed metadata
	// document, adding or refreshing a loopback callback URL); one bucket
	// per source for both (see [cimd.Throttle]). RateBurst is the bucket
	// depth. Defaults when zero or negative.
	RateLimit int
	RateBurst int
	// InitialAccessToken, when not empty, is required as a Bearer token on
	// POST /register (RFC 7591 §3), compared in constant time.
	InitialAccessToken string
	// MaxBodyBytes caps request bodies (DefaultMaxBodyBytes when zero).
	MaxBodyBytes int64
	// TrustForwardedFor takes the rate-limit source from the first
	// X-Forwarded-For hop instead of the connection's address.
	TrustForwardedFor bool
	// Bridge, when not nil, is mounted at /authorize and /token and the
	// metadata advertises those and client_id_metadata_document_supported.
	Bridge Bridge
	// AllowClientCredentials says the registration policy admits
	// client_credentials clients (dcr.Policy.AllowClientCredentials): the
	// metadata's grant_types_supported then lists client_credentials.
	AllowClientCredentials bool
	// Retryable reports errors that mean "try again later" (throttling,
	// e.g. errors.Is(err, cognito.ErrThrottled)): answered 503
	// temporarily_unavailable with Retry-After. Nil: none.
	Retryable func(error) bool
	// Now is the clock of the rate limiter; time.Now when nil.
	Now func() time.Time
	// Logger gets one line per registration change and every server error
	// (never secrets); discarded when nil.
	Logger *slog.Logger
	// Metrics counts requests by endpoint and status, registration
	// outcomes and rate-limit refusals; discarded when nil.
	Metrics dcr.Metrics
}

// Handler serves the registration service's routes. It is safe for
// concurrent use.
type Handler struct {
	opts     Options
	base     string // PublicURL's path, without trailing slash
	metaPath map[string]bool
	limiter  *limiter
	log      *slog.Logger
	metrics  dcr.Metrics

	scopesMu  sync.Mutex
	scopes    []string
	scopesAt  time.Time
	scopesSet bool
}

var _ http.Handler = (*Handler)(nil)

// New checks o and builds a Handler. It does not contact Cognito: Scopes is
// first called by the first metadata request.
func New(o Options) (*Handler, error) {
	if o.Service == nil {
		return nil, errors.New("httpapi: Service is required")
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	o.CognitoDomain = strings.TrimRight(o.CognitoDomain, "/")
	pub, err := url.Parse(o.PublicURL)
	if err != nil || (pub.Scheme != "https" && pub.Scheme != "http") || pub.Host == "" || pub.RawQuery != "" || pub.Fragment != "" {
		return nil, fmt.Errorf("httpapi: public URL %q must be an absolute http(s) URL without query or fragment", o.PublicURL)
	}
	if u, err := url.Parse(o.CognitoDomain); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("httpapi: Cognito domain %q must be an absolute http(s) URL", o.CognitoDomain)
	}
	if o.JWKSURI == "" {
		return nil, errors.New("httpapi: JWKSURI is required")
	}
	if o.RateLimit <= 0 {
		o.RateLimit = DefaultRateLimit
	}
	if o.RateBurst <= 0 {
		o.RateBurst = DefaultRateBurst
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.ScopesTTL <= 0 {
		o.ScopesTTL = DefaultScopesTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimSuffix(pub.EscapedPath(), "/")
	meta := map[string]bool{}
	for _, wk := range []string{oauthmeta.WellKnownAuthorizationServer, "/.well-known/openid-configuration"} {
		meta[wk] = true
		meta[wk+base] = true
		meta[base+wk] = true
	}
	return &Handler{opts: o, base: base, metaPath: meta, log: log, metrics: dcr.OrNop(o.Metrics),
		limiter: newLimiter(o.RateLimit, o.RateBurst, o.Now)}, nil
}

// ServeHTTP routes a request and counts it (Metrics.Request) by endpoint
// and the status it was answered with. Panics are answered 500
// server_error.
func (h *Handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w := &statusWriter{ResponseWriter: rw, status: http.StatusOK}
	endpoint := dcr.EndpointOther
	defer func() { h.metrics.Request(endpoint, w.status) }()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("httpapi: panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
			bearer.WriteJSON(w, &bearer.Error{Status: http.StatusInternalServerError, Code: dcr.CodeServerError,
				Description: "internal error"})
		}
	}()
	path := r.URL.EscapedPath()
	if h.metaPath[path] {
		endpoint = dcr.EndpointMetadata
		h.serveMetadata(w, r)
		return
	}
	if h.base != "" && strings.HasPrefix(path, h.base+"/") {
		path = path[len(h.base):]
	}
	switch {
	case path == "/register":
		endpoint = dcr.EndpointRegister
		h.serveRegister(w, r)
	case strings.HasPrefix(path, "/register/"):
		endpoint = dcr.EndpointRegisterManage
		id, err := url.PathUnescape(strings.TrimPrefix(path, "/register/"))
		if err != nil || id == "" || strings.Contains(id, "/") {
			notFound(w)
			return
		}
		h.serveClient(w, r, id)
	case path == "/authorize" && h.opts.Bridge != nil:
		endpoint = dcr.EndpointAuthorize
		h.opts.Bridge.Authorize(w, r, writeThrottle{h, endpoint})
	case path == "/token" && h.opts.Bridge != nil:
		endpoint = dcr.EndpointToken
		h.opts.Bridge.Token(w, r, writeThrottle{h, endpoint})
	default:
		notFound(w)
	}
}

func notFound(w http.ResponseWriter) {
	bearer.WriteJSON(w, &bearer.Error{Status: http.StatusNotFound, Code: bearer.CodeInvalidRequest,
		Description: "no such endpoint"})
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	bearer.WriteJSON(w, &bearer.Error{Status: http.StatusMethodNotAllowed, Code: bearer.CodeInvalidRequest,
		Description: "method not allowed; use " + allow})
}

// fail writes err: retryable errors as 503 with Retry-After (checked first:
// the service also attaches a 500 to them), *bearer.Error as it is (401
// with a Bearer challenge, 503 with Retry-After), anything else 500.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var be *bearer.Error
	switch {
	case h.opts.Retryable != nil && h.opts.Retryable(err):
		h.log.Warn("httpapi: retryable failure", "path", r.URL.Path, "error", err)
		be = &bearer.Error{Status: http.StatusServiceUnavailable, Code: bearer.CodeUnavailable,
			Description: "the identity provider is busy; retry later"}
	case errors.As(err, &be):
		if be.Status >= 500 {
			h.log.Error("httpapi: request failed", "path", r.URL.Path, "status", be.Status, "error", err)
		}
	default:
		h.log.Error("httpapi: request failed", "path", r.URL.Path, "error", err)
		be = &bearer.Error{Status: http.StatusInternalServerError, Code: dcr.CodeServerError,
			Description: "internal error"}
	}
	writeError(w, be)
}

// writeError is bearer.WriteJSON plus the headers some statuses need: a
// Bearer challenge on 401 (RFC 6750 §3) and Retry-After on 503.
func writeError(w http.ResponseWriter, be *bearer.Error) {
	switch be.Status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", bearer.Challenge{Error: be.Code, ErrorDescription: be.Description}.String())
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", fmt.Sprint(RetryAfterSeconds))
	}
	bearer.WriteJSON(w, be)
}

// statusWriter remembers the status a handler answered with, for
// Metrics.Request (200 when it wrote no header). Unwrap lets
// http.ResponseController reach the connection's writer.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote && code >= 200 {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
