package authn_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
)

func TestFailureReasonOfOtherErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"keys_unavailable", fmt.Errorf("authn: %w", authn.ErrKeysUnavailable), authn.ReasonUnavailable},
		{"allowlist_unavailable", fmt.Errorf("%w: client-id allowlist: %w", authn.ErrKeysUnavailable, errors.New("down")), authn.ReasonUnavailable},
		{"bare_invalid_token", authn.ErrInvalidToken, authn.ReasonInvalid},
		{"foreign_error", errors.New("something else"), authn.ReasonInvalid},
		{"context_canceled", context.Canceled, authn.ReasonInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := authn.FailureReason(tt.err); got != tt.want {
				t.Fatalf("FailureReason = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFailureReasonKeepsMessages: the reason is carried beside the error,
// not in its text, which stays exactly what it was (clients, logs and
// doctor read it), and survives further wrapping.
func TestFailureReasonKeepsMessages(t *testing.T) {
	iss := authntest.NewIssuer(t)
	now := time.Now()
	v := newVerifier(t, issuerKeys(t, iss), iss, func(p *authn.Policy) { p.Now = func() time.Time { return now } })
	mint := func(mod func(map[string]any)) string {
		c := iss.Claims(testAudience)
		mod(c)
		return iss.Mint(c)
	}
	tests := []struct {
		name, tok, msg, reason string
	}{
		{"expired", mint(func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() }), "invalid token: token is expired", authn.ReasonExpired},
		{"aud", mint(func(c map[string]any) { c["aud"] = "https://other.example" }), `invalid token: claim "aud" does not name this resource`, authn.ReasonAudience},
		{"iss_type", mint(func(c map[string]any) { c["iss"] = 1 }), `invalid token: claim "iss" is not a string`, authn.ReasonIssuer},
		{"sub_type", mint(func(c map[string]any) { c["sub"] = 1 }), `invalid token: claim "sub" is not a string`, authn.ReasonClaims},
		{"client_type", mint(func(c map[string]any) { c["client_id"] = 1 }), `invalid token: claim "client_id" is not a string`, authn.ReasonClient},
		{"shape", "a.b", "invalid token: token is not a compact JWS (need 3 segments)", authn.ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(ctxT(t), tt.tok)
			if err == nil || err.Error() != tt.msg {
				t.Fatalf("error %v, want text %q", err, tt.msg)
			}
			wrapped := fmt.Errorf("gateway: %w", err)
			if !errors.Is(wrapped, authn.ErrInvalidToken) {
				t.Fatalf("wrapped error %v is not ErrInvalidToken", wrapped)
			}
			if got := authn.FailureReason(wrapped); got != tt.reason {
				t.Fatalf("FailureReason = %q, want %q", got, tt.reason)
			}
		})
	}
}

// TestKeySetLookupReasons covers the reasons KeySet.LookupKey gives,
// directly and through Verify.
func TestKeySetLookupReasons(t *testing.T) {
	iss := authntest.NewIssuer(t)
	ks := startKeySet(t, iss, nil)
	_, err := ks.LookupKey(ctxT(t), "no-such-kid")
	if got := authn.FailureReason(err); got != authn.ReasonKey {
		t.Fatalf("unknown kid: FailureReason = %q, want %q (%v)", got, authn.ReasonKey, err)
	}

	down := authntest.NewIssuer(t)
	down.SetDown(true)
	never, err := authn.NewKeySet(authn.KeySetOptions{Issuer: down.URL, MinRefreshInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	_, err = never.LookupKey(ctxT(t), "")
	if got := authn.FailureReason(err); got != authn.ReasonUnavailable {
		t.Fatalf("never loaded: FailureReason = %q, want %q (%v)", got, authn.ReasonUnavailable, err)
	}
	_, err = newVerifier(t, never, down, nil).Verify(ctxT(t), down.Mint(down.Claims(testAudience)))
	if got := authn.FailureReason(err); got != authn.ReasonUnavailable {
		t.Fatalf("Verify, never loaded: FailureReason = %q, want %q (%v)", got, authn.ReasonUnavailable, err)
	}
}

// TestAttackTableCoversReasons guards the attack table: every reason a
// token can earn (all but unavailable and the fallback) has a case.
func TestAttackTableCoversReasons(t *testing.T) {
	iss := authntest.NewIssuer(t)
	got := map[string]bool{}
	for _, a := range authntest.Attacks(iss, testAudience) {
		got[a.Reason] = true
	}
	for _, r := range authn.Reasons() {
		if r != authn.ReasonUnavailable && r != authn.ReasonInvalid && !got[r] {
			t.Errorf("no attack expects reason %q", r)
		}
	}
}

func TestReasonsAreFixedLabelValues(t *testing.T) {
	rs := authn.Reasons()
	if len(rs) != 12 {
		t.Fatalf("%d reasons; a new one is a new metric label value, update this test deliberately", len(rs))
	}
	seen := map[string]bool{}
	for _, r := range rs {
		if r == "" || seen[r] {
			t.Fatalf("reason %q empty or duplicated", r)
		}
		seen[r] = true
		for _, c := range r {
			if !(c >= 'a' && c <= 'z' || c == '_') {
				t.Fatalf("reason %q is not a lower_snake label value", r)
			}
		}
	}
	rs[0] = "mutated"
	if slices.Contains(authn.Reasons(), "mutated") {
		t.Fatal("Reasons returns a shared slice")
	}
}
