package devidp

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

const (
	testIssuer   = "http://127.0.0.1:8081"
	testResource = "http://127.0.0.1:8080/mcp"
	testRedirect = "http://127.0.0.1:33418/callback"
	testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

// TestMain generates one RSA key for the whole run instead of one per server.
func TestMain(m *testing.M) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	generateKey = func() (*rsa.PrivateKey, error) { return key, nil }
	os.Exit(m.Run())
}

// fixture is a server plus its clock.
type fixture struct {
	t     *testing.T
	s     *Server
	h     http.Handler
	clock *testkit.Clock
}

func newFixture(t *testing.T, mod ...func(*Options)) *fixture {
	t.Helper()
	clk := testkit.NewClock(time.Now().Truncate(time.Second))
	opts := Options{
		Issuer:    testIssuer,
		Resources: []string{testResource},
		Scopes:    []string{"mcp:tools", "mcp:admin"},
		Now:       clk.Now,
	}
	for _, m := range mod {
		m(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &fixture{t: t, s: s, h: s.Handler(), clock: clk}
}

func (f *fixture) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// register registers a client from a JSON body and returns its response.
func (f *fixture) register(body string) (*httptest.ResponseRecorder, map[string]any) {
	r := httptest.NewRequest(http.MethodPost, "/register", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := f.do(r)
	return w, decode(f.t, w)
}

// publicClient registers a public client with testRedirect and refresh.
func (f *fixture) publicClient() string {
	f.t.Helper()
	w, m := f.register(`{"redirect_uris":["` + testRedirect + `"],"grant_types":["authorization_code","refresh_token"],"token_endpoint_auth_method":"none","client_name":"t"}`)
	if w.Code != http.StatusCreated {
		f.t.Fatalf("register: %d %s", w.Code, w.Body)
	}
	return m["client_id"].(string)
}

// authorize calls /authorize with params and returns the recorder.
func (f *fixture) authorize(params url.Values) *httptest.ResponseRecorder {
	return f.do(httptest.NewRequest(http.MethodGet, "/authorize?"+params.Encode(), nil))
}

// authParams is a valid authorization request for clientID.
func authParams(clientID string) url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {testRedirect},
		"code_challenge":        {s256(testVerifier)},
		"code_challenge_method": {"S256"},
		"state":                 {"xyz"},
		"resource":              {testResource},
	}
}

// code runs /authorize and returns the code, failing on anything else.
func (f *fixture) code(params url.Values) string {
	f.t.Helper()
	w := f.authorize(params)
	loc := location(f.t, w)
	code := loc.Query().Get("code")
	if code == "" {
		f.t.Fatalf("no code in redirect %s", loc)
	}
	return code
}

// token posts a form to /token; basic, when non-nil, is {id, secret}.
func (f *fixture) token(form url.Values, basic ...string) (*httptest.ResponseRecorder, map[string]any) {
	r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		r.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	w := f.do(r)
	return w, decode(f.t, w)
}

// exchange trades a code for tokens with the test verifier.
func (f *fixture) exchange(clientID, code string) (*httptest.ResponseRecorder, map[string]any) {
	return f.token(url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {testRedirect},
		"code_verifier": {testVerifier},
		"client_id":     {clientID},
		"resource":      {testResource},
	})
}

// verify parses and validates a JWT against the server's JWKS.
func (f *fixture) verify(raw, aud string) jwt.Token {
	f.t.Helper()
	opts := []jwt.ParseOption{jwt.WithKeySet(f.s.JWKS()), jwt.WithValidate(true), jwt.WithIssuer(testIssuer), jwt.WithClock(jwt.ClockFunc(f.clock.Now))}
	if aud != "" {
		opts = append(opts, jwt.WithAudience(aud))
	}
	tok, err := jwt.Parse([]byte(raw), opts...)
	if err != nil {
		f.t.Fatalf("token does not verify: %v", err)
	}
	return tok
}

func decode(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	m := map[string]any{}
	if w.Body.Len() > 0 && strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("bad JSON %q: %v", w.Body, err)
		}
	}
	return m
}

func location(t *testing.T, w *httptest.ResponseRecorder) *url.URL {
	t.Helper()
	if w.Code != http.StatusFound {
		t.Fatalf("want 302, got %d %s", w.Code, w.Body)
	}
	u, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// jwtHeader decodes the protected header of a compact JWS.
func jwtHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustOtherKeySet(t *testing.T) jwk.Set {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.PublicKeyOf(priv)
	if err != nil {
		t.Fatal(err)
	}
	_ = pub.Set(jwk.AlgorithmKey, "RS256")
	set := jwk.NewSet()
	_ = set.AddKey(pub)
	return set
}

func parseWith(set jwk.Set, raw string) (jwt.Token, error) {
	return jwt.Parse([]byte(raw), jwt.WithKeySet(set, jws.WithInferAlgorithmFromKey(true)), jwt.WithValidate(false))
}
