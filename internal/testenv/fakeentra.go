package testenv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // Entra's kid and x5t are SHA-1 thumbprints
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// FakeEntra is a fake Microsoft Entra ID tenant (Microsoft identity platform
// v2.0 endpoints) on an httptest server, for tests of the on-behalf-of (OBO)
// flow. It follows Microsoft's documentation:
//
//   - "Microsoft identity platform and OAuth 2.0 On-Behalf-Of flow"
//     (learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow):
//     request parameters, success response, error response;
//   - "Microsoft identity platform application authentication certificate
//     credentials" (.../certificate-credentials): the client assertion;
//   - "Access token claims reference" (.../access-token-claims-reference):
//     the claims of the v2.0 access tokens it issues;
//   - "Microsoft Entra authentication and authorization error codes"
//     (.../reference-error-codes): the error body and the AADSTS codes.
//
// Paths, relative to URL(): /<tenant>/v2.0/.well-known/openid-configuration
// (OIDC Discovery), /<tenant>/discovery/v2.0/keys (the JWKS: one RSA key
// generated per instance, published without "alg" and with Entra's
// per-key "issuer" member) and /<tenant>/oauth2/v2.0/token (POST, OBO
// grant only). An unknown tenant gets invalid_tenant, AADSTS90002 (as Entra
// answers in practice).
//
// Not implemented: the authorize, device-code and logout endpoints (the
// discovery document names authorization_endpoint, which OIDC Discovery
// requires, but it answers 404), other grant types (unsupported_grant_type),
// v1.0 tokens, refresh-token redemption, SAML OBO, roles, groups, client
// assertion jti replay, and any clock-skew allowance.
//
// It is safe for concurrent use. Test code only: nothing here is hardened.
type FakeEntra struct {
	// Server is the running server; with FakeEntraOptions.TLS its Client()
	// trusts the server's certificate.
	Server *httptest.Server

	base   string // Server.URL, known before the server starts
	tenant string
	key    *rsa.PrivateKey
	kid    string
	jwks   []byte
	apps   map[string]*EntraApp // by client id; read-only after start
	order  []*EntraApp          // registration order, for scope lookup
	now    func() time.Time

	mu         sync.Mutex
	ttl        time.Duration
	requests   []EntraTokenRequest
	refuseAll  *EntraRefusal
	refuseUser map[string]EntraRefusal
}

// FakeEntraOptions configures StartFakeEntra.
type FakeEntraOptions struct {
	// TenantID is the directory (tenant) id; "" means a random GUID.
	TenantID string
	// Apps are the tenant's app registrations: the middle tier (the
	// gateway, with a secret or certificate) and the downstream APIs.
	Apps []EntraApp
	// TokenTTL is the lifetime of the tokens the token endpoint issues and
	// the default lifetime of MintUserToken's; 0 means EntraDefaultTokenTTL.
	// SetTokenTTL changes it later.
	TokenTTL time.Duration
	// Now is the clock for issuing and for every time check (assertions'
	// exp and nbf); nil means time.Now. It has no clock-skew allowance, so
	// a client signing assertions with another clock must agree with it.
	Now func() time.Time
	// TLS serves https (httptest's certificate, trusted by Server.Client()).
	TLS bool
}

// EntraApp is one app registration (application object and service
// principal in the tenant).
type EntraApp struct {
	// ClientID is the application (client) id, a GUID (required). The v2.0
	// access tokens issued for this app carry it as "aud", whatever
	// identifier the scope named: "In v2.0 tokens, this value is always the
	// client ID of the API" (access token claims reference).
	ClientID string
	// Name is the display name, used in error descriptions.
	Name string
	// IdentifierURIs are the Application ID URIs ("api://tickets"). A
	// scope names its resource by one of these or by the client id.
	IdentifierURIs []string
	// Scopes are the delegated permissions the app exposes ("Read",
	// "access_as_user"); "<resource>/.default" grants all of them. Consent
	// is assumed for every app and user unless a refusal says otherwise.
	Scopes []string
	// ClientSecret, when set, authenticates the app in client_secret (body)
	// or HTTP Basic (RFC 6749 §2.3.1), both documented for OBO.
	ClientSecret string
	// Certificates are the app's certificate credentials: a client
	// assertion must name one by x5t#S256 (or, without it, x5t) and verify
	// with its key.
	Certificates []*x509.Certificate
}

// Protocol values of the OBO request (on-behalf-of flow doc, "Middle-tier
// access token request").
const (
	EntraGrantTypeJWTBearer    = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	EntraClientAssertionType   = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	EntraRequestedTokenUseOBO  = "on_behalf_of"
	EntraDefaultTokenTTL       = time.Hour
	EntraTestClientAppID       = "0f3c0ac8-7c9a-4c1e-9b52-5d7f0e8a1c01" // default azp of MintUserToken
	entraDefaultUserTokenScope = "access_as_user"
)

