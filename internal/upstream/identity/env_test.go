package identity

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/pkg/mcpidentity"
)

// injectorFunc is an Injector from a function, for Env's tests.
type injectorFunc func(ctx context.Context, h http.Header, p *authn.Principal) error

func (f injectorFunc) Apply(ctx context.Context, h http.Header, p *authn.Principal) error {
	return f(ctx, h, p)
}

type ctxKey struct{}

// TestEnv proves the header-to-environment mapping of stdio identities: the
// documented MCP_GATEWAY_SUBJECT, _CLIENT_ID, _ISSUER and _SCOPES for a
// stdio route whose identity is not none, nothing for none, the injector's
// errors, multi-valued headers, NUL bytes, and ctx reaching the injector.
func TestEnv(t *testing.T) {
	p := principal(time.Now().Add(time.Hour))
	ctx := context.WithValue(context.Background(), ctxKey{}, "request")
	tests := []struct {
		name    string
		inj     Injector
		p       *authn.Principal
		want    map[string]string
		wantErr error
	}{
		{name: "stdio hmac route", inj: ForStdio(ModeHMAC), p: p, want: map[string]string{
			"MCP_GATEWAY_SUBJECT":   "alice",
			"MCP_GATEWAY_CLIENT_ID": "claude",
			"MCP_GATEWAY_ISSUER":    "https://idp.example/",
			"MCP_GATEWAY_SCOPES":    "mcp:tools files:read",
		}},
		{name: "empty client id is still set", inj: Unsigned{}, p: &authn.Principal{Subject: "s", Issuer: "i"}, want: map[string]string{
			"MCP_GATEWAY_SUBJECT": "s", "MCP_GATEWAY_CLIENT_ID": "", "MCP_GATEWAY_ISSUER": "i", "MCP_GATEWAY_SCOPES": "",
		}},
		{name: "none", inj: ForStdio(ModeNone), p: p, want: map[string]string{}},
		{name: "no principal", inj: Unsigned{}, wantErr: ErrNoPrincipal},
		{name: "control character", inj: Unsigned{}, p: &authn.Principal{Subject: "alice\nMCP_GATEWAY_SUBJECT=root", Issuer: "i"}, wantErr: mcpidentity.ErrUnencodable},
		{name: "header names and values", inj: injectorFunc(func(ctx context.Context, h http.Header, _ *authn.Principal) error {
			if ctx.Value(ctxKey{}) != "request" {
				return errors.New("ctx did not reach the injector")
			}
			h.Add("X-Upstream-Tenant", "a")
			h.Add("X-Upstream-Tenant", "b")
			h.Set("Authorization", "Bearer service")
			return nil
		}), p: p, want: map[string]string{"X_UPSTREAM_TENANT": "a, b", "AUTHORIZATION": "Bearer service"}},
		{name: "NUL byte", inj: injectorFunc(func(_ context.Context, h http.Header, _ *authn.Principal) error {
			h.Set("X-A", "a\x00b")
			return nil
		}), p: p, wantErr: errors.New("any")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Env(ctx, tt.inj, tt.p)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != nil && err == nil:
				t.Fatalf("env = %v, want an error", got)
			case tt.wantErr != nil && tt.wantErr.Error() != "any" && !errors.Is(err, tt.wantErr):
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !maps.Equal(got, tt.want) {
				t.Fatalf("env = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestForStdio proves every identity mode but none gives a stdio process
// the caller's identity, unsigned.
func TestForStdio(t *testing.T) {
	for mode, want := range map[string]Injector{
		"": None{}, ModeNone: None{}, ModeHMAC: Unsigned{}, ModeJWS: Unsigned{}, ModeStatic: Unsigned{},
	} {
		if got := ForStdio(mode); got != want {
			t.Errorf("ForStdio(%q) = %T, want %T", mode, got, want)
		}
	}
}
