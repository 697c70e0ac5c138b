package authn_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
)

// TestAttacks runs the shared malicious-token table against a real KeySet
// and issuer: every token must fail with ErrInvalidToken (never
// ErrKeysUnavailable, the issuer is up) with the table's FailureReason and
// a client-safe message, and the attacker's server must never be contacted.
func TestAttacks(t *testing.T) {
	iss := authntest.NewIssuer(t)
	ks := startKeySet(t, iss, nil)
	policies := map[string]func(*authn.Policy){
		"no_allowlist":   nil,
		"with_allowlist": func(p *authn.Policy) { p.ClientIDs = authn.StaticClientIDs{authntest.ClientID} },
	}
	attacks := authntest.Attacks(iss, testAudience)
	if len(attacks) < 30 {
		t.Fatalf("only %d attacks", len(attacks))
	}
	seen := map[string]bool{}
	for _, a := range attacks {
		if seen[a.Name] {
			t.Fatalf("duplicate attack name %q", a.Name)
		}
		seen[a.Name] = true
		if !slices.Contains(authn.Reasons(), a.Reason) {
			t.Fatalf("attack %q: reason %q is not one of authn.Reasons()", a.Name, a.Reason)
		}
	}
	for pname, mod := range policies {
		v := newVerifier(t, ks, iss, mod)
		if _, err := v.Verify(ctxT(t), iss.Mint(iss.Claims(testAudience))); err != nil {
			t.Fatalf("%s: control token rejected: %v", pname, err)
		}
		for _, a := range attacks {
			t.Run(pname+"/"+a.Name, func(t *testing.T) {
				p, err := v.Verify(context.Background(), a.Token)
				if err == nil {
					t.Fatalf("accepted: %+v", p)
				}
				if !errors.Is(err, authn.ErrInvalidToken) || errors.Is(err, authn.ErrKeysUnavailable) {
					t.Fatalf("want ErrInvalidToken only, got %v", err)
				}
				if got := authn.FailureReason(err); got != a.Reason {
					t.Fatalf("FailureReason = %q, want %q (%v)", got, a.Reason, err)
				}
				assertSafeError(t, err, a.Token)
			})
		}
	}
	if n := iss.AttackerHits(); n != 0 {
		t.Fatalf("attacker server contacted %d times", n)
	}
}

// assertSafeError fails if err's text leaks token contents: no segment
// (or 12-char run of one) of the token may appear.
func assertSafeError(t *testing.T, err error, token string) {
	t.Helper()
	msg := err.Error()
	if len(msg) > 200 {
		t.Errorf("error too long (%d): %q", len(msg), msg[:200])
	}
	for _, seg := range strings.Split(token, ".") {
		for i := 0; i+12 <= len(seg); i += 12 {
			if strings.Contains(msg, seg[i:i+12]) {
				t.Fatalf("error %q leaks token text", msg)
			}
		}
	}
}

// TestAttackTokenShapes guards the table itself: a few classes must really
// have the shape their name claims.
func TestAttackTokenShapes(t *testing.T) {
	iss := authntest.NewIssuer(t)
	byName := map[string]string{}
	for _, a := range authntest.Attacks(iss, testAudience) {
		byName[a.Name] = a.Token
	}
	checks := map[string]func(string) bool{
		"two_segments":        func(s string) bool { return strings.Count(s, ".") == 1 },
		"four_segments":       func(s string) bool { return strings.Count(s, ".") == 3 },
		"jwe_five_segments":   func(s string) bool { return strings.Count(s, ".") == 4 },
		"stripped_signature":  func(s string) bool { return strings.HasSuffix(s, ".") },
		"oversized":           func(s string) bool { return len(s) > authn.DefaultMaxTokenBytes },
		"base64_std_alphabet": func(s string) bool { return strings.ContainsAny(s, "+/") },
		"base64_padding":      func(s string) bool { return strings.Contains(s, "=") },
	}
	for name, ok := range checks {
		if tok, present := byName[name]; !present || !ok(tok) {
			t.Errorf("attack %q missing or misshapen", name)
		}
	}
}

