package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
)

// tokenIdP is completeIdP whose key set holds the authntest issuer's RSA
// key, so ai.Mint signs tokens it accepts.
func tokenIdP(t *testing.T) (ai *authntest.Issuer, issuer string) {
	t.Helper()
	ai = authntest.NewIssuer(t)
	priv, kid := ai.RSA()
	return ai, completeIdPWith(t, string(authntest.JWKS(t, authntest.JWK(t, &priv.PublicKey, kid, "RS256"))))
}

// writeConfig writes a gateway YAML file and runs from an empty directory
// (no stray .env).
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	t.Chdir(t.TempDir())
	file := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func goodClaims(issuer, aud string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": issuer, "sub": "user-1", "aud": aud, "client_id": "app1", "scope": "mcp:tools",
		"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// TestDoctorTokenFlag drives `mcp-gateway doctor --token` as a user runs it:
// the token on the command line or on standard input (with a pasted
// "Bearer " prefix), exit status 1 exactly when the token would be refused,
// and never the token or its signature in the output.
func TestDoctorTokenFlag(t *testing.T) {
	ai, issuer := tokenIdP(t)
	file := writeConfig(t, "issuer: "+issuer+"\npublic_url: https://gw.example.com\nrequired_scopes: [mcp:tools]\nallowed_client_ids: [app1]\n")
	good := ai.Mint(goodClaims(issuer, "https://gw.example.com/mcp"))
	wrongAud := goodClaims(issuer, "https://api.example.com")
	tests := []struct {
		name, flag, stdin string
		token             string
		wantErr           bool
		want              string
	}{
		{"good token", good, "", good, false, "OK verify the gateway accepts it on https://gw.example.com/mcp"},
		{"stdin", "-", "Bearer " + good + "\n", good, false, "OK verify the gateway accepts it"},
		{"wrong audience", ai.Mint(wrongAud), "", "", true, `FAIL token/aud aud "https://api.example.com" does not name this route`},
		{"expired", "-", ai.Mint(map[string]any{"iss": issuer, "sub": "u", "aud": "https://gw.example.com/mcp", "client_id": "app1", "scope": "mcp:tools",
			"exp": time.Now().Add(-time.Hour).Unix()}), "", true, "FAIL token/exp the token expired at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			cmd := rootCmd()
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetIn(strings.NewReader(tt.stdin))
			cmd.SetArgs([]string{"doctor", "--config", file, "--token", tt.flag})
			err := cmd.Execute()
			if tt.wantErr != errors.Is(err, errDoctorFailed) || (!tt.wantErr && err != nil) {
				t.Errorf("doctor = %v, want failure %v; report:\n%s", err, tt.wantErr, out.String())
			}
			text := strings.Join(strings.Fields(out.String()), " ")
			if !strings.Contains(text, tt.want) {
				t.Errorf("report lacks %q:\n%s", tt.want, out.String())
			}
			for _, tok := range []string{tt.flag, tt.stdin} {
				tok = strings.TrimSpace(strings.TrimPrefix(tok, "Bearer "))
				if len(tok) > 10 && (strings.Contains(out.String(), tok) || strings.Contains(out.String(), tok[strings.LastIndexByte(tok, '.')+1:])) {
					t.Errorf("the report shows the token or its signature")
				}
			}
		})
	}
}

func TestReadToken(t *testing.T) {
	for _, tt := range []struct{ flag, stdin, want, err string }{
		{"", "", "", ""},
		{"abc.def.ghi", "", "abc.def.ghi", ""},
		{" Bearer abc.def.ghi ", "", "abc.def.ghi", ""},
		{"-", "bearer abc.def.ghi\n", "abc.def.ghi", ""},
		{"-", "\n", "", "empty token"},
		{"-", strings.Repeat("a", maxTokenInput+1), "", "more than"},
	} {
		got, err := readToken(tt.flag, strings.NewReader(tt.stdin))
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("readToken(%q, %.20q) = %q, %v; want %q, %q", tt.flag, tt.stdin, got, err, tt.want, tt.err)
		}
	}
}

// verdictRE finds the gateway's answer in a doctor report's verify line.
var verdictRE = regexp.MustCompile(`verify\s+the gateway (accepts it|answers (\d{3}))`)

// TestDoctorVerdictMatchesGateway: doctor's verdict on a token is what the
// gateway, wired by serve's own code (wire), answers to it: 200, 401, 403
// or 503, token by token. This keeps doctor's verifier construction and
// serve's from drifting apart.
func TestDoctorVerdictMatchesGateway(t *testing.T) {
	ai, issuer := tokenIdP(t)
	srv := httptest.NewUnstartedServer(nil)
	public := "http://" + srv.Listener.Addr().String()
	resource := public + "/mcp"
	file := writeConfig(t, "issuer: "+issuer+"\npublic_url: "+public+"\nrequired_scopes: [mcp:tools]\n"+
		"allowed_client_ids: [app1]\nscope_implies:\n  mcp:admin: [mcp:tools]\n")
	cfg, err := config.Load(config.LoadOptions{File: file})
	if err != nil {
		t.Fatal(err)
	}
	a, err := wire(cfg, newLogger("error", "text"), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	srv.Config.Handler = a.server.Handler()
	srv.Start()
	t.Cleanup(srv.Close)

	edit := func(f func(c map[string]any)) string {
		c := goodClaims(issuer, resource)
		f(c)
		return ai.Mint(c)
	}
	tokens := []struct {
		name, token string
		want        int // what the gateway answers, so the comparison is not vacuous
	}{
		{"good", edit(func(map[string]any) {}), http.StatusOK},
		{"broader scope", edit(func(c map[string]any) { c["scope"] = "mcp:admin" }), http.StatusOK},
		{"missing scope", edit(func(c map[string]any) { c["scope"] = "mcp:read" }), http.StatusForbidden},
		{"wrong audience", edit(func(c map[string]any) { c["aud"] = public + "/other" }), http.StatusUnauthorized},
		{"no audience", edit(func(c map[string]any) { delete(c, "aud") }), http.StatusUnauthorized},
		{"wrong issuer", edit(func(c map[string]any) { c["iss"] = issuer + "/" }), http.StatusUnauthorized},
		{"expired", edit(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), http.StatusUnauthorized},
		{"client", edit(func(c map[string]any) { c["client_id"] = "intruder" }), http.StatusUnauthorized},
		{"id token", edit(func(c map[string]any) { c["nonce"] = "n" }), http.StatusUnauthorized},
		{"unknown kid", ai.Mint(goodClaims(issuer, resource), authntest.WithKID("gone")), http.StatusUnauthorized},
		{"foreign key", ai.Mint(goodClaims(issuer, resource), authntest.WithKey(ai.Foreign)), http.StatusUnauthorized},
	}
	for _, tt := range tokens {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.token
			req, _ := http.NewRequest(http.MethodPost, resource, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			gateway := resp.StatusCode
			if gateway != tt.want {
				t.Errorf("gateway answered %d, want %d", gateway, tt.want)
			}

			var out bytes.Buffer
			_ = runDoctor(context.Background(), strings.NewReader(""), &out, doctorOptions{file: file, token: tok})
			m := verdictRE.FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("no verdict in the report:\n%s", out.String())
			}
			doctor := "200"
			if m[2] != "" {
				doctor = m[2]
			}
			if doctor != strconv.Itoa(gateway) {
				t.Errorf("gateway answered %d, doctor says %s:\n%s", gateway, doctor, out.String())
			}
		})
	}
}
