package devidp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cimd"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// maxBodyBytes caps every request body (registration JSON, token and
// revocation forms, POSTed authorization requests).
const maxBodyBytes = 64 << 10

// Options configures a development authorization server. Zero values get the
// defaults documented on each field.
type Options struct {
	// Issuer is the RFC 8414 §2 issuer identifier, e.g.
	// "http://127.0.0.1:8081". It must be an absolute http(s) URL without
	// query or fragment; one trailing slash is removed. Every endpoint URL
	// derives from it (an issuer path is kept as the endpoints' prefix).
	Issuer string
	// Resources are the accepted RFC 8707 `resource` values, e.g.
	// ["http://127.0.0.1:8080/mcp"]. Requests are compared after
	// canonicalization (scheme and host lower-cased, one trailing slash
	// tolerated); tokens carry the configured spelling as `aud`.
	Resources []string
	// Scopes are advertised as scopes_supported and are what a request gets
	// when it names none of them. Duplicates and offline_access are dropped. "openid", "profile", "email" and
	// "offline_access" are also accepted in requests but never advertised
	// (offline_access is dropped: refresh tokens are issued regardless).
	Scopes []string
	// DefaultSubject is the `sub` of tokens when /authorize gets no
	// login_hint; "dev-user" when empty.
	DefaultSubject string
	// AccessTokenTTL is the access token lifetime; 1h when zero.
	AccessTokenTTL time.Duration
	// ExchangeTargets are the upstream identifiers that RFC 8693 token
	// exchange may mint tokens for (the `audience` or `resource` of an
	// exchange request, compared with oauthmeta.SameResource), e.g.
	// ["http://127.0.0.1:9100/mcp"]. Exchange requests naming anything else
	// get invalid_target; none configured refuses every exchange that way.
	ExchangeTargets []string
	// ExchangeScopes are scopes that only exchanged tokens may carry (an
	// upstream's own scopes, e.g. "tickets:read"), in addition to Scopes.
	// They are not advertised and not accepted at /authorize.
	ExchangeScopes []string
	// RefreshTokenTTL is the refresh token lifetime (sliding: each rotation
	// starts a new period); 24h when zero.
	RefreshTokenTTL time.Duration
	// Logger receives one line per issued token or refused request; never
	// tokens or secrets. Discarded when nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// CIMD configures how Client ID Metadata Documents are fetched when a
	// client_id is an https URL (draft-ietf-oauth-client-id-metadata-document;
	// see resolveClient). The zero value is the production-grade fetcher:
	// public hosts only, system roots. InsecureAllowLoopback and RootCAs
	// exist for tests (`mcp-gateway dev --insecure-cimd-allow-loopback
	// --insecure-cimd-root-ca FILE`). A nil CIMD.Now takes Now.
	CIMD cimd.FetcherOptions
}

// Server is an in-memory OAuth 2.1 authorization server for development.
// It is NOT FOR PRODUCTION: it authenticates no user and auto-approves every
// authorization request (see the package documentation). It is safe for
// concurrent use.
type Server struct {
	issuer    string
	prefix    string // path of the issuer, "" or "/x"
	resources []string
	scopes    []string
	subject   string

	exchTargets []string // Options.ExchangeTargets
	exchScopes  []string // Options.ExchangeScopes

	accessTTL time.Duration
	refTTL    time.Duration
	log       *slog.Logger
	now       func() time.Time

	fetcher *cimd.Fetcher

	signKey jwk.Key // private, with kid and alg
	pubSet  jwk.Set

	devClientID     string
	devClientSecret string

	mu      sync.Mutex
	clients map[string]*client
	order   []string // registration order of dynamic clients, for eviction
	codes   map[string]*authCode
	refresh map[string]*refreshGrant
}

// generateKey makes the signing key; tests replace it to avoid paying for
// RSA key generation in every case.
var generateKey = func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }

