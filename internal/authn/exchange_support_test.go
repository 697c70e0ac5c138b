package authn_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
)

// TestPrincipalAccessToken: a verified principal carries the token it was
// verified from (a token exchange's subject token), also when it comes from
// the cache, and never prints it.
func TestPrincipalAccessToken(t *testing.T) {
	iss := authntest.NewIssuer(t)
	v := newVerifier(t, issuerKeys(t, iss), iss, nil)
	raw := iss.Mint(iss.Claims(testAudience))
	for _, pass := range []string{"verified", "cached"} {
		p, err := v.Verify(ctxT(t), raw)
		if err != nil {
			t.Fatal(err)
		}
		if p.AccessToken() != raw {
			t.Errorf("%s: AccessToken() is not the verified token", pass)
		}
		for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%+v", p), fmt.Sprintf("%v", *p)} {
			if strings.Contains(s, raw) || strings.Contains(s, raw[strings.LastIndexByte(raw, '.')+1:]) {
				t.Errorf("%s: formatting the principal shows the token: %s", pass, s)
			}
		}
	}
	if got := (&authn.Principal{Subject: "x"}).AccessToken(); got != "" {
		t.Errorf("a principal not made by Verify has token %q", got)
	}
}

// TestDiscoverTokenEndpoint: the token endpoint comes from the issuer's
// metadata under the key set's rules (issuer equality, https or loopback).
func TestDiscoverTokenEndpoint(t *testing.T) {
	iss := authntest.NewIssuer(t)
	doc := func(issuer, tokenEndpoint string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "token_endpoint": tokenEndpoint})
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	for _, c := range []struct {
		name, issuer, discovery, want, wantErr string
	}{
		{name: "oidc discovery", issuer: iss.URL, want: iss.URL + "/token"},
		{name: "discovery_url", issuer: "https://idp.example", discovery: doc("https://idp.example", "https://idp.example/oauth2/token").URL, want: "https://idp.example/oauth2/token"},
		{name: "other issuer", issuer: "https://idp.example", discovery: doc("https://evil.example", "https://idp.example/token").URL, wantErr: "does not equal configured issuer"},
		{name: "no endpoint", issuer: "https://idp.example", discovery: doc("https://idp.example", "").URL, wantErr: "token_endpoint missing"},
		{name: "http endpoint off loopback", issuer: "https://idp.example", discovery: doc("https://idp.example", "http://idp.example/token").URL, wantErr: "must use https"},
		{name: "relative endpoint", issuer: "https://idp.example", discovery: doc("https://idp.example", "/token").URL, wantErr: "is not absolute"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := authn.DiscoverTokenEndpoint(ctxT(t), http.DefaultClient, c.issuer, c.discovery, 1<<16)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}
