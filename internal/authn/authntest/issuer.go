// Package authntest runs a fake OIDC issuer for tests: discovery, a JWKS
// with RSA, EC and Ed25519 keys, token minting with arbitrary header and
// payload overrides, key rotation (at once, or with an overlap in which
// the previous key stays published) and outages. Attacks builds a table of
// malicious tokens any package can feed to its own verifier or HTTP stack.
//
// It is for tests only: keys are generated per Issuer and nothing here is
// hardened.
package authntest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// ClientID is the client id in Claims; Subject the sub.
const (
	ClientID = "test-client"
	Subject  = "user-1"
)

// Issuer is an httptest OIDC issuer. URL is its issuer identifier.
type Issuer struct {
	URL    string
	Server *httptest.Server

	EC      *ecdsa.PrivateKey // published as ECKID, P-256, no "alg"
	ECKID   string
	Ed      ed25519.PrivateKey // published as EdKID, no "alg"
	EdKID   string
	Foreign *rsa.PrivateKey // never published: "attacker" or "wrong" key

	t        testing.TB
	mu       sync.Mutex
	rsaKey   *rsa.PrivateKey // current RSA key, published with alg RS256
	rsaKID   string
	previous []publishedKey // former RSA keys still in the JWKS (RotateKeepingPrevious)
	gen      int
	down     bool
	jwksBody []byte // override; nil means generated
	jwksHits atomic.Int64
	discHits atomic.Int64

	attacker     *httptest.Server
	attackerHits atomic.Int64
}

// NewIssuer starts an issuer and its attacker-controlled twin server (for
// jku/x5u attacks); both close at test cleanup.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	iss := &Issuer{t: t, ECKID: "ec-1", EdKID: "ed-1"}
	var err error
	if iss.EC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if _, iss.Ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	iss.Foreign = newRSA(t)
	iss.rotate()

	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", iss.serveMetadata)
	mux.HandleFunc("/jwks", iss.serveJWKS)
	iss.Server = httptest.NewServer(mux)
	iss.URL = iss.Server.URL
	t.Cleanup(iss.Server.Close)

	iss.attacker = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		iss.attackerHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(JWKS(t, JWK(t, &iss.Foreign.PublicKey, "attacker", "")))
	}))
	t.Cleanup(iss.attacker.Close)
	return iss
}

func newRSA(t testing.TB) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// RSA returns the current RSA signing key and its kid.
func (i *Issuer) RSA() (*rsa.PrivateKey, string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.rsaKey, i.rsaKID
}

// Rotate replaces the RSA key with a new one under a new kid and returns
// the kid. The old RSA key disappears from the JWKS at once.
func (i *Issuer) Rotate() string { return i.rotate() }

func (i *Issuer) rotate() string { return i.rotateKeeping(false) }

// rotateKeeping installs a new RSA signing key; with keep, the current one
// joins the previous keys still published.
func (i *Issuer) rotateKeeping(keep bool) string {
	k := newRSA(i.t)
	i.mu.Lock()
	defer i.mu.Unlock()
	if keep && i.rsaKey != nil {
		i.previous = append(i.previous, publishedKey{pub: &i.rsaKey.PublicKey, kid: i.rsaKID})
	}
	i.gen++
	i.rsaKey, i.rsaKID = k, fmt.Sprintf("rsa-%d", i.gen)
	return i.rsaKID
}

// publishedKey is a former signing key kept in the JWKS.
type publishedKey struct {
	pub *rsa.PublicKey
	kid string
}

// RotateKeepingPrevious starts a key rollover as IdPs do it (OIDC Core
// §10.1.1: a verifier meeting an unknown kid fetches the JWKS again; the
// old key stays published while tokens signed with it are still in use): a
// new RSA key under a new kid is published and becomes Mint's signing key
// at once, and the previous one stays in the JWKS until DropPrevious. It
// returns the new kid. RSA, called before, returns the previous key, to
// mint tokens a client still holds (WithKey, WithKID).
func (i *Issuer) RotateKeepingPrevious() string { return i.rotateKeeping(true) }

// DropPrevious ends a rollover: the keys RotateKeepingPrevious kept
// leave the JWKS, and tokens signed with them no longer verify once a
// verifier has fetched the set again.
func (i *Issuer) DropPrevious() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.previous = nil
}

// SetDown makes discovery and JWKS answer 500 while down is true.
func (i *Issuer) SetDown(down bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.down = down
}

// SetJWKS serves body verbatim as the JWKS; nil restores the generated one.
func (i *Issuer) SetJWKS(body []byte) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.jwksBody = body
}

// JWKSURI is the issuer's JWKS location.
func (i *Issuer) JWKSURI() string { return i.URL + "/jwks" }

// JWKSHits counts JWKS requests served (including failed ones).
func (i *Issuer) JWKSHits() int64 { return i.jwksHits.Load() }

// AttackerURL is the attacker server used in jku/x5u headers.
func (i *Issuer) AttackerURL() string { return i.attacker.URL }

// AttackerHits counts requests the attacker server received; a correct
// verifier leaves it at zero.
func (i *Issuer) AttackerHits() int64 { return i.attackerHits.Load() }

// Claims returns valid access-token claims for audience: iss, sub, aud,
// exp (+1h), iat, nbf, jti, scope "mcp:read mcp:write" and client_id.
func (i *Issuer) Claims(audience string) map[string]any {
	now := time.Now().Unix()
	return map[string]any{
		"iss": i.URL, "sub": Subject, "aud": audience,
		"exp": now + 3600, "iat": now, "nbf": now,
		"jti":   fmt.Sprintf("jti-%d", jtiSeq.Add(1)),
		"scope": "mcp:read mcp:write", "client_id": ClientID,
	}
}

var jtiSeq atomic.Int64

func (i *Issuer) isDown() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.down
}

func (i *Issuer) serveMetadata(w http.ResponseWriter, r *http.Request) {
	i.discHits.Add(1)
	if i.isDown() {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer": i.URL, "jwks_uri": i.JWKSURI(),
		"authorization_endpoint": i.URL + "/authorize", "token_endpoint": i.URL + "/token",
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	i.jwksHits.Add(1)
	i.mu.Lock()
	down, body, rsaKey, rsaKID, previous := i.down, i.jwksBody, i.rsaKey, i.rsaKID, i.previous
	i.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	if body == nil {
		keys := []jwk.Key{
			JWK(i.t, &rsaKey.PublicKey, rsaKID, "RS256"),
			JWK(i.t, &i.EC.PublicKey, i.ECKID, ""),
			JWK(i.t, i.Ed.Public(), i.EdKID, ""),
		}
		for _, k := range previous {
			keys = append(keys, JWK(i.t, k.pub, k.kid, "RS256"))
		}
		body = JWKS(i.t, keys...)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// JWK converts a raw public key to a JWK with kid, use=sig and alg.
func JWK(t testing.TB, raw any, kid, alg string) jwk.Key {
	k, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, kid)
	_ = k.Set(jwk.KeyUsageKey, "sig")
	if alg != "" {
		_ = k.Set(jwk.AlgorithmKey, alg)
	}
	return k
}

// JWKS serializes keys as a JWK Set.
func JWKS(t testing.TB, keys ...jwk.Key) []byte {
	set := jwk.NewSet()
	for _, k := range keys {
		_ = set.AddKey(k)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