// New validates opts, generates an RSA 2048 signing key (kid = its RFC 7638
// thumbprint) and a pre-registered confidential dev client with a random
// secret.
func New(opts Options) (*Server, error) {
	issuer, prefix, err := parseIssuer(opts.Issuer)
	if err != nil {
		return nil, err
	}
	var resources []string
	for _, r := range opts.Resources {
		if _, err := canonicalResource(r); err != nil {
			return nil, fmt.Errorf("devidp: resource %q: %w", r, err)
		}
		resources = append(resources, r)
	}
	var scopes []string
	for _, sc := range opts.Scopes {
		if !oauthmeta.ValidScopeToken(sc) {
			return nil, fmt.Errorf("devidp: invalid scope %q (RFC 6749 §3.3)", sc)
		}
		if sc != "offline_access" && !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	exchTargets, exchScopes, err := exchangeOptions(opts)
	if err != nil {
		return nil, err
	}
	s := &Server{
		issuer:      issuer,
		prefix:      prefix,
		resources:   resources,
		scopes:      scopes,
		subject:     opts.DefaultSubject,
		accessTTL:   opts.AccessTokenTTL,
		refTTL:      opts.RefreshTokenTTL,
		log:         opts.Logger,
		now:         opts.Now,
		clients:     map[string]*client{},
		codes:       map[string]*authCode{},
		refresh:     map[string]*refreshGrant{},
		exchTargets: exchTargets,
		exchScopes:  exchScopes,
	}
	if s.subject == "" {
		s.subject = "dev-user"
	}
	if s.accessTTL <= 0 {
		s.accessTTL = time.Hour
	}
	if s.refTTL <= 0 {
		s.refTTL = 24 * time.Hour
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	fo := opts.CIMD
	if fo.Now == nil {
		fo.Now = s.now
	}
	s.fetcher = cimd.NewFetcher(fo)
	if err := s.initKeys(); err != nil {
		return nil, err
	}
	s.devClientID = "mcp-gateway-dev"
	s.devClientSecret = randomToken()
	s.clients[s.devClientID] = &client{
		ID:         s.devClientID,
		Secret:     s.devClientSecret,
		Name:       "mcp-gateway dev client",
		GrantTypes: []string{grantAuthorizationCode, grantRefreshToken, grantClientCredentials, grantTokenExchange},
		AuthMethod: authBasic,
		IssuedAt:   s.now().Unix(),
		dev:        true,
	}
	return s, nil
}

func parseIssuer(raw string) (issuer, prefix string, err error) {
	raw = strings.TrimSuffix(raw, "/")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("devidp: issuer %q must be an absolute http(s) URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.Contains(raw, "#") || u.User != nil {
		return "", "", fmt.Errorf("devidp: issuer %q must not have query, fragment or userinfo (RFC 8414 §2)", raw)
	}
	return raw, u.EscapedPath(), nil
}

func (s *Server) initKeys() error {
	priv, err := generateKey()
	if err != nil {
		return fmt.Errorf("devidp: generate key: %w", err)
	}
	key, err := jwk.FromRaw(priv)
	if err != nil {
		return fmt.Errorf("devidp: jwk: %w", err)
	}
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("devidp: thumbprint: %w", err)
	}
	for k, v := range map[string]any{
		jwk.KeyIDKey:     base64.RawURLEncoding.EncodeToString(tp),
		jwk.AlgorithmKey: jwa.RS256,
		jwk.KeyUsageKey:  jwk.ForSignature,
	} {
		if err := key.Set(k, v); err != nil {
			return fmt.Errorf("devidp: jwk %s: %w", k, err)
		}
	}
	pub, err := jwk.PublicKeyOf(key)
	if err != nil {
		return fmt.Errorf("devidp: public key: %w", err)
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return fmt.Errorf("devidp: jwk set: %w", err)
	}
	s.signKey, s.pubSet = key, set
	return nil
}

// DevClient returns the pre-registered confidential client. It may use the
// client_credentials, authorization_code, refresh_token and RFC 8693 token
// exchange grants (no other client may use the first and the last),
// authenticates with client_secret_basic or client_secret_post, and accepts
// any loopback http redirect URI (it has none registered). The secret is
// random per process.
func (s *Server) DevClient() (clientID, clientSecret string) {
	return s.devClientID, s.devClientSecret
}

// Handler returns the HTTP handler serving every endpoint under the issuer.
// Metadata, /jwks, /register, /token and /revoke answer CORS preflights and
// echo a loopback Origin in `Access-Control-Allow-Origin` for browser
// clients such as the MCP Inspector; /authorize does not need CORS (it is a
// top-level navigation). Requests from any other Origin are refused with 403
// on every endpoint (see checkOrigin).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	seen := map[string]bool{}
	add := func(path string, cors bool, methods map[string]http.HandlerFunc) {
		if seen[path] {
			return
		}
		seen[path] = true
		mux.Handle(path, route(cors, methods))
	}
	meta := map[string]http.HandlerFunc{http.MethodGet: s.handleMetadata}
	add("/.well-known/oauth-authorization-server"+s.prefix, true, meta)
	add("/.well-known/openid-configuration"+s.prefix, true, meta)
	add(s.prefix+"/.well-known/openid-configuration", true, meta)
	add(s.prefix+"/jwks", true, map[string]http.HandlerFunc{http.MethodGet: s.handleJWKS})
	add(s.prefix+"/register", true, map[string]http.HandlerFunc{http.MethodPost: s.handleRegister})
	add(s.prefix+"/authorize", false, map[string]http.HandlerFunc{http.MethodGet: s.handleAuthorize, http.MethodPost: s.handleAuthorize})
	add(s.prefix+"/token", true, map[string]http.HandlerFunc{http.MethodPost: s.handleToken})
	add(s.prefix+"/revoke", true, map[string]http.HandlerFunc{http.MethodPost: s.handleRevoke})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, &oauthError{Code: errInvalidRequest, Description: "no such endpoint", Status: http.StatusNotFound})
	})
	return mux
}

