//go:build bench

package peers_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// issuer is a loopback OIDC issuer: discovery (OIDC Discovery §4) naming
// a JWKS that publishes one RS256 2048-bit key under kid. It is local to
// this package so the peer check depends on nothing under internal/authn.
type issuer struct {
	URL     string
	key     *rsa.PrivateKey
	kid     string
	foreign *rsa.PrivateKey // never published: forged signatures
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	iss := &issuer{key: rsaKey(t), kid: "bench-rsa-1", foreign: rsaKey(t)}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer": iss.URL, "jwks_uri": iss.URL + "/jwks",
			"authorization_endpoint": iss.URL + "/authorize", "token_endpoint": iss.URL + "/token",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) {
		pub := iss.key.PublicKey
		writeJSON(w, map[string]any{"keys": []map[string]any{{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": iss.kid,
			"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.URL = srv.URL
	return iss
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// claims returns valid access-token claims: aud an array holding
// audience, scope holding the required one, exp in an hour.
func (i *issuer) claims() map[string]any {
	now := time.Now().Unix()
	return map[string]any{
		"iss": i.URL, "sub": "user-1", "aud": []string{audience, "https://other.example/api"},
		"exp": now + 3600, "iat": now, "nbf": now, "jti": rand.Text(),
		"scope": "mcp:read " + scope, "client_id": "bench-client",
	}
}

// mint signs claims as an RS256 JWS under the published kid, with key
// (nil: the published key).
func (i *issuer) mint(t *testing.T, claims map[string]any, key *rsa.PrivateKey) string {
	t.Helper()
	if key == nil {
		key = i.key
	}
	hdr, err := json.Marshal(map[string]any{"alg": "RS256", "kid": i.kid, "typ": "at+jwt"})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := b64(hdr) + "." + b64(payload)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}
