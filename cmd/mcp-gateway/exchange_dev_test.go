package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/devupstream"
)

// devWhoami calls whoami through url with token (a go-sdk client) and
// returns its structured result.
func devWhoami(t *testing.T, url, token string) devupstream.Whoami {
	t.Helper()
	cs := mustConnectMCP(t, url, token)
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil || res.IsError {
		t.Fatalf("whoami through %s: %v %+v", url, err, res)
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var w devupstream.Whoami
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatalf("whoami structured result %s: %v", b, err)
	}
	return w
}

// TestExchangeDevDemo runs `mcp-gateway dev` in process and calls the
// demo route (identity exchange in front of the demo upstream, which
// accepts only tokens the dev authorization server exchanged for it):
// with the banner's EXCHANGE_TOKEN, the upstream's whoami shows a token
// for dev-user, its own audience, the dev client as actor and the demo
// scope; a token a user got by the code flow with login_hint carol is
// exchanged for carol.
func TestExchangeDevDemo(t *testing.T) {
	banner := runDevBanner(t)
	find := func(re string) []string {
		m := regexp.MustCompile(re).FindStringSubmatch(banner)
		if m == nil {
			t.Fatalf("banner lacks %s:\n%s", re, banner)
		}
		return m
	}
	token := find(`EXCHANGE_TOKEN=(\S+)`)[1]
	demo := find(`(http://\S+) -> demo upstream (http://\S+)`)
	routeURL, upstreamURL := demo[1], demo[2]
	client := find(`Dev client\s+id (\S+)\s+secret (\S+)`)
	issuer := find(`Authorization server\s+(\S+)`)[1]

	want := devupstream.Whoami{Subject: "dev-user", Issuer: issuer, Audience: []string{upstreamURL}, ClientID: "mcp-gateway-dev",
		Act: "mcp-gateway-dev", Scopes: []string{exchangeDemoScope}}
	check := func(got devupstream.Whoami, subject string) {
		t.Helper()
		want.Subject, want.Expires = subject, got.Expires
		if got.Subject != want.Subject || got.Issuer != want.Issuer || !slices.Equal(got.Audience, want.Audience) ||
			got.ClientID != want.ClientID || got.Act != want.Act || !slices.Equal(got.Scopes, want.Scopes) || got.Expires == "" {
			t.Errorf("whoami = %+v\nwant %+v", got, want)
		}
	}
	check(devWhoami(t, routeURL, token), "dev-user")

	// carol signs in with the code flow (the dev client, PKCE, the demo
	// route as resource) and calls the demo route with her token.
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://127.0.0.1/callback"
	q := url.Values{"response_type": {"code"}, "client_id": {client[1]}, "redirect_uri": {redirect}, "state": {"s"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"resource": {routeURL}, "scope": {devScope}, "login_hint": {"carol"}}
	resp, err := noRedirect.Get(issuer + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	tok := postToken(t, issuer, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {verifier}, "client_id": {client[1]}, "client_secret": {client[2]},
		"resource": {routeURL}})
	check(devWhoami(t, routeURL, tok["access_token"]), "carol")
}