// route applies the Origin rule (checkOrigin), dispatches by method, caps
// the body, answers CORS preflights when cors is set and refuses other
// methods with 405 in the JSON error format.
func route(cors bool, methods map[string]http.HandlerFunc) http.Handler {
	allow := make([]string, 0, len(methods)+1)
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if methods[m] != nil {
			allow = append(allow, m)
		}
	}
	if cors {
		allow = append(allow, http.MethodOptions)
	}
	allowList := strings.Join(allow, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !checkOrigin(w, r, cors) {
			return
		}
		if cors {
			h := w.Header()
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", allowList)
				reqHeaders := r.Header.Get("Access-Control-Request-Headers")
				if reqHeaders == "" {
					reqHeaders = "Authorization, Content-Type, MCP-Protocol-Version"
				}
				h.Set("Access-Control-Allow-Headers", reqHeaders)
				h.Set("Access-Control-Max-Age", "600")
				h.Add("Vary", "Access-Control-Request-Headers")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		hf := methods[r.Method]
		if hf == nil && r.Method == http.MethodHead {
			hf = methods[http.MethodGet]
		}
		if hf == nil {
			w.Header().Set("Allow", allowList)
			writeError(w, &oauthError{Code: errInvalidRequest, Description: "method " + r.Method + " not allowed", Status: http.StatusMethodNotAllowed})
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		}
		hf(w, r)
	})
}

// parseForm parses a form body (and query for GET) and maps failures,
// including an oversized body, to invalid_request.
func parseForm(r *http.Request) *oauthError {
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &oauthError{Code: errInvalidRequest, Description: "request body too large", Status: http.StatusRequestEntityTooLarge}
		}
		return newErr(errInvalidRequest, "malformed form body")
	}
	return nil
}

// single returns the only value of a parameter; RFC 6749 §3.1 and §3.2 forbid
// repeating one.
func single(v url.Values, name string) (string, *oauthError) {
	vs := v[name]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	default:
		return "", newErr(errInvalidRequest, "parameter "+name+" repeated")
	}
}

// randomToken returns 256 random bits, base64url without padding.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
