package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
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
		wantResource string
		wantSecret   string
	}{
		{name: "defaults", argv: base, wantResource: "https://gw.example/mcp"},
		{name: "secret from env", argv: base, env: map[string]string{secretEnv: "from-env"}, wantResource: "https://gw.example/mcp", wantSecret: "from-env"},
		{name: "flag secret wins", argv: append(base, "--client-secret", "flag"), env: map[string]string{secretEnv: "from-env"},
			wantResource: "https://gw.example/mcp", wantSecret: "flag"},
		{name: "no resource", argv: append(base, "--resource="), wantResource: ""},
		{name: "other resource", argv: append(base, "--resource", "api://gw"), wantResource: "api://gw"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(tc.argv, env(tc.env), io.Discard)
			if err != nil || o.resource != tc.wantResource || o.clientSecret != tc.wantSecret {
				t.Errorf("resource, secret, err = %q, %q, %v; want %q, %q", o.resource, o.clientSecret, err, tc.wantResource, tc.wantSecret)
			}
		})
	}
	// Refusals: static-client's own, and the shared flags' (tested in
	// examples/internal/oauthcli) to show they are checked.
	for args, wantErr := range map[string]string{
		"":                            "--client-id, --issuer, --url required",
		"--args 1":                    "want a JSON object",
		"--redirect-host example.com": "want 127.0.0.1 or localhost",
		`--scopes x\y`:                "not a valid scope",
	} {
		argv := strings.Fields(args)
		if args != "" {
			argv = append(slices.Clone(base), argv...)
		}
		if _, err := parseFlags(argv, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("parseFlags(%q) = %v, want %q", argv, err, wantErr)
		}
	}
}

// TestRealMainExitCodes checks the exit statuses the README documents: 0
// for --help, 2 for bad flags, 1 for a failed step (with the reason).
func TestRealMainExitCodes(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens: discovery fails
	tests := []struct {
		name       string
		argv       []string
		want       int
		wantStderr string
	}{
		{name: "help", argv: []string{"-h"}, want: 0, wantStderr: "-client-id"},
		{name: "missing flags", argv: nil, want: 2, wantStderr: "static-client: --client-id, --issuer, --url required\n"},
		{name: "unreachable issuer", want: 1, wantStderr: "static-client: FAILED: OpenID discovery of " + srv.URL,
			argv: []string{"--issuer", srv.URL, "--client-id", "app", "--url", srv.URL + "/mcp", "--no-browser", "--timeout", "10s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr testkit.SafeBuffer
			if code := realMain(tc.argv, func(string) string { return "" }, io.Discard, &stderr); code != tc.want || !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("exit %d, want %d with %q on stderr:\n%s", code, tc.want, tc.wantStderr, stderr.String())
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
