package cimd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// Bridge limits: request and response size caps and the forwarding timeout
// (not RFC values; this project's bounds).
const (
	// MaxRequestBytes caps an /authorize POST or /token request body.
	MaxRequestBytes = 16 << 10
	// MaxTokenResponseBytes caps Cognito's /token answer.
	MaxTokenResponseBytes = 64 << 10
	// DefaultForwardTimeout bounds a forwarded /token call.
	DefaultForwardTimeout = 10 * time.Second
)

// Registrar maps a fetched document (CIMD draft §4) to a Cognito app
// client, finds the registrations of other client ids, and keeps app
// clients' callback URLs in line with the redirect URIs clients use;
// declared here, where it is used. The domain service (*dcr.Service)
// implements it: the same document gives the same app client, and the
// metadata passes the same rules as RFC 7591 registration; policy
// violations are *bearer.Error. RegisterCIMD and UseRedirectURI ask gate
// before each Cognito write they make, and only then (dcr.WriteGate): a
// refusal is returned as the very error gate returned (skipped, for a
// refresh of a callback URL already listed).
type Registrar interface {
	RegisterCIMD(ctx context.Context, clientIDURL string, md dcr.ClientMetadata, gate dcr.WriteGate) (*dcr.Registration, error)
	// Lookup returns the stored registration of a Cognito app client id,
	// or nil when there is none (a client registered elsewhere).
	Lookup(ctx context.Context, clientID string) (*dcr.Registration, error)
	// UseRedirectURI makes the registration's app client accept uri, a
	// redirect URI the registration lists exactly or port-agnostically
	// (RFC 8252 §7.3), and returns the registration as stored after.
	UseRedirectURI(ctx context.Context, reg *dcr.Registration, uri string, gate dcr.WriteGate) (*dcr.Registration, error)
}

var _ Registrar = (*dcr.Service)(nil)

// Throttle limits, per request source, the Cognito writes that the
// bridge's requests cause: creating or updating a metadata-document
// client's app client (a document never seen, or changed) and adding or
// refreshing a loopback callback URL. Each is an app-client API call
// (CreateUserPoolClient or UpdateUserPoolClient, under an account-wide
// quota shared with registration) on an unauthenticated endpoint, and a
// created app client also counts toward mcp-dcr's max_registrations
// until it expires. Declared here, where it is used; mcp-dcr's HTTP layer
// implements it with the per-source token bucket of registration (same
// buckets, same source key), and passes it to [Bridge.Authorize] and
// [Bridge.Token] with every request. The bridge spends it through the
// Registrar's dcr.WriteGate: one token per write, only for requests that
// write.
type Throttle interface {
	// AllowWrite spends one token of r's source. When none is left it
	// reports false and how long until one is.
	AllowWrite(r *http.Request) (ok bool, retryAfter time.Duration)
}

// BridgeOptions configures a [Bridge]. Cognito's endpoints are the managed
// login ones (RFC 6749 §3.1 /oauth2/authorize, §3.2 /oauth2/token); nothing
// is discovered from Cognito.
type BridgeOptions struct {
	// Fetcher fetches and caches documents (required).
	Fetcher *Fetcher
	// Registrar maps documents to app clients (required).
	Registrar Registrar
	// CognitoDomain is the managed-login base URL, https://<domain>; its
	// /oauth2/authorize and /oauth2/token are the targets. http is accepted
	// only for loopback hosts (local fakes).
	CognitoDomain string
	// HTTPClient forwards /token; a client with DefaultForwardTimeout when
	// nil. Its redirects are never followed.
	HTTPClient *http.Client
	// Logger gets one line per bridged request (client ids and outcome,
	// never form values); discarded when nil.
	Logger *slog.Logger
	// DefaultScopes replace a missing or empty scope parameter of an
	// authorization request (mcp-dcr's default_scopes); see Authorize.
	// Empty: the request goes to Cognito without scope.
	DefaultScopes []string
}

