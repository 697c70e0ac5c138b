//go:build bench

package bench

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Scope is the scope every peer requires and every token carries.
const Scope = "mcp:tools"

// benchKID is the kid of the issuer's only signing key.
const benchKID = "bench-rsa-1"

// Issuer is the benchmark's loopback OIDC issuer: discovery
// (/.well-known/openid-configuration) and a JWKS holding one RS256
// 2048-bit key under a kid, plus Mint for access tokens. It is the one
// authorization server every peer trusts, so all verify the same tokens.
// Nothing here is hardened: it serves tests only.
type Issuer struct {
	// URL is the issuer identifier, http://127.0.0.1:<port>.
	URL string
	// Audiences are put, all of them, into every token's aud array: each
	// authenticating peer requires its own and ignores the others.
	Audiences []string

	key  *rsa.PrivateKey
	jwks []byte
	seq  atomic.Int64
}

// NewIssuer generates the signing key and serves the issuer until the test
// ends.
func NewIssuer(t testing.TB, audiences []string) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := &Issuer{Audiences: audiences, key: key}
	iss.jwks, err = json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": benchKID,
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss.URL, "jwks_uri": iss.URL + "/jwks",
			"authorization_endpoint": iss.URL + "/authorize", "token_endpoint": iss.URL + "/token",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(iss.jwks)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.URL = srv.URL
	return iss
}

// Claims returns valid access-token claims: iss, sub, aud (every
// audience), scope, exp (+1h), iat, jti (unique) and client_id.
func (i *Issuer) Claims() map[string]any {
	now := time.Now().Unix()
	return map[string]any{
		"iss": i.URL, "sub": "bench-user", "aud": i.Audiences, "scope": Scope,
		"exp": now + 3600, "iat": now, "jti": fmt.Sprintf("bench-%d", i.seq.Add(1)),
		"client_id": "bench-client",
	}
}

// Mint signs a fresh valid token (RS256, kid).
func (i *Issuer) Mint() (string, error) { return i.sign(i.Claims(), i.key) }

// MintWith signs valid claims changed by mod.
func (i *Issuer) MintWith(mod func(claims map[string]any)) (string, error) {
	c := i.Claims()
	mod(c)
	return i.sign(c, i.key)
}

// Expired signs a token valid in every way but exp, an hour ago.
func (i *Issuer) Expired() (string, error) {
	c := i.Claims()
	c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
	c["exp"] = time.Now().Add(-time.Hour).Unix()
	return i.sign(c, i.key)
}

// Forged signs valid claims under the issuer's kid with a key the issuer
// never published.
func (i *Issuer) Forged() (string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	return i.sign(i.Claims(), k)
}

// sign builds a compact JWS (typ at+jwt, RFC 9068) over claims.
func (i *Issuer) sign(claims map[string]any, key *rsa.PrivateKey) (string, error) {
	hdr, err := json.Marshal(map[string]string{"alg": "RS256", "kid": benchKID, "typ": "at+jwt"})
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	in := b64(hdr) + "." + b64(body)
	d := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, d[:])
	if err != nil {
		return "", err
	}
	return in + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// MintPool signs n distinct valid tokens on every CPU.
func (i *Issuer) MintPool(n int) ([]string, error) {
	out := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, runtime.GOMAXPROCS(0))
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := int(next.Add(1)) - 1
				if j >= n {
					return
				}
				tok, err := i.Mint()
				if err != nil {
					errs <- err
					return
				}
				out[j] = tok
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return out, nil
}