// StartFakeEntra starts a fake tenant with o's app registrations; it stops
// when the test ends. Each app needs a ClientID, unique in the tenant.
func StartFakeEntra(t testing.TB, o FakeEntraOptions) *FakeEntra {
	t.Helper()
	f := &FakeEntra{tenant: strings.ToLower(o.TenantID), ttl: o.TokenTTL, now: o.Now,
		apps: map[string]*EntraApp{}, refuseUser: map[string]EntraRefusal{}}
	if f.tenant == "" {
		f.tenant = entraGUID()
	}
	if f.ttl <= 0 {
		f.ttl = EntraDefaultTokenTTL
	}
	if f.now == nil {
		f.now = time.Now
	}
	for i := range o.Apps {
		a := o.Apps[i]
		if a.ClientID == "" {
			t.Fatalf("testenv: FakeEntra app %d (%q) has no ClientID", i, a.Name)
		}
		if _, dup := f.apps[a.ClientID]; dup {
			t.Fatalf("testenv: FakeEntra app %q registered twice", a.ClientID)
		}
		f.apps[a.ClientID] = &a
		f.order = append(f.order, &a)
	}
	var err error
	if f.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(der) //nolint:gosec // a name, as Entra's kid (an x5t-style thumbprint)
	f.kid = base64.RawURLEncoding.EncodeToString(sum[:])

	mux := http.NewServeMux()
	mux.HandleFunc("/{tenant}/v2.0/.well-known/openid-configuration", f.serveDiscovery)
	mux.HandleFunc("/{tenant}/discovery/v2.0/keys", f.serveJWKS)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/token", f.serveToken)
	f.Server = httptest.NewUnstartedServer(mux)
	f.base = "http://" + f.Server.Listener.Addr().String() // as httptest sets URL
	if o.TLS {
		f.base = "https://" + f.Server.Listener.Addr().String()
	}
	f.jwks = f.buildJWKS(t) // before serving: handlers only read it
	if o.TLS {
		f.Server.StartTLS()
	} else {
		f.Server.Start()
	}
	t.Cleanup(f.Server.Close)
	if f.Server.URL != f.base {
		t.Fatalf("testenv: FakeEntra URL %s, expected %s", f.Server.URL, f.base)
	}
	return f
}

// URL is the server's root ("http://127.0.0.1:port"), Entra's
// "https://login.microsoftonline.com".
func (f *FakeEntra) URL() string { return f.base }

// TenantID is the tenant's id (lower case).
func (f *FakeEntra) TenantID() string { return f.tenant }

// Issuer is the v2.0 issuer, "<URL>/<tenant>/v2.0"; configure the gateway's
// provider "entra" with it.
func (f *FakeEntra) Issuer() string { return f.URL() + "/" + f.tenant + "/v2.0" }

// DiscoveryURL is Issuer()/.well-known/openid-configuration.
func (f *FakeEntra) DiscoveryURL() string { return f.Issuer() + "/.well-known/openid-configuration" }

// TokenEndpoint is "<URL>/<tenant>/oauth2/v2.0/token", also the audience
// client assertions must name.
func (f *FakeEntra) TokenEndpoint() string { return f.URL() + "/" + f.tenant + "/oauth2/v2.0/token" }

// JWKSURI is "<URL>/<tenant>/discovery/v2.0/keys".
func (f *FakeEntra) JWKSURI() string { return f.URL() + "/" + f.tenant + "/discovery/v2.0/keys" }

// SetTokenTTL changes the lifetime of tokens issued from now on (d > 0).
func (f *FakeEntra) SetTokenTTL(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d > 0 {
		f.ttl = d
	}
}

func (f *FakeEntra) tokenTTL() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ttl
}

func (f *FakeEntra) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if !f.tenantOK(w, r) {
		return
	}
	base := f.URL() + "/" + f.tenant
	writeEntraJSON(w, http.StatusOK, map[string]any{
		"issuer":                                f.Issuer(),
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        f.TokenEndpoint(),
		"jwks_uri":                              f.JWKSURI(),
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"request_uri_parameter_supported":       false,
		"cloud_instance_name":                   "microsoftonline.com",
	})
}

func (f *FakeEntra) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if !f.tenantOK(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(f.jwks)
}

// buildJWKS publishes the signing key as Entra does: kty, use, kid, n, e
// and "issuer", no "alg".
func (f *FakeEntra) buildJWKS(t testing.TB) []byte {
	k, err := jwk.FromRaw(&f.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{jwk.KeyIDKey: f.kid, jwk.KeyUsageKey: "sig", "issuer": f.Issuer()} {
		if err := k.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	set := jwk.NewSet()
	if err := set.AddKey(k); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tenantOK answers invalid_tenant (AADSTS90002) for another tenant's path.
func (f *FakeEntra) tenantOK(w http.ResponseWriter, r *http.Request) bool {
	if tn := strings.ToLower(r.PathValue("tenant")); tn != f.tenant {
		f.writeError(w, r, entraErr{status: http.StatusBadRequest, err: "invalid_tenant", code: 90002,
			desc: fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tn)})
		return false
	}
	return true
}

func writeEntraJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// entraGUID returns a random RFC 9562 version-4 UUID in lower case.
func entraGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func entraRandomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
