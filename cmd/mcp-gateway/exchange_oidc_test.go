//go:build unix

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// The token exchange tests against oidc-provider (test/node/oidc-provider.mjs,
// the OpenID Certified third-party authorization server with an RFC 8693
// grant): the gateway, wired as serve wires it, exchanges the user's token
// at the provider and the recording upstream behind it receives a token the
// provider minted for the upstream's audience and the user's subject.

const (
	// exchangeTarget is the upstream's identifier at the provider (one of
	// its ExchangeTargets): the routes' upstream_audience or
	// upstream_resource.
	exchangeTarget = "https://tickets.example/api"
	// exchangeForeign is an identifier the provider does not exchange for.
	exchangeForeign = "https://payroll.example/api"
)

// exchangedClaims are the claims the tests read from exchanged tokens.
type exchangedClaims struct {
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	Act      *struct {
		Sub string `json:"sub"`
	} `json:"act"`
}

// exchangedToken is a verified exchanged token.
type exchangedToken struct {
	sub      string
	aud      []string
	act      string // act.sub
	clientID string
	lifetime time.Duration // exp - iat
}

// tokenChecker verifies tokens against the provider's JWKS (go-oidc:
// signature, iss, aud contains the target) and remembers each answer.
type tokenChecker struct {
	verifier *oidc.IDTokenVerifier
	mu       sync.Mutex
	seen     map[string]exchangedToken
}

// newTokenChecker discovers op with go-oidc and verifies tokens for
// audience; skipExpiry leaves out the exp check (for tokens that may have
// expired, by design, before the test looks at them).
func newTokenChecker(t *testing.T, op *testenv.OIDCProvider, audience string, skipExpiry bool) *tokenChecker {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), &http.Client{Timeout: testkit.DefaultTimeout})
	p, err := oidc.NewProvider(ctx, op.Issuer)
	if err != nil {
		t.Fatalf("go-oidc discovery of %s: %v", op.Issuer, err)
	}
	return &tokenChecker{
		verifier: p.VerifierContext(ctx, &oidc.Config{ClientID: audience, SkipExpiryCheck: skipExpiry}),
		seen:     map[string]exchangedToken{},
	}
}

// check verifies token and returns its claims, failing t if it does not
// verify.
func (c *tokenChecker) check(t *testing.T, token string) exchangedToken {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.seen[token]; ok {
		return v
	}
	idt, err := c.verifier.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("the upstream's token does not verify against the provider's JWKS for its audience: %v", err)
	}
	var cl exchangedClaims
	if err := idt.Claims(&cl); err != nil {
		t.Fatal(err)
	}
	v := exchangedToken{sub: idt.Subject, aud: idt.Audience, clientID: cl.ClientID, lifetime: idt.Expiry.Sub(idt.IssuedAt)}
	if cl.Act != nil {
		v.act = cl.Act.Sub
	}
	c.seen[token] = v
	return v
}

// checkFor verifies token and checks that it is for exchangeTarget only,
// the user and the gateway's client (as actor and client_id).
func (c *tokenChecker) checkFor(t *testing.T, token, user, client string) exchangedToken {
	t.Helper()
	v := c.check(t, token)
	if v.sub != user || !slices.Equal(v.aud, []string{exchangeTarget}) || v.act != client || v.clientID != client {
		t.Fatalf("the upstream's token has sub %q, aud %q, act.sub %q, client_id %q; want %s, [%s], %s, %s",
			v.sub, v.aud, v.act, v.clientID, user, exchangeTarget, client, client)
	}
	return v
}

