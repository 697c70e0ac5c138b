package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/devidp"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// tokenFixture is the dev authorization server as the IdP and this example
// in exchanged-token mode as the upstream, both on httptest servers.
type tokenFixture struct {
	idp    *devidp.Server
	clock  *testkit.Clock // the IdP's: sets iat and exp of minted tokens
	issuer string
	aud    string          // the upstream's MCP URL, also its audience
	client *http.Client    // to the upstream; closed with it
	idpCtx context.Context // carries a client to the IdP; closed with it
}

func newTokenFixture(t *testing.T) *tokenFixture {
	t.Helper()
	f := &tokenFixture{clock: testkit.NewClock(time.Now().Truncate(time.Second))}
	idpMux := http.NewServeMux() // safe to register on after the server started
	idpSrv := httptest.NewServer(idpMux)
	t.Cleanup(idpSrv.Close)
	f.issuer = idpSrv.URL
	idp, err := devidp.New(devidp.Options{Issuer: f.issuer, Scopes: []string{"mcp:tools"}, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.idp = idp
	idpMux.Handle("/", idp.Handler())

	upMux := http.NewServeMux()
	up := httptest.NewServer(upMux)
	t.Cleanup(up.Close)
	f.aud, f.client = up.URL+"/mcp", up.Client()
	f.idpCtx = oidc.ClientContext(context.Background(), idpSrv.Client())
	tv, err := newTokenVerifier(f.idpCtx, f.issuer, f.aud)
	if err != nil {
		t.Fatal(err)
	}
	h, err := newTokenHandler(tv, f.aud)
	if err != nil {
		t.Fatal(err)
	}
	upMux.Handle("/", h)
	return f
}

// mint is the token the IdP would return from the gateway's exchange.
func (f *tokenFixture) mint(t *testing.T, subject, resource string, ttl time.Duration) string {
	t.Helper()
	tok, err := f.idp.MintAccessToken(subject, "gateway", resource, []string{"mcp:tools"}, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// bearerTransport plays the gateway on an exchange route: it sends the
// exchanged token as the bearer token.
type bearerTransport struct {
	token string
	base  http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

func TestExchangedTokenWhoami(t *testing.T) {
	testkit.CheckGoroutines(t)
	f := newTokenFixture(t)
	alice := f.mint(t, "alice", f.aud, time.Hour)

	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "0"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: f.aud, HTTPClient: &http.Client{Transport: bearerTransport{alice, f.client.Transport}}, DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	whoami := func() Whoami {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
		if err != nil {
			t.Fatal(err)
		}
		var got Whoami
		raw, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(raw, &got); err != nil || res.IsError {
			t.Fatalf("result %s: %v", raw, err)
		}
		return got
	}
	want := Whoami{
		Subject: "alice", ClientID: "gateway", Issuer: f.issuer, Audience: f.aud, Scopes: []string{"mcp:tools"},
		Expires: f.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339),
	}
	if got := whoami(); !reflect.DeepEqual(got, want) {
		t.Errorf("whoami = %+v, want %+v", got, want)
	}

	// The session is bound to alice: bob's valid token cannot end it.
	if cs.ID() == "" {
		t.Fatal("no session id")
	}
	req, _ := http.NewRequest(http.MethodDelete, f.aud, nil)
	req.Header.Set("Authorization", "Bearer "+f.mint(t, "bob", f.aud, time.Hour))
	req.Header.Set("Mcp-Session-Id", cs.ID())
	if resp, body := do(t, f.client, req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bob on alice's session: %d %s", resp.StatusCode, body)
	}
	if got := whoami(); got.Subject != "alice" {
		t.Errorf("after bob's attempt: %+v", got)
	}
}

// TestExchangedTokenRefused: what a resource server must refuse gets 401
// with a Bearer challenge pointing at this resource's RFC 9728 metadata,
// for the reason the case names.
func TestExchangedTokenRefused(t *testing.T) {
	testkit.CheckGoroutines(t)
	f := newTokenFixture(t)
	now := f.clock.Now()
	f.clock.Set(now.Add(-2 * time.Hour))
	expired := f.mint(t, "alice", f.aud, time.Hour)
	f.clock.Set(now)
	valid := f.mint(t, "alice", f.aud, time.Hour)
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"sub":"alice"`, `"sub":"mallory"`, 1)))
	tampered := strings.Join(parts, ".")
	if tampered == valid {
		t.Fatal("payload not changed")
	}

	metaURL := strings.Replace(f.aud, "/mcp", "/.well-known/oauth-protected-resource/mcp", 1)
	for _, c := range []struct {
		name, authorization, reason string
	}{
		{"no token", "", "no bearer token"},
		{"not bearer", "Basic YWxpY2U6eA==", "no bearer token"},
		{"other audience", "Bearer " + f.mint(t, "alice", "http://127.0.0.1:1/other", time.Hour), "audience"},
		{"no audience", "Bearer " + f.mint(t, "alice", "", time.Hour), "audience"},
		{"expired", "Bearer " + expired, "expired"},
		{"bad signature", "Bearer " + tampered, "signature"},
		{"not a JWT", "Bearer opaque-token", "malformed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, f.aud, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if c.authorization != "" {
				req.Header.Set("Authorization", c.authorization)
			}
			resp, body := do(t, f.client, req)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, c.reason) {
				t.Errorf("status %d body %q, want 401 mentioning %q", resp.StatusCode, body, c.reason)
			}
			if got, want := resp.Header.Get("WWW-Authenticate"), `Bearer resource_metadata="`+metaURL+`"`; got != want {
				t.Errorf("WWW-Authenticate %q, want %q", got, want)
			}
		})
	}

	// The challenge's metadata names the IdP.
	req, _ := http.NewRequest(http.MethodGet, metaURL, nil)
	resp, body := do(t, f.client, req)
	var meta struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	if err := json.Unmarshal([]byte(body), &meta); err != nil || resp.StatusCode != 200 ||
		meta.Resource != f.aud || !slices.Equal(meta.AuthorizationServers, []string{f.issuer}) {
		t.Errorf("metadata %d %s: %v", resp.StatusCode, body, err)
	}
}

func TestNewTokenVerifierRefusesConfig(t *testing.T) {
	testkit.CheckGoroutines(t)
	f := newTokenFixture(t)
	ctx := f.idpCtx
	if _, err := newTokenVerifier(ctx, f.issuer+"/", f.aud); err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("issuer spelled unlike its metadata: %v", err)
	}
	if _, err := newTokenVerifier(ctx, f.issuer, ""); err == nil {
		t.Error("empty audience accepted")
	}
	tv, err := newTokenVerifier(ctx, f.issuer, f.aud)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"", "mcp", "ftp://h/mcp", "http://h/mcp?x=1"} {
		if _, err := newTokenHandler(tv, r); err == nil {
			t.Errorf("resource %q accepted", r)
		}
	}
}

// TestTokenClaims: how the IdPs' claim spellings map to client, scopes and
// actor. The dev IdP mints only client_id and scope, so the others are
// decoded here as go-oidc hands them over.
func TestTokenClaims(t *testing.T) {
	for _, c := range []struct {
		name, claims, client, actor string
		scopes                      []string
		bad                         bool
	}{
		{name: "RFC 9068", claims: `{"client_id":"c","azp":"z","scope":"a b"}`, client: "c", scopes: []string{"a", "b"}},
		{name: "RFC 8693 act", claims: `{"client_id":"c","act":{"sub":"gateway","act":{"sub":"older"}}}`, client: "c", actor: "gateway"},
		{name: "Entra v2", claims: `{"azp":"app-guid","scp":"Tickets.Read Tickets.Write"}`, client: "app-guid", scopes: []string{"Tickets.Read", "Tickets.Write"}},
		{name: "Okta", claims: `{"cid":"0oa1","scp":["openid","tickets:read"]}`, client: "0oa1", scopes: []string{"openid", "tickets:read"}},
		{name: "scope wins over scp", claims: `{"scope":"a","scp":["b"]}`, scopes: []string{"a"}},
		{name: "none", claims: `{}`},
		{name: "scp of numbers", claims: `{"scp":[1]}`, bad: true},
		{name: "act not an object", claims: `{"act":"gateway"}`, bad: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var tc tokenClaims
			err := json.Unmarshal([]byte(c.claims), &tc)
			if c.bad {
				if err == nil {
					t.Error("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.client() != c.client || tc.actor() != c.actor || !slices.Equal(tc.scopes(), c.scopes) {
				t.Errorf("client %q actor %q scopes %q", tc.client(), tc.actor(), tc.scopes())
			}
		})
	}
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}
