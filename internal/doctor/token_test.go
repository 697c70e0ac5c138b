package doctor

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// t0 is the clock of every token test: tokens are minted around it, so the
// explanations (which print times) are stable.
var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

const gwResource = "https://gw.example.com/mcp"

// signer is a fake issuer (named https host, see fakeIdP) whose JWKS holds
// the authntest issuer's RSA key, so that ai.Mint signs tokens it accepts.
type signer struct {
	ai     *authntest.Issuer
	issuer string
}

func newSigner(t *testing.T, idp fakeIdP) *signer {
	t.Helper()
	return newSignerWith(t, authntest.NewIssuer(t), idp)
}

// newSignerWith reuses ai's keys (key generation dominates these tests).
func newSignerWith(t *testing.T, ai *authntest.Issuer, idp fakeIdP) *signer {
	t.Helper()
	priv, kid := ai.RSA()
	idp.jwks = string(authntest.JWKS(t, authntest.JWK(t, &priv.PublicKey, kid, "RS256")))
	_, issuer := idp.start(t)
	return &signer{ai: ai, issuer: issuer}
}

// claims are a valid generic access token for the gateway's one route.
func (s *signer) claims(edit func(c map[string]any)) map[string]any {
	c := map[string]any{
		"iss": s.issuer, "sub": "user-1", "aud": gwResource, "client_id": "test-client",
		"scope": "mcp:tools", "iat": t0.Add(-5 * time.Minute).Unix(), "nbf": t0.Add(-5 * time.Minute).Unix(),
		"exp": t0.Add(time.Hour).Unix(), "jti": "j1",
	}
	if edit != nil {
		edit(c)
	}
	return c
}

// tokenChecks renders only the token-related checks (and the resource
// check, which reads the token's aud) with the issuer replaced by ISSUER.
func tokenChecks(r *Report, issuer string) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, c := range r.Checks {
		if c.Name == "token" || strings.HasPrefix(c.Name, "token/") || strings.HasPrefix(c.Name, "verify") || c.Name == "resource" {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Status, c.Name, oneLine(c.Detail))
		}
	}
	_ = tw.Flush()
	return strings.ReplaceAll(b.String(), issuer, "ISSUER")
}