// TestAttacksCognito covers the Cognito paths the generic table cannot
// reach: tokens without aud (accepted only with InsecureAllowMissingAudience
// and an allow-listed client) and ID tokens.
func TestAttacksCognito(t *testing.T) {
	iss := authntest.NewIssuer(t)
	keys := issuerKeys(t, iss)
	cognito := func(mod func(map[string]any)) string {
		c := map[string]any{
			"iss": iss.URL, "sub": "u-1", "token_use": "access", "client_id": "app-1",
			"scope": "openid rs/read", "username": "alice", "exp": 4102444800, "iat": 1700000000,
		}
		if mod != nil {
			mod(c)
		}
		return iss.Mint(c)
	}
	allow := authn.StaticClientIDs{"app-1"}
	errAllow := allowFunc(func(context.Context, string) (bool, error) { return false, errors.New("dynamodb down") })
	aud := []string{testAudience}
	tests := []struct {
		name     string
		tok      string
		ids      authn.ClientIDAllower
		prof     string
		insecure bool   // Policy.InsecureAllowMissingAudience
		want     error  // nil means accepted
		reason   string // authn.FailureReason of the refusal
	}{
		{"control_with_aud", cognito(func(c map[string]any) { c["aud"] = testAudience }), allow, "cognito", false, nil, ""},
		{"control_with_aud_no_allowlist", cognito(func(c map[string]any) { c["aud"] = testAudience }), nil, "cognito", false, nil, ""},
		{"control_no_aud_insecure", cognito(nil), allow, "cognito", true, nil, ""},
		{"no_aud_by_default", cognito(nil), allow, "cognito", false, authn.ErrInvalidToken, authn.ReasonAudience},
		{"no_aud_client_not_allowed", cognito(func(c map[string]any) { c["client_id"] = "app-2" }), allow, "cognito", true, authn.ErrInvalidToken, authn.ReasonClient},
		{"no_aud_no_allowlist", cognito(nil), nil, "cognito", false, authn.ErrInvalidToken, authn.ReasonAudience},
		{"no_aud_generic_profile", cognito(nil), allow, "generic", false, authn.ErrInvalidToken, authn.ReasonAudience},
		{"aud_null_insecure", cognito(func(c map[string]any) { c["aud"] = nil }), allow, "cognito", true, authn.ErrInvalidToken, authn.ReasonAudience},
		{"aud_empty_array_insecure", cognito(func(c map[string]any) { c["aud"] = []string{} }), allow, "cognito", true, authn.ErrInvalidToken, authn.ReasonAudience},
		{"aud_empty_string_insecure", cognito(func(c map[string]any) { c["aud"] = "" }), allow, "cognito", true, authn.ErrInvalidToken, authn.ReasonAudience},
		{"id_token", cognito(func(c map[string]any) { c["token_use"] = "id"; c["aud"] = "app-1" }), allow, "cognito", true, authn.ErrInvalidToken, authn.ReasonTokenType},
		{"id_token_without_aud", cognito(func(c map[string]any) { c["token_use"] = "id" }), allow, "cognito", true, authn.ErrInvalidToken, authn.ReasonTokenType},
		{"token_use_missing", cognito(func(c map[string]any) { delete(c, "token_use") }), allow, "cognito", true, authn.ErrInvalidToken, authn.ReasonTokenType},
		{"token_use_not_string", cognito(func(c map[string]any) { c["token_use"] = []string{"access"} }), allow, "cognito", true, authn.ErrInvalidToken, authn.ReasonTokenType},
		{"client_id_missing", cognito(func(c map[string]any) { delete(c, "client_id") }), allow, "cognito", true, authn.ErrInvalidToken, authn.ReasonClient},
		{"wrong_aud_allowed_client", cognito(func(c map[string]any) { c["aud"] = "https://other/mcp" }), allow, "cognito", true, authn.ErrInvalidToken, authn.ReasonAudience},
		{"right_aud_client_not_allowed", cognito(func(c map[string]any) { c["aud"] = testAudience; c["client_id"] = "app-2" }), allow, "cognito", false, authn.ErrInvalidToken, authn.ReasonClient},
		{"allowlist_error", cognito(nil), errAllow, "cognito", true, authn.ErrKeysUnavailable, authn.ReasonUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := authn.NewVerifier(keys, authn.Policy{Issuer: iss.URL, Audiences: aud, ClientIDs: tt.ids,
				Profile: profile(t, tt.prof), InsecureAllowMissingAudience: tt.insecure})
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(context.Background(), tt.tok)
			if tt.want == nil && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("want %v, got %v", tt.want, err)
			}
			if got := authn.FailureReason(err); got != tt.reason {
				t.Fatalf("FailureReason = %q, want %q (%v)", got, tt.reason, err)
			}
		})
	}
}

type allowFunc func(context.Context, string) (bool, error)

func (f allowFunc) AllowClientID(ctx context.Context, id string) (bool, error) { return f(ctx, id) }
