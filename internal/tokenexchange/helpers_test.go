package tokenexchange_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/tokenexchange"
)

// Distinctive values that no error text may ever contain.
const (
	subjectToken = "SUBJECT-TOKEN-eyJ0eXAi.c3ViamVjdA.c2ln"
	clientSecret = "CLIENT-SECRET-s3cr%t:&+ é"
	clientID     = "gw client:1"
)

// now is the exchanger's injected clock: whole seconds, as JWT claims are.
var now = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// request is what the fake token endpoint received.
type request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Form                   url.Values // body only
}

// tokenEndpoint is a fake authorization server's token endpoint: it records
// every request and answers with respond (default: a valid token).
type tokenEndpoint struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []request
	respond http.HandlerFunc
}

func newTokenEndpoint(t *testing.T, respond http.HandlerFunc) *tokenEndpoint {
	t.Helper()
	te := &tokenEndpoint{respond: respond}
	if te.respond == nil {
		te.respond = answer(http.StatusOK, map[string]any{
			"access_token": "upstream-token", "token_type": "Bearer", "expires_in": 3600,
			"issued_token_type": tokenexchange.TokenTypeAccessToken,
		})
	}
	te.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("token endpoint: %v", err)
		}
		te.mu.Lock()
		te.reqs = append(te.reqs, request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Form: r.PostForm})
		te.mu.Unlock()
		te.respond(w, r)
	}))
	t.Cleanup(te.Close)
	return te
}

// URL of the token endpoint.
func (te *tokenEndpoint) tokenURL() string { return te.Server.URL + "/oauth2/token" }

func (te *tokenEndpoint) requests() []request {
	te.mu.Lock()
	defer te.mu.Unlock()
	return append([]request(nil), te.reqs...)
}

// only returns the one request received, failing t otherwise.
func (te *tokenEndpoint) only(t *testing.T) request {
	t.Helper()
	reqs := te.requests()
	if len(reqs) != 1 {
		t.Fatalf("token endpoint got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// answer is a handler replying status with body as JSON.
func answer(status int, body any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
}

// fixed is an Endpoint resolver returning u.
func fixed(u string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return u, nil }
}

// options are valid RFC 8693 options against te with client_secret_basic.
func options(t *testing.T, te *tokenEndpoint) tokenexchange.Options {
	t.Helper()
	return tokenexchange.Options{
		Grant: tokenexchange.GrantRFC8693, Endpoint: fixed(te.tokenURL()),
		ClientID: clientID, Auth: secretAuth(t, tokenexchange.AuthClientSecretBasic),
		Audience: "https://upstream.example/", Now: func() time.Time { return now },
	}
}

func secretAuth(t *testing.T, method string) tokenexchange.ClientAuth {
	t.Helper()
	a, err := tokenexchange.SecretAuth(method, clientSecret)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func newExchanger(t *testing.T, o tokenexchange.Options) *tokenexchange.Exchanger {
	t.Helper()
	ex, err := tokenexchange.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// Keys are generated once per test binary: RSA generation is slow under -race.
var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	rsaOther *rsa.PrivateKey
	rsaSmall *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	ecP384   *ecdsa.PrivateKey
	ecP224   *ecdsa.PrivateKey
	edKey    ed25519.PrivateKey
)

func keys(t *testing.T) {
	t.Helper()
	keysOnce.Do(func() {
		rsaKey, rsaOther = genRSA(2048), genRSA(2048)
		rsaSmall = genRSA(1024)
		ecKey, ecP384, ecP224 = genEC(elliptic.P256()), genEC(elliptic.P384()), genEC(elliptic.P224())
		var err error
		if _, edKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
}

func genRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func genEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8(t *testing.T, k crypto.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", der)
}

func pkcs1(k *rsa.PrivateKey) []byte {
	return pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
}

func sec1(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("EC PRIVATE KEY", der)
}

// certificate returns a self-signed certificate for k, as DER.
func certificate(t *testing.T, k crypto.Signer) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mcp-gateway token exchange"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
	}
	return testkit.SelfSign(t, k, tmpl).Raw
}