// TestTokenExplanations: one token per cause of refusal, each explained by
// name and fix (golden files), and a good token accepted. The verdict line
// is the verifier's.
func TestTokenExplanations(t *testing.T) {
	generic := fakeIdP{rfc8414: true, oidc: true, meta: complete}
	cognito := fakeIdP{oidc: true, meta: cognitoLike}
	tests := []struct {
		golden string
		idp    fakeIdP
		cfg    func(c *config.Config)
		token  func(s *signer) string
		failed bool
	}{
		{golden: "token_ok", idp: generic, token: func(s *signer) string { return s.ai.Mint(s.claims(nil)) }},
		{golden: "token_wrong_aud", idp: generic, failed: true, token: func(s *signer) string {
			return s.ai.Mint(s.claims(func(c map[string]any) { c["aud"] = "https://api.example.com" }))
		}},
		{golden: "token_wrong_iss", idp: generic, failed: true, token: func(s *signer) string {
			return s.ai.Mint(s.claims(func(c map[string]any) { c["iss"] = "https://login.other.example.com/tenant" }))
		}},
		{golden: "token_iss_slash", idp: generic, failed: true, token: func(s *signer) string {
			return s.ai.Mint(s.claims(func(c map[string]any) { c["iss"] = c["iss"].(string) + "/" }))
		}},
		{golden: "token_expired", idp: generic, failed: true, token: func(s *signer) string {
			return s.ai.Mint(s.claims(func(c map[string]any) {
				c["iat"], c["nbf"], c["exp"] = t0.Add(-3*time.Hour).Unix(), t0.Add(-3*time.Hour).Unix(), t0.Add(-2*time.Hour).Unix()
			}))
		}},
		{golden: "token_not_yet_valid", idp: generic, failed: true, token: func(s *signer) string {
			return s.ai.Mint(s.claims(func(c map[string]any) { c["nbf"] = t0.Add(10 * time.Minute).Unix() }))
		}},
		{golden: "token_missing_scope", idp: generic, failed: true, token: func(s *signer) string {
			return s.ai.Mint(s.claims(func(c map[string]any) { c["scope"] = "mcp:read" }))
		}},
		{golden: "token_scope_implied", idp: generic, cfg: func(c *config.Config) {
			c.ScopeImplies = map[string][]string{"mcp:admin": {"mcp:tools"}}
		}, token: func(s *signer) string {
			return s.ai.Mint(s.claims(func(c map[string]any) { c["scope"] = "mcp:admin" }))
		}},
		{golden: "token_tool_scopes", idp: generic, cfg: func(c *config.Config) {
			c.Routes = []config.Route{{Path: "/mcp", ToolScopes: map[string][]string{"admin_*": {"mcp:admin"}, "echo": {"mcp:tools"}}}}
		}, token: func(s *signer) string { return s.ai.Mint(s.claims(nil)) }},
		{golden: "token_unknown_kid", idp: generic, failed: true, token: func(s *signer) string {
			return s.ai.Mint(s.claims(nil), authntest.WithKID("rotated-away"))
		}},
		{golden: "token_hmac", idp: generic, failed: true, token: func(s *signer) string {
			return s.ai.Mint(s.claims(nil), authntest.WithAlg("HS256"), authntest.WithKey([]byte("0123456789abcdef0123456789abcdef")))
		}},
		{golden: "token_bad_signature", idp: generic, failed: true, token: func(s *signer) string {
			return s.ai.Mint(s.claims(nil), authntest.WithKey(s.ai.Foreign))
		}},
		{golden: "token_client_not_allowed", idp: generic, failed: true, cfg: func(c *config.Config) {
			c.AllowedClientIDs = []string{"claude-ai", "vscode"}
		}, token: func(s *signer) string { return s.ai.Mint(s.claims(nil)) }},
		{golden: "token_oidc_id_token", idp: generic, failed: true, token: func(s *signer) string {
			return s.ai.Mint(s.claims(func(c map[string]any) {
				delete(c, "client_id")
				delete(c, "scope")
				c["aud"], c["azp"], c["nonce"] = "test-client", "test-client", "n-0S6_WzA2Mj"
			}), authntest.WithHeader("typ", "JWT"))
		}},
		{golden: "token_cognito_id_token", idp: cognito, failed: true, cfg: cognitoCfg, token: func(s *signer) string {
			return s.ai.Mint(s.claims(func(c map[string]any) {
				delete(c, "client_id")
				delete(c, "scope")
				c["aud"], c["token_use"], c["cognito:username"] = "app1", "id", "alice"
			}), authntest.WithHeader("typ", "JWT"))
		}},
		{golden: "token_cognito_no_aud", idp: cognito, failed: true, cfg: cognitoCfg, token: func(s *signer) string {
			return s.ai.Mint(s.claims(func(c map[string]any) {
				delete(c, "aud")
				c["client_id"], c["token_use"], c["username"] = "app1", "access", "alice"
			}))
		}},
		{golden: "token_opaque", idp: generic, failed: true, token: func(*signer) string { return "Qm9ndXMgb3BhcXVlIHRva2Vu" }},
	}
	ai := authntest.NewIssuer(t)
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			s := newSignerWith(t, ai, tt.idp)
			o := testOpts()
			o.Token, o.Now = tt.token(s), func() time.Time { return t0 }
			cfg := loaded(s.issuer, func(c *config.Config) {
				c.RequiredScopes = []string{"mcp:tools"}
				if tt.cfg != nil {
					tt.cfg(c)
				}
			})
			r := Run(context.Background(), cfg, o)
			got := tokenChecks(r, s.issuer)
			testkit.Golden(t, filepath.Join("testdata", tt.golden+".golden"), []byte(got))
			var verify Check
			for _, c := range r.Checks {
				if c.Name == "verify" {
					verify = c
				}
			}
			if (verify.Status == Fail) != tt.failed || r.Failed() != tt.failed {
				t.Errorf("verify = %+v, Failed() = %v; want failed %v", verify, r.Failed(), tt.failed)
			}
			if strings.Contains(got, o.Token) || strings.Contains(got, o.Token[strings.LastIndexByte(o.Token, '.')+1:]) {
				t.Errorf("the report shows the token or its signature:\n%s", got)
			}
		})
	}
}