// Bridge serves the RFC 6749 /authorize and /token endpoints in front of
// Cognito's managed login, which cannot resolve Client Identifier URLs
// (CIMD clients) and does not enforce PKCE S256 (every client). It is safe
// for concurrent use. It does not serve revocation or userinfo: clients use
// Cognito's with the mapped client id.
type Bridge struct {
	fetcher   *Fetcher
	registrar Registrar
	authorize string // <domain>/oauth2/authorize
	token     string // <domain>/oauth2/token
	client    *http.Client
	log       *slog.Logger
	defaults  []string
}

// NewBridge checks o (a Fetcher and Registrar; CognitoDomain an https base
// URL, or http on a loopback host) and builds a Bridge. It does not contact
// Cognito.
func NewBridge(o BridgeOptions) (*Bridge, error) {
	if o.Fetcher == nil || o.Registrar == nil {
		return nil, errors.New("cimd: bridge needs a Fetcher and a Registrar")
	}
	base, err := cognitoBase(o.CognitoDomain)
	if err != nil {
		return nil, err
	}
	cl := &http.Client{Timeout: DefaultForwardTimeout}
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		cl = &c
	}
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bridge{fetcher: o.Fetcher, registrar: o.Registrar, authorize: base + "/oauth2/authorize",
		token: base + "/oauth2/token", client: cl, log: log, defaults: slices.Clone(o.DefaultScopes)}, nil
}

// cognitoBase validates the managed-login base URL: https (http only for a
// loopback host), a host, no user information, query or fragment, and no
// path beyond "/".
func cognitoBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		(u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("cimd: cognito domain %q must be a base URL like https://<domain>", raw)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname())) {
		return "", fmt.Errorf("cimd: cognito domain %q must use https", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

func isLoopbackHost(h string) bool { return oauthmeta.IsLoopbackHost(h) }

// authorizeParams returns the request's parameters: the query for GET, the
// form body (at most MaxRequestBytes) for POST. A repeated parameter is an
// error (RFC 6749 §3.1), so that what is checked is what Cognito sees.
func authorizeParams(w http.ResponseWriter, r *http.Request) (url.Values, *bearer.Error) {
	var q url.Values
	switch r.Method {
	case http.MethodGet:
		var err error
		if q, err = url.ParseQuery(r.URL.RawQuery); err != nil {
			return nil, bearer.ErrInvalidRequest("malformed query")
		}
	case http.MethodPost:
		form, e := readForm(w, r)
		if e != nil {
			return nil, e
		}
		q = form
	default:
		w.Header().Set("Allow", "GET, POST")
		return nil, &bearer.Error{Status: http.StatusMethodNotAllowed, Code: codeInvalidRequest, Description: "use GET or POST"}
	}
	if e := noRepeats(q); e != nil {
		return nil, e
	}
	if q.Get("client_id") == "" {
		return nil, bearer.ErrInvalidRequest("client_id is required")
	}
	return q, nil
}

// readForm reads an application/x-www-form-urlencoded body of at most
// MaxRequestBytes.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *bearer.Error) {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		return nil, bearer.ErrInvalidRequest("the body must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &bearer.Error{Status: http.StatusRequestEntityTooLarge, Code: codeInvalidRequest, Description: "request body is too large"}
		}
		return nil, bearer.ErrInvalidRequest("request body could not be read")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, bearer.ErrInvalidRequest("malformed form body")
	}
	return form, nil
}

// noRepeats refuses a parameter given more than once (RFC 6749 §3.1, §3.2).
func noRepeats(q url.Values) *bearer.Error {
	for k, v := range q {
		if len(v) > 1 {
			return bearer.ErrInvalidRequest("parameter " + k + " is repeated")
		}
	}
	return nil
}

// registrarError turns a Fetcher or Registrar failure into the response:
// its own *bearer.Error (with status overridden when status is not zero),
// else 503.
func registrarError(err error, status int) *bearer.Error {
	if be := publicError(err); be != nil {
		out := *be
		if status != 0 {
			out.Status = status
		}
		return &out
	}
	return &bearer.Error{Status: http.StatusServiceUnavailable, Code: codeUnavailable,
		Description: "the client could not be registered; try again later"}
}

// redirect answers 302 to loc, not cacheable.
func redirect(w http.ResponseWriter, loc string) {
	w.Header().Set("Location", loc)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}
