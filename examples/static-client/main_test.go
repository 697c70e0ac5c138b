package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
	"golang.org/x/oauth2"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

func TestParseFlags(t *testing.T) {
	base := []string{"--issuer", "https://idp.example", "--client-id", "app", "--url", "https://gw.example/mcp"}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name         string
		argv         []string
		env          map[string]string
		wantErr      string
		wantResource string
		wantSecret   string
	}{
		{name: "defaults", argv: base, wantResource: "https://gw.example/mcp"},
		{name: "all required missing", argv: nil, wantErr: "--client-id, --issuer, --url required"},
		{name: "secret from env", argv: base, env: map[string]string{secretEnv: "from-env"}, wantResource: "https://gw.example/mcp", wantSecret: "from-env"},
		{name: "flag secret wins", argv: append(base, "--client-secret", "flag"), env: map[string]string{secretEnv: "from-env"},
			wantResource: "https://gw.example/mcp", wantSecret: "flag"},
		{name: "no resource", argv: append(base, "--resource="), wantResource: ""},
		{name: "other resource", argv: append(base, "--resource", "api://gw"), wantResource: "api://gw"},
		{name: "bad args", argv: append(base, "--args", "1"), wantErr: "want a JSON object"},
		{name: "bad redirect host", argv: append(base, "--redirect-host", "example.com"), wantErr: "want 127.0.0.1 or localhost"},
		{name: "bad scope", argv: append(base, "--scopes", `x\y`), wantErr: "not a valid scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(tc.argv, env(tc.env), io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.resource != tc.wantResource || o.clientSecret != tc.wantSecret {
				t.Errorf("resource, secret = %q, %q; want %q, %q", o.resource, o.clientSecret, tc.wantResource, tc.wantSecret)
			}
		})
	}
}

func TestCheckIss(t *testing.T) {
	const issuer = "https://idp.example"
	tests := []struct {
		name     string
		got      string
		promised bool
		wantErr  string
	}{
		{name: "matches", got: issuer, promised: true},
		{name: "absent, not promised", got: "", promised: false},
		{name: "absent, promised", got: "", promised: true, wantErr: "lacks iss"},
		{name: "mix-up", got: "https://evil.example", promised: false, wantErr: "mix-up"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkIss(tc.got, issuer, tc.promised)
			if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("checkIss = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestAuthStyle(t *testing.T) {
	tests := []struct {
		methods []string
		want    oauth2.AuthStyle
	}{
		{[]string{"client_secret_post", "client_secret_basic"}, oauth2.AuthStyleInHeader},
		{[]string{"client_secret_post", "private_key_jwt"}, oauth2.AuthStyleInParams},
		{nil, oauth2.AuthStyleAutoDetect},
	}
	for _, tc := range tests {
		if got := authStyle(tc.methods); got != tc.want {
			t.Errorf("authStyle(%q) = %v, want %v", tc.methods, got, tc.want)
		}
	}
}

// TestVerifyIDToken signs ID tokens with go-oidc's test server and checks
// that the nonce, audience and at_hash are enforced.
func TestVerifyIDToken(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := &oidctest.Server{PublicKeys: []oidctest.PublicKey{{PublicKey: priv.Public(), KeyID: "k1", Algorithm: oidc.RS256}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	s.SetIssuer(srv.URL)
	ctx := oidc.ClientContext(context.Background(), srv.Client())
	provider, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("the-access-token"))
	atHash := base64.RawURLEncoding.EncodeToString(sum[:16])
	sign := func(aud, nonce, atHashClaim string) string {
		claims := `{"iss":"` + srv.URL + `","aud":"` + aud + `","sub":"alice","email":"alice@example.com","nonce":"` + nonce +
			`","exp":` + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
		if atHashClaim != "" {
			claims += `,"at_hash":"` + atHashClaim + `"`
		}
		return oidctest.SignIDToken(priv, "k1", oidc.RS256, claims+"}")
	}
	tests := []struct {
		name    string
		idToken string
		wantErr string
	}{
		{name: "valid", idToken: sign("app", "N1", atHash)},
		{name: "valid without at_hash", idToken: sign("app", "N1", "")},
		{name: "nonce mismatch", idToken: sign("app", "OTHER", ""), wantErr: "nonce does not match"},
		{name: "other audience", idToken: sign("other-app", "N1", ""), wantErr: "audience"},
		{name: "at_hash mismatch", idToken: sign("app", "N1", "AAAAAAAAAAAAAAAAAAAAAA"), wantErr: "access token hash"},
		{name: "no id_token", idToken: "", wantErr: "include openid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := (&oauth2.Token{AccessToken: "the-access-token"}).WithExtra(map[string]any{"id_token": tc.idToken})
			id, err := verifyIDToken(ctx, provider, "app", "N1", tok)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || id.Subject != "alice" || id.Email != "alice@example.com" {
				t.Fatalf("identity = %+v, %v", id, err)
			}
		})
	}
}

// TestCallback checks the loopback receiver: another state is refused and
// ignored, the right one delivers the code and iss.
func TestCallback(t *testing.T) {
	cb, err := listenCallback("127.0.0.1", 0, "S1")
	if err != nil {
		t.Fatal(err)
	}
	defer cb.srv.Close()
	get := func(q url.Values) int {
		resp, err := http.Get(cb.redirectURI + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(url.Values{"code": {"forged"}, "state": {"S0"}}); code != http.StatusBadRequest {
		t.Errorf("wrong state: %d, want 400", code)
	}
	if code := get(url.Values{"code": {"C1"}, "state": {"S1"}, "iss": {"https://idp.example"}}); code != http.StatusOK {
		t.Errorf("good redirect: %d, want 200", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	res, err := cb.wait(ctx)
	if err != nil || res.code != "C1" || res.iss != "https://idp.example" {
		t.Fatalf("wait = %+v, %v", res, err)
	}
}

// TestStepLogShowsOAuthErrorsNotSecrets checks the logging transport.
func TestStepLogShowsOAuthErrorsNotSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client","error_description":"client authentication failed"}`)
	}))
	defer srv.Close()
	var log bytes.Buffer
	hc := &http.Client{Transport: &loggingTransport{log: &stepLog{w: &log}, base: http.DefaultTransport}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/token?code=CODE-SECRET", strings.NewReader("client_secret=SECRET"))
	req.SetBasicAuth("app", "BASIC-SECRET")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "invalid_client") {
		t.Errorf("body did not reach the caller: %q", body)
	}
	out := log.String()
	for _, s := range []string{"CODE-SECRET", "SECRET\n", "BASIC-SECRET", "client_secret="} {
		if strings.Contains(out, s) {
			t.Errorf("log shows %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "401 Unauthorized") || !strings.Contains(out, "OAuth error: invalid_client client authentication failed") {
		t.Errorf("log lacks the status or the OAuth error:\n%s", out)
	}
}
