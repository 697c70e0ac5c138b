package testenv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // Entra's kid and x5t are SHA-1 thumbprints
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
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

// PairwiseSub is the "sub" this fake gives user oid in tokens whose aud is
// appID: 43 base64url characters, stable per (tenant, user, app), as Entra's
// pairwise subject ("unique to a particular application ID"). Compare users
// across apps by "oid", which is the same in every token.
func (f *FakeEntra) PairwiseSub(oid, appID string) string {
	sum := sha256.Sum256([]byte(f.tenant + "\x00" + strings.ToLower(oid) + "\x00" + appID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// EntraUserTokenOptions describes the access token a client app obtained
// for the middle tier (the gateway), as MintUserToken mints it.
type EntraUserTokenOptions struct {
	OID               string        // user's object id (required)
	Audience          string        // aud: the middle tier's client id (required)
	ClientID          string        // azp: the client app; "" means EntraTestClientAppID
	Scopes            []string      // scp; nil means ["access_as_user"]
	PreferredUsername string        // preferred_username, omitted when ""
	Name              string        // name, omitted when ""
	TTL               time.Duration // lifetime; 0 means the token TTL; negative mints an expired token
	// Claims override or add claims after the others are set; a nil value
	// removes the claim.
	Claims map[string]any
}

// MintUserToken returns a v2.0 access token (typ JWT, RS256, kid) signed
// by the fake's key: iss, aud, tid, oid, sub (PairwiseSub for aud), azp,
// azpacr "0" (a public client), scp, ver "2.0", uti, iat, nbf, exp. It
// satisfies the gateway's "entra" profile (azp present, no ID-token
// claims) and is the assertion an OBO request presents.
func (f *FakeEntra) MintUserToken(t testing.TB, o EntraUserTokenOptions) string {
	t.Helper()
	if o.OID == "" || o.Audience == "" {
		t.Fatal("testenv: MintUserToken needs OID and Audience")
	}
	if o.ClientID == "" {
		o.ClientID = EntraTestClientAppID
	}
	if o.Scopes == nil {
		o.Scopes = []string{entraDefaultUserTokenScope}
	}
	ttl := o.TTL
	if ttl == 0 {
		ttl = f.tokenTTL()
	}
	claims := f.baseClaims(o.OID, o.Audience, o.ClientID, "0", strings.Join(o.Scopes, " "), ttl)
	entraSetIf(claims, "preferred_username", o.PreferredUsername)
	entraSetIf(claims, "name", o.Name)
	for k, v := range o.Claims {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	tok, err := f.sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// baseClaims are the claims of every v2.0 access token this fake issues.
func (f *FakeEntra) baseClaims(oid, aud, azp, azpacr, scp string, ttl time.Duration) map[string]any {
	now := f.now()
	return map[string]any{
		"aud": aud, "iss": f.Issuer(), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
		"azp": azp, "azpacr": azpacr, "oid": oid, "scp": scp, "sub": f.PairwiseSub(oid, aud),
		"tid": f.tenant, "uti": entraRandomID(16), "ver": "2.0",
	}
}

func entraSetIf(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// sign serializes claims as a compact JWS with Entra's access-token header
// (typ JWT, alg RS256, kid).
func (f *FakeEntra) sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	hdr := jws.NewHeaders()
	for k, v := range map[string]string{jws.TypeKey: "JWT", jws.KeyIDKey: f.kid} {
		if err := hdr.Set(k, v); err != nil {
			return "", err
		}
	}
	b, err := jws.Sign(payload, jws.WithKey(jwa.RS256, f.key, jws.WithProtectedHeaders(hdr)))
	return string(b), err
}

// VerifyToken checks that token was signed by this fake (RS256), that its
// iss is Issuer() and that it has not expired by the fake's clock, and
// returns its claims (numbers as float64). It does not check aud: the
// caller compares it.
func (f *FakeEntra) VerifyToken(token string) (map[string]any, error) {
	payload, err := jws.Verify([]byte(token), jws.WithKey(jwa.RS256, &f.key.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("fake entra: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("fake entra: claims: %w", err)
	}
	if claims["iss"] != f.Issuer() {
		return nil, fmt.Errorf("fake entra: iss %v is not %s", claims["iss"], f.Issuer())
	}
	if exp, ok := claims["exp"].(float64); !ok || f.now().Unix() >= int64(exp) {
		return nil, fmt.Errorf("fake entra: token expired or without exp (%v)", claims["exp"])
	}
	return claims, nil
}

// EntraCredential is a certificate credential for an app: an RSA key and
// a self-signed certificate to register in EntraApp.Certificates.
type EntraCredential struct {
	Key         *rsa.PrivateKey
	Certificate *x509.Certificate
	// PEM holds the PKCS #8 "PRIVATE KEY" block then the "CERTIFICATE"
	// block, the form a client's private-key setting takes.
	PEM []byte
	// X5T and X5TS256 are the certificate's SHA-1 and SHA-256 thumbprints,
	// base64url (RFC 7515 §4.1.7-8).
	X5T, X5TS256 string
}

// NewEntraCredential generates a 2048-bit RSA key and a self-signed
// certificate valid for a day.
func NewEntraCredential(t testing.TB) EntraCredential {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:   pkix.Name{CommonName: "fake-entra-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemText := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	x5t, x5tS256 := entraThumbprints(cert)
	return EntraCredential{Key: key, Certificate: cert, PEM: pemText, X5T: x5t, X5TS256: x5tS256}
}

// entraThumbprints returns base64url SHA-1 and SHA-256 of the DER certificate.
func entraThumbprints(c *x509.Certificate) (x5t, x5tS256 string) {
	s1 := sha1.Sum(c.Raw) //nolint:gosec // x5t is SHA-1 by definition (RFC 7515 §4.1.7)
	s256 := sha256.Sum256(c.Raw)
	return base64.RawURLEncoding.EncodeToString(s1[:]), base64.RawURLEncoding.EncodeToString(s256[:])
}

// EntraRefusal is an error the token endpoint returns for an OBO request
// that is otherwise valid (after client, assertion and scope checks), as
// Entra does for consent and Conditional Access. See RefuseUser, RefuseAll.
type EntraRefusal struct {
	Status      int    // HTTP status; 0 means 400
	Error       string // OAuth "error": invalid_grant, interaction_required, ...
	Code        int    // AADSTS number, listed in error_codes
	Description string // text after "AADSTS<code>: "; "" means the fake's text for Code
	SubError    string // "suberror", omitted when ""
	Claims      string // "claims" challenge (a JSON string), omitted when ""
}

// EntraConsentRequired is the refusal when the user has not consented to
// the middle tier calling the downstream API: invalid_grant, AADSTS65001,
// suberror consent_required (error codes reference, DelegationDoesNotExist).
func EntraConsentRequired() EntraRefusal {
	return EntraRefusal{Error: "invalid_grant", Code: 65001, SubError: "consent_required"}
}

// EntraMFARequired is the on-behalf-of doc's own error example: a
// Conditional Access policy on the downstream API requires multifactor
// authentication; interaction_required, AADSTS50079, with a claims
// challenge the middle tier should relay to its client.
func EntraMFARequired() EntraRefusal {
	return EntraRefusal{Error: "interaction_required", Code: 50079,
		Claims: `{"access_token":{"polids":{"essential":true,"values":["9ab03e19-ed42-4168-b6b7-7001fb3e933a"]}}}`}
}

// RefuseUser makes every later OBO request for user oid (the assertion's
// "oid") fail with r. It takes precedence over RefuseAll.
func (f *FakeEntra) RefuseUser(oid string, r EntraRefusal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuseUser[strings.ToLower(oid)] = r
}

// RefuseAll makes every later OBO request that passes the protocol checks
// fail with r.
func (f *FakeEntra) RefuseAll(r EntraRefusal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuseAll = &r
}

// ClearRefusals undoes RefuseUser and RefuseAll.
func (f *FakeEntra) ClearRefusals() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuseAll, f.refuseUser = nil, map[string]EntraRefusal{}
}

func (f *FakeEntra) refusalFor(oid string) *EntraRefusal {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.refuseUser[strings.ToLower(oid)]; ok {
		return &r
	}
	return f.refuseAll
}

// EntraTokenRequest records one request to the token endpoint.
type EntraTokenRequest struct {
	// Form is the POST body; client_secret and client_assertion values are
	// replaced by "REDACTED" (the OBO "assertion" is kept).
	Form url.Values
	// ClientAuth is how the client tried to authenticate:
	// "client_secret_post", "client_secret_basic", "private_key_jwt", ""
	// for none, or several joined by "+" (refused with AADSTS90023).
	ClientAuth string
	Status     int    // HTTP status of the answer
	Error      string // OAuth error code, "" on success
	Code       int    // AADSTS code, 0 on success
}

// TokenRequests returns the token endpoint's requests so far, in order.
func (f *FakeEntra) TokenRequests() []EntraTokenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]EntraTokenRequest, len(f.requests))
	for i, r := range f.requests {
		r.Form = entraCloneValues(r.Form)
		out[i] = r
	}
	return out
}

// Requests returns the form of each token endpoint request so far (see
// EntraTokenRequest.Form), refused ones included.
func (f *FakeEntra) Requests() []url.Values {
	rs := f.TokenRequests()
	out := make([]url.Values, len(rs))
	for i, r := range rs {
		out[i] = r.Form
	}
	return out
}

func (f *FakeEntra) record(r EntraTokenRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
}

func entraCloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
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
