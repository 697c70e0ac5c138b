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
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

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
	cert := testkit.SelfSign(t, key, tmpl)
	der := cert.Raw
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