// pemKey is key's PKCS #8 PEM, the form token_exchange_private_key_env's
// variable holds.
func pemKey(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// exchangeRoute is an exchange route at path in front of upstream as the
// provider's client id, with te's other settings.
func exchangeRoute(path, upstream, client string, te config.TokenExchange) config.Route {
	te.TokenExchangeClientID = client
	return config.Route{Path: path, Upstream: upstream, Identity: config.IdentityExchange, TokenExchange: te}
}

// TestExchangeOIDCProvider: routes with identity exchange in front of
// recording upstreams, the gateway authenticating to oidc-provider as four
// confidential clients (client_secret_basic with the token endpoint
// discovered, client_secret_post, private_key_jwt with an EC and with an
// RSA key at an explicit endpoint). The upstream receives, instead of the
// client's token and without identity headers, a token the provider minted
// for the upstream's audience, the user's subject and the gateway as actor;
// two users' calls, interleaved and concurrent, each carry their own
// user's token and one exchanged token per user serves all of their calls
// (the cache); a route whose audience the provider does not exchange for
// answers 502 with a JSON-RPC error, sends nothing upstream and audits
// reason token_exchange with the provider's invalid_target.
func TestExchangeOIDCProvider(t *testing.T) {
	testenv.NodeModules(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	secret := rand.Text()
	env := map[string]string{"GW_SECRET": secret, "GW_EC_KEY": pemKey(t, ecKey), "GW_RSA_KEY": pemKey(t, rsaKey)}
	clients := []testenv.ExchangeClient{
		{ID: "gw-basic", Secret: secret},
		{ID: "gw-post", Secret: secret, AuthMethod: "client_secret_post"},
		{ID: "gw-ec", AuthMethod: "private_key_jwt", PublicKey: ecKey.Public()},
		{ID: "gw-rsa", AuthMethod: "private_key_jwt", PublicKey: rsaKey.Public()},
	}
	paths := []string{"/mcp/basic", "/mcp/post", "/mcp/ec", "/mcp/rsa", "/mcp/users", "/mcp/refused"}
	ups := map[string]*testenv.RecordingUpstream{}
	for _, p := range paths {
		ups[p] = testenv.StartRecordingUpstream(t)
	}
	var op *testenv.OIDCProvider
	gw := startExchangeGateway(t, env, func(public string) *config.Config {
		resources := make([]string, len(paths))
		for i, p := range paths {
			resources[i] = public + p
		}
		meta := make([]map[string]any, len(clients))
		for i, c := range clients {
			meta[i] = c.Metadata()
		}
		op = testenv.StartOIDCProviderWith(t, testenv.OIDCProviderOptions{
			Resources: resources, ExchangeTargets: []string{exchangeTarget}, ExchangeTTL: 10 * time.Minute, Clients: meta,
		})
		tokenURL := op.Endpoint(t).TokenURL
		return &config.Config{Issuer: op.Issuer, Provider: "generic", RequiredScopes: []string{"mcp:tools"},
			Routes: []config.Route{
				exchangeRoute("/mcp/basic", ups["/mcp/basic"].URL, "gw-basic", config.TokenExchange{
					UpstreamAudience: exchangeTarget, TokenExchangeClientSecretEnv: "GW_SECRET"}),
				exchangeRoute("/mcp/post", ups["/mcp/post"].URL, "gw-post", config.TokenExchange{
					UpstreamResource: exchangeTarget, TokenExchangeClientSecretEnv: "GW_SECRET",
					TokenExchangeAuthMethod: "client_secret_post"}),
				exchangeRoute("/mcp/ec", ups["/mcp/ec"].URL, "gw-ec", config.TokenExchange{
					UpstreamAudience: exchangeTarget, TokenExchangePrivateKeyEnv: "GW_EC_KEY", TokenExchangeEndpoint: tokenURL}),
				exchangeRoute("/mcp/rsa", ups["/mcp/rsa"].URL, "gw-rsa", config.TokenExchange{
					UpstreamAudience: exchangeTarget, UpstreamResource: exchangeTarget,
					TokenExchangePrivateKeyEnv: "GW_RSA_KEY", TokenExchangeEndpoint: tokenURL}),
				exchangeRoute("/mcp/users", ups["/mcp/users"].URL, "gw-basic", config.TokenExchange{
					UpstreamAudience: exchangeTarget, TokenExchangeClientSecretEnv: "GW_SECRET"}),
				exchangeRoute("/mcp/refused", ups["/mcp/refused"].URL, "gw-basic", config.TokenExchange{
					UpstreamAudience: exchangeForeign, TokenExchangeClientSecretEnv: "GW_SECRET"}),
			}}
	})
	tokens := newTokenChecker(t, op, exchangeTarget, false)

	t.Run("credentials", func(t *testing.T) {
		for _, c := range []struct{ path, client string }{
			{"/mcp/basic", "gw-basic"}, {"/mcp/post", "gw-post"}, {"/mcp/ec", "gw-ec"}, {"/mcp/rsa", "gw-rsa"},
		} {
			t.Run(strings.TrimPrefix(c.path, "/mcp/"), func(t *testing.T) {
				userToken := op.UserToken(t, "alice", gw.resource(c.path))
				cs := mustConnectMCP(t, gw.resource(c.path), userToken)
				callEcho(t, cs, "first")
				callEcho(t, cs, "second")
				reqs := ups[c.path].Requests()
				if n := countEcho(reqs); n != 2 {
					t.Fatalf("the upstream received %d echo calls, want 2", n)
				}
				distinct := map[string]bool{}
				for _, r := range reqs {
					tok := checkUpstreamCredential(t, r, userToken)
					tokens.checkFor(t, tok, "alice", c.client)
					distinct[tok] = true
				}
				if len(distinct) != 1 {
					t.Errorf("alice's %d upstream requests carried %d exchanged tokens; want one, cached", len(reqs), len(distinct))
				}
			})
		}
	})

	t.Run("two users", func(t *testing.T) {
		up, url := ups["/mcp/users"], gw.resource("/mcp/users")
		users := []string{"alice", "bob"}
		userTokens := map[string]string{}
		sessions := map[string]*mcp.ClientSession{}
		byUser := map[string]map[string]bool{"alice": {}, "bob": {}} // exchanged tokens seen per user
		// record checks the upstream requests since mark: all are user's,
		// and carry user's exchanged token.
		record := func(t *testing.T, user string, mark int) {
			t.Helper()
			reqs := up.Requests()[mark:]
			if len(reqs) == 0 {
				t.Fatalf("%s's requests did not reach the upstream", user)
			}
			for _, r := range reqs {
				tok := checkUpstreamCredential(t, r, userTokens[user])
				tokens.checkFor(t, tok, user, "gw-basic")
				byUser[user][tok] = true
			}
		}
		// Interleaved, one request at a time: each upstream request is
		// attributed to the caller whose request caused it.
		for _, u := range users {
			userTokens[u] = op.UserToken(t, u, url)
			mark := up.Len()
			sessions[u] = mustConnectMCP(t, url, userTokens[u])
			record(t, u, mark)
		}
		for i := range 3 {
			for _, u := range users {
				mark := up.Len()
				callEcho(t, sessions[u], fmt.Sprintf("%s-%d", u, i))
				record(t, u, mark)
			}
		}
		// Concurrent: the echo message names the caller.
		mark := up.Len()
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 8 {
			for _, u := range users {
				wg.Go(func() {
					if err := tryEcho(t, sessions[u], fmt.Sprintf("%s-concurrent-%d", u, i)); err != nil {
						errs <- fmt.Errorf("%s: %w", u, err)
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		concurrent := up.Requests()[mark:]
		if n := countEcho(concurrent); n != 16 {
			t.Fatalf("the upstream received %d concurrent echo calls, want 16", n)
		}
		for _, r := range concurrent {
			user, _, _ := strings.Cut(r.EchoMessage(), "-")
			if !slices.Contains(users, user) {
				t.Fatalf("upstream request %s %s is not one of the concurrent calls", r.Method, r.RPCMethod())
			}
			tok := checkUpstreamCredential(t, r, userTokens[user])
			tokens.checkFor(t, tok, user, "gw-basic")
			byUser[user][tok] = true
		}
		for tok := range byUser["alice"] {
			if byUser["bob"][tok] {
				t.Fatal("alice and bob were sent the same exchanged token")
			}
		}
		for _, u := range users {
			if len(byUser[u]) != 1 {
				t.Errorf("%s's calls carried %d exchanged tokens; want one (cached for its 10 minutes)", u, len(byUser[u]))
			}
		}
	})

	t.Run("refused", func(t *testing.T) {
		url := gw.resource("/mcp/refused")
		userToken := op.UserToken(t, "alice", url)
		status, body := rawInitialize(t, url, userToken)
		checkBadGateway(t, status, body)
		if _, err := connectMCP(t, url, userToken); err == nil || !strings.Contains(err.Error(), http.StatusText(http.StatusBadGateway)) {
			t.Fatalf("a go-sdk client connecting through a refused exchange: %v; want the 502", err)
		}
		line := waitAudit(t, gw.audit, "/mcp/refused", "token_exchange")
		detail, _ := line["detail"].(string)
		if line["decision"] != "error" || line["status"] != float64(http.StatusBadGateway) || line["subject"] != "alice" ||
			!strings.Contains(detail, "invalid_target") {
			t.Errorf("audit line %v: want decision error, status 502, subject alice and the provider's invalid_target in detail", line)
		}
		if strings.Contains(detail, userToken) || strings.Contains(detail, secret) {
			t.Errorf("audit detail carries a credential: %s", detail)
		}
		if n := ups["/mcp/refused"].Len(); n != 0 {
			t.Errorf("the upstream received %d requests through a refused exchange; want none", n)
		}
	})
}

// TestExchangeOIDCProviderExpiry: with exchanged tokens living 2 seconds,
// the gateway exchanges again before the cached one runs out: alice keeps
// calling, every call succeeds, and the upstream soon receives a second,
// different token, also the provider's for the upstream and alice.
func TestExchangeOIDCProviderExpiry(t *testing.T) {
	testenv.NodeModules(t)
	const ttl = 2 * time.Second
	secret := rand.Text()
	up := testenv.StartRecordingUpstream(t)
	var op *testenv.OIDCProvider
	gw := startExchangeGateway(t, map[string]string{"GW_SECRET": secret}, func(public string) *config.Config {
		op = testenv.StartOIDCProviderWith(t, testenv.OIDCProviderOptions{
			Resources: []string{public + "/mcp"}, ExchangeTargets: []string{exchangeTarget}, ExchangeTTL: ttl,
			Clients: []map[string]any{testenv.ExchangeClient{ID: "gw-basic", Secret: secret}.Metadata()},
		})
		return &config.Config{Issuer: op.Issuer, Provider: "generic", RequiredScopes: []string{"mcp:tools"},
			Routes: []config.Route{exchangeRoute("/mcp", up.URL, "gw-basic", config.TokenExchange{
				UpstreamAudience: exchangeTarget, TokenExchangeClientSecretEnv: "GW_SECRET"})}}
	})
	// The tokens may have expired by the time they are checked.
	tokens := newTokenChecker(t, op, exchangeTarget, true)
	userToken := op.UserToken(t, "alice", gw.resource("/mcp"))
	cs := mustConnectMCP(t, gw.resource("/mcp"), userToken)

	distinct := func() []string {
		var out []string
		for _, r := range up.Requests() {
			if tok := r.Bearer(); !slices.Contains(out, tok) {
				out = append(out, tok)
			}
		}
		return out
	}
	calls := 0
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool {
		calls++
		callEcho(t, cs, fmt.Sprintf("call-%d", calls))
		return len(distinct()) >= 2
	}, "a second exchanged token at the upstream")
	t.Logf("a second exchanged token after %d calls", calls)

	seen := distinct()
	for _, r := range up.Requests() {
		checkUpstreamCredential(t, r, userToken)
	}
	for _, tok := range seen {
		if v := tokens.checkFor(t, tok, "alice", "gw-basic"); v.lifetime != ttl {
			t.Errorf("exchanged token lives %v, want %v", v.lifetime, ttl)
		}
	}
	// The first token was used until it was replaced, never after.
	first := slices.IndexFunc(up.Requests(), func(r testenv.RecordedRequest) bool { return r.Bearer() == seen[1] })
	for _, r := range up.Requests()[first:] {
		if r.Bearer() == seen[0] {
			t.Fatal("the first exchanged token was sent again after its replacement")
		}
	}
}