func cognitoCfg(c *config.Config) {
	c.Provider, c.AllowedClientIDs = "cognito", []string{"app1"}
}

// TestTokenRoutes: a token is bound to one route. With two routes, the one
// its aud names accepts it and the other explains, as a warning, that aud
// names another route's resource.
func TestTokenRoutes(t *testing.T) {
	s := newSigner(t, fakeIdP{rfc8414: true, oidc: true, meta: complete})
	o := testOpts()
	o.Token = s.ai.Mint(s.claims(func(c map[string]any) { c["aud"] = "https://gw.example.com/mcp/a" }))
	o.Now = func() time.Time { return t0 }
	cfg := loaded(s.issuer, func(c *config.Config) {
		c.RequiredScopes = []string{"mcp:tools"}
		c.Routes = []config.Route{{Path: "/mcp/a"}, {Path: "/mcp/b"}}
	})
	r := Run(context.Background(), cfg, o)
	testkit.Golden(t, filepath.Join("testdata", "token_routes.golden"), []byte(tokenChecks(r, s.issuer)))
	if r.Failed() {
		t.Error("Failed() = true, want false: the token is for /mcp/a, and /mcp/b refusing it is a warning")
	}
}

// TestTokenVerdictIsTheVerifiers: when the verifier refuses for a reason
// the explainer does not model, the report says so with the verifier's
// reason; when the key set cannot be read, the gateway's 503 is reported.
func TestTokenVerdictIsTheVerifiers(t *testing.T) {
	t.Run("unexplained", func(t *testing.T) {
		s := newSigner(t, fakeIdP{rfc8414: true, oidc: true, meta: complete})
		o := testOpts()
		o.Token = s.ai.Mint(s.claims(nil), authntest.WithHeader("crit", []string{"exp"}))
		o.Now = func() time.Time { return t0 }
		r := Run(context.Background(), loaded(s.issuer, nil), o)
		wantCheck(t, r, "verify", Fail, `header parameter "crit" not supported. doctor has no further explanation for this check: the verifier's reason is the cause`)
	})
	t.Run("JWKS 404", func(t *testing.T) {
		s := newSigner(t, fakeIdP{rfc8414: true, oidc: true, meta: complete, jwksStatus: 404})
		o := testOpts()
		o.Token, o.Now = s.ai.Mint(s.claims(nil)), func() time.Time { return t0 }
		r := Run(context.Background(), loaded(s.issuer, nil), o)
		wantCheck(t, r, "verify", Fail, "the gateway answers 503 on "+gwResource)
		wantCheck(t, r, "jwks", Fail, "HTTP 404")
	})
	t.Run("metadata names another issuer", func(t *testing.T) {
		s := newSigner(t, fakeIdP{rfc8414: true, oidc: true, meta: func(m map[string]any) {
			complete(m)
			m["issuer"] = "https://elsewhere.example.com"
		}})
		o := testOpts()
		o.Token, o.Now = s.ai.Mint(s.claims(nil)), func() time.Time { return t0 }
		r := Run(context.Background(), loaded(s.issuer, nil), o)
		wantCheck(t, r, "verify", Fail, `does not equal configured issuer`)
		wantCheck(t, r, "issuer", Fail, `"https://elsewhere.example.com"`)
	})
}
