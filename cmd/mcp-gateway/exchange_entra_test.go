package main

import (
	"crypto/x509"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// The on-behalf-of tests against the fake Entra ID tenant
// (testenv.FakeEntra, which follows Microsoft's documented OBO request,
// response, certificate credential and error format).

const (
	// oboGatewayID is the gateway's app registration: the audience of the
	// users' tokens and the OBO client.
	oboGatewayID = "6f0b9a52-3f4e-4d3c-9a51-0c1d2e3f4a11"
	// oboTicketsID is the downstream API's app registration
	// (api://tickets), the upstream's audience.
	oboTicketsID = "b3e1c2d4-5a6b-4c7d-8e9f-0a1b2c3d4e12"
	oboScope     = "api://tickets/.default"
	aliceOID     = "1a2b3c4d-0000-4000-8000-00000000a001"
	bobOID       = "1a2b3c4d-0000-4000-8000-00000000b002"
	carolOID     = "1a2b3c4d-0000-4000-8000-00000000c003"
)

// oboRoute is an entra-obo route at path in front of upstream asking for
// api://tickets/.default, with te's credential settings.
func oboRoute(path, upstream string, te config.TokenExchange) config.Route {
	te.TokenExchangeClientID, te.UpstreamScopes = oboGatewayID, []string{oboScope}
	return config.Route{Path: path, Upstream: upstream, Identity: config.IdentityEntraOBO, TokenExchange: te}
}

// TestExchangeEntraOBO: routes with identity entra-obo in front of
// recording upstreams, the gateway (provider entra, its app id as
// audience) authenticating to the fake tenant with a client secret
// (client_secret_post, the default) or a certificate (private_key_jwt with
// x5t#S256). The tenant receives exactly Microsoft's OBO parameters, once
// for a user's several calls; the upstream receives, instead of the
// client's token, a token of the tenant for the downstream API, the user's
// oid and the gateway as azp. A user the tenant refuses (consent_required)
// gets 502 with a JSON-RPC error, nothing reaches the upstream and the
// audit line says token_exchange with the suberror; another user of the
// same route is served.
func TestExchangeEntraOBO(t *testing.T) {
	secret := "gw+secret/with=odd&chars"
	cred := testenv.NewEntraCredential(t)
	f := testenv.StartFakeEntra(t, testenv.FakeEntraOptions{Apps: []testenv.EntraApp{
		{ClientID: oboGatewayID, Name: "mcp-gateway", IdentifierURIs: []string{"api://mcp-gateway"}, Scopes: []string{"access_as_user"},
			ClientSecret: secret, Certificates: []*x509.Certificate{cred.Certificate}},
		{ClientID: oboTicketsID, Name: "tickets", IdentifierURIs: []string{"api://tickets"}, Scopes: []string{"Tickets.Read", "Tickets.Write"}},
	}})
	ups := map[string]*testenv.RecordingUpstream{}
	for _, p := range []string{"/mcp/secret", "/mcp/cert", "/mcp/consent"} {
		ups[p] = testenv.StartRecordingUpstream(t)
	}
	gw := startExchangeGateway(t, map[string]string{"GW_SECRET": secret, "GW_CERT": string(cred.PEM)}, func(string) *config.Config {
		return &config.Config{Issuer: f.Issuer(), Provider: "entra", Audiences: []string{oboGatewayID},
			RequiredScopes: []string{"access_as_user"},
			Routes: []config.Route{
				oboRoute("/mcp/secret", ups["/mcp/secret"].URL, config.TokenExchange{TokenExchangeClientSecretEnv: "GW_SECRET"}),
				oboRoute("/mcp/cert", ups["/mcp/cert"].URL, config.TokenExchange{TokenExchangePrivateKeyEnv: "GW_CERT"}),
				oboRoute("/mcp/consent", ups["/mcp/consent"].URL, config.TokenExchange{TokenExchangeClientSecretEnv: "GW_SECRET"}),
			}}
	})
	userToken := func(oid string) string {
		return f.MintUserToken(t, testenv.EntraUserTokenOptions{OID: oid, Audience: oboGatewayID, PreferredUsername: oid + "@example.com"})
	}
	// checkUpstream checks every request since mark at up: one token of
	// the tenant for the downstream API, user oid and the gateway, whose
	// client authentication azpacr tells.
	checkUpstream := func(t *testing.T, up *testenv.RecordingUpstream, mark int, clientToken, oid, azpacr string) {
		t.Helper()
		reqs := up.Requests()[mark:]
		if countEcho(reqs) == 0 {
			t.Fatal("no echo call reached the upstream")
		}
		distinct := map[string]bool{}
		for _, r := range reqs {
			tok := checkUpstreamCredential(t, r, clientToken)
			distinct[tok] = true
			claims, err := f.VerifyToken(tok)
			if err != nil {
				t.Fatalf("the upstream's token is not the tenant's: %v", err)
			}
			for k, want := range map[string]any{"aud": oboTicketsID, "oid": oid, "azp": oboGatewayID, "azpacr": azpacr,
				"sub": f.PairwiseSub(oid, oboTicketsID), "scp": "Tickets.Read Tickets.Write"} {
				if claims[k] != want {
					t.Errorf("the upstream's token has %s %v, want %v", k, claims[k], want)
				}
			}
		}
		if len(distinct) != 1 {
			t.Errorf("%d upstream requests carried %d tokens; want one, cached", len(reqs), len(distinct))
		}
	}

	for _, c := range []struct {
		name, path, auth, azpacr string
		credential               []string // form keys of the client's credential
	}{
		{"secret", "/mcp/secret", "client_secret_post", "1", []string{"client_secret"}},
		{"certificate", "/mcp/cert", "private_key_jwt", "2", []string{"client_assertion", "client_assertion_type"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok := userToken(aliceOID)
			mark := len(f.TokenRequests())
			cs := mustConnectMCP(t, gw.resource(c.path), tok)
			callEcho(t, cs, "first")
			callEcho(t, cs, "second")
			checkUpstream(t, ups[c.path], 0, tok, aliceOID, c.azpacr)

			reqs := f.TokenRequests()[mark:]
			if len(reqs) != 1 {
				t.Fatalf("the tenant received %d token requests for alice's calls, want one", len(reqs))
			}
			r := reqs[0]
			wantKeys := append([]string{"assertion", "client_id", "grant_type", "requested_token_use", "scope"}, c.credential...)
			slices.Sort(wantKeys)
			var keys []string
			for k, vs := range r.Form {
				keys = append(keys, k)
				if len(vs) != 1 {
					t.Errorf("parameter %s sent %d times", k, len(vs))
				}
			}
			slices.Sort(keys)
			if !slices.Equal(keys, wantKeys) {
				t.Errorf("OBO request parameters %v, want %v", keys, wantKeys)
			}
			for k, want := range map[string]string{"grant_type": testenv.EntraGrantTypeJWTBearer,
				"requested_token_use": testenv.EntraRequestedTokenUseOBO, "assertion": tok, "scope": oboScope, "client_id": oboGatewayID} {
				if got := r.Form.Get(k); got != want {
					t.Errorf("OBO request %s = %q, want %q", k, got, want)
				}
			}
			if c.auth == "private_key_jwt" && r.Form.Get("client_assertion_type") != testenv.EntraClientAssertionType {
				t.Errorf("client_assertion_type = %q", r.Form.Get("client_assertion_type"))
			}
			if r.ClientAuth != c.auth || r.Status != http.StatusOK {
				t.Errorf("tenant saw client authentication %q and answered %d; want %s, 200", r.ClientAuth, r.Status, c.auth)
			}
		})
	}

	t.Run("refused user", func(t *testing.T) {
		f.RefuseUser(bobOID, testenv.EntraConsentRequired())
		up, url := ups["/mcp/consent"], gw.resource("/mcp/consent")
		bob := userToken(bobOID)
		status, body := rawInitialize(t, url, bob)
		checkBadGateway(t, status, body)
		if _, err := connectMCP(t, url, bob); err == nil || !strings.Contains(err.Error(), http.StatusText(http.StatusBadGateway)) {
			t.Fatalf("a go-sdk client connecting through a refused on-behalf-of exchange: %v; want the 502", err)
		}
		if n := up.Len(); n != 0 {
			t.Fatalf("the upstream received %d requests through a refused exchange; want none", n)
		}
		line := waitAudit(t, gw.audit, "/mcp/consent", "token_exchange")
		detail, _ := line["detail"].(string)
		if line["decision"] != "error" || line["status"] != float64(http.StatusBadGateway) ||
			line["subject"] != f.PairwiseSub(bobOID, oboGatewayID) || !strings.Contains(detail, "consent_required") {
			t.Errorf("audit line %v: want decision error, status 502, bob's subject and consent_required in detail", line)
		}
		if strings.Contains(detail, bob) || strings.Contains(detail, secret) {
			t.Errorf("audit detail carries a credential: %s", detail)
		}
		refused := 0
		for _, r := range f.TokenRequests() {
			if r.Form.Get("assertion") == bob {
				if r.Error != "invalid_grant" || r.Code != 65001 {
					t.Errorf("tenant answered bob's request %s AADSTS%d, want invalid_grant AADSTS65001", r.Error, r.Code)
				}
				refused++
			}
		}
		if refused == 0 {
			t.Error("the tenant received no OBO request for bob")
		}

		carol := userToken(carolOID)
		callEcho(t, mustConnectMCP(t, url, carol), "carol")
		checkUpstream(t, up, 0, carol, carolOID, "1")
	})
}
