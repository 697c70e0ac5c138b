package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/pkg/mcpidentity"
)

const aud = "http://127.0.0.1:9000/mcp"

var hmacKey = []byte("gateway-identity-key-for-tests-0123456789")

func principal(exp time.Time) *authn.Principal {
	return &authn.Principal{
		Subject: "alice", ClientID: "claude", Username: "Alice", Issuer: "https://idp.example/",
		Scopes: []string{"mcp:tools", "files:read"}, Audience: []string{"https://gw/mcp"}, Expiry: exp,
	}
}

// clientHeaders is what a hostile client sends: its token, cookies and
// forged identity headers, plus MCP headers that must pass through.
func clientHeaders() http.Header {
	return http.Header{
		"Authorization":            {"Bearer client-token"},
		"authorization":            {"Bearer lower-case-token"},
		"Proxy-Authorization":      {"Basic cHJveHk6cHc="},
		"Cookie":                   {"session=secret"},
		"Cookie2":                  {"$Version=1"},
		"X-Api-Key":                {"k"},
		"X-Forwarded-Access-Token": {"t"},
		"Mcp-Gateway-Subject":      {"admin"},
		"mcp-gateway-scopes":       {"admin"},
		"MCP-GATEWAY-SIGNATURE":    {"v1=forged"},
		"Mcp-Gateway-Identity":     {"a.b.c"},
		"Mcp-Session-Id":           {"s1"},
		"Mcp-Protocol-Version":     {"2026-07-28"},
		"Mcp-Method":               {"tools/call"},
		"Mcp-Name":                 {"echo"},
		"Mcp-Param-Region":         {"eu"},
		"Last-Event-Id":            {"42"},
		"Accept":                   {"application/json, text/event-stream"},
	}
}

var kept = []string{"Mcp-Session-Id", "Mcp-Protocol-Version", "Mcp-Method", "Mcp-Name", "Mcp-Param-Region", "Last-Event-Id", "Accept"}

func TestStripClientCredentials(t *testing.T) {
	h := clientHeaders()
	StripClientCredentials(h)
	if len(h) != len(kept) {
		t.Errorf("left %d headers: %v", len(h), h)
	}
	for _, k := range kept {
		if len(h[k]) != 1 {
			t.Errorf("%s not kept", k)
		}
	}
}

func TestInjectors(t *testing.T) {
	now := time.Now()
	hs, _ := mcpidentity.NewHMACSigner(hmacKey, aud)
	hv, _ := mcpidentity.NewHMACVerifier(hmacKey, aud)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	js, _ := mcpidentity.NewJWSSigner(priv, "k", aud)
	jv, _ := mcpidentity.NewJWSVerifier(pub, aud)
	// The signing injectors read a pinned clock: with the real one, signing
	// a moment after now could cross a second boundary and the second-precision
	// expiry would then land after wantExp.
	signed := func(s Signer) *Signed {
		inj := NewSigned(s)
		inj.now = func() time.Time { return now }
		return inj
	}
	static, err := NewStatic("Bearer service-credential")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		inj      Injector
		p        *authn.Principal
		verify   mcpidentity.Verifier
		wantAuth string
		wantExp  time.Time // for signed: expected Expires (second precision)
		wantErr  error
	}{
		{name: "none", inj: None{}, p: principal(now.Add(time.Hour))},
		{name: "none without principal", inj: None{}},
		{name: "hmac, long token: capped at 5m", inj: signed(hs), p: principal(now.Add(time.Hour)), verify: hv, wantExp: now.Add(5 * time.Minute)},
		{name: "hmac, short token: token exp", inj: signed(hs), p: principal(now.Add(time.Minute)), verify: hv, wantExp: now.Add(time.Minute)},
		{name: "jws, long token", inj: signed(js), p: principal(now.Add(time.Hour)), verify: jv, wantExp: now.Add(5 * time.Minute)},
		{name: "jws, short token", inj: signed(js), p: principal(now.Add(90 * time.Second)), verify: jv, wantExp: now.Add(90 * time.Second)},
		{name: "signed without principal", inj: signed(hs), wantErr: ErrNoPrincipal},
		{name: "static", inj: static, p: principal(now.Add(time.Hour)), wantAuth: "Bearer service-credential"},
		{name: "static without principal", inj: static, wantAuth: "Bearer service-credential"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := clientHeaders()
			err := Outgoing(context.Background(), h, tt.inj, tt.p)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := h.Get("Authorization"); got != tt.wantAuth || len(h.Values("Authorization")) > 1 {
				t.Errorf("Authorization = %q, want %q", got, tt.wantAuth)
			}
			for k, vs := range h {
				for _, v := range vs {
					if strings.Contains(v, "admin") || strings.Contains(v, "client-token") || strings.Contains(v, "secret") || strings.Contains(v, "forged") {
						t.Errorf("client value survived: %s: %s", k, v)
					}
				}
			}
			if tt.verify == nil {
				if strings.Contains(strings.ToLower(strings.Join(keys(h), " ")), "mcp-gateway-") {
					t.Errorf("identity headers present: %v", h)
				}
				return
			}
			id, err := tt.verify.Verify(h)
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != "alice" || id.ClientID != "claude" || id.Issuer != "https://idp.example/" ||
				strings.Join(id.Scopes, " ") != "mcp:tools files:read" || id.Audience != aud {
				t.Errorf("identity %+v", id)
			}
			if d := id.Expires.Sub(tt.wantExp); d > 0 || d < -time.Second {
				t.Errorf("expires %v, want %v", id.Expires, tt.wantExp)
			}
		})
	}
}

func keys(h http.Header) []string {
	var ks []string
	for k := range h {
		ks = append(ks, k)
	}
	return ks
}

func TestSignedRefusesUnencodablePrincipal(t *testing.T) {
	hs, _ := mcpidentity.NewHMACSigner(hmacKey, aud)
	p := principal(time.Now().Add(time.Hour))
	p.Subject = "alice\r\nMcp-Gateway-Subject: root"
	h := http.Header{"Mcp-Gateway-Subject": {"forged"}}
	if err := NewSigned(hs).Apply(context.Background(), h, p); !errors.Is(err, mcpidentity.ErrUnencodable) {
		t.Fatalf("err = %v", err)
	}
	if len(h) != 0 {
		t.Errorf("headers left: %v", h)
	}
}

func TestNewStaticRejects(t *testing.T) {
	for _, v := range []string{"", "  ", "Bearer a\r\nX-Evil: 1", "Bearer \x00"} {
		if _, err := NewStatic(v); err == nil {
			t.Errorf("NewStatic(%q) accepted", v)
		}
	}
}

// TestRecordingUpstream sends a hostile client's request through the same
// header handling a proxy does, over real HTTP, to an upstream that records
// what it receives and verifies with pkg/mcpidentity.
func TestRecordingUpstream(t *testing.T) {
	testkit.CheckGoroutines(t)
	hv, _ := mcpidentity.NewHMACVerifier(hmacKey, aud)
	var got http.Header
	var who *mcpidentity.Identity
	upstream := httptest.NewServer(mcpidentity.Middleware(hv, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		who = mcpidentity.FromContext(r.Context())
		w.WriteHeader(http.StatusAccepted)
	})))
	t.Cleanup(func() {
		upstream.Close()
		upstream.Client().CloseIdleConnections()
	})
	inj, err := FromConfig(ModeHMAC, "KEY", "", aud, env{"KEY": string(hmacKey)}.get)
	if err != nil {
		t.Fatal(err)
	}
	client := clientHeaders()
	client.Set("Mcp-Session-Id", "s1")
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, upstream.URL, strings.NewReader(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	req.Header = client
	if err := Outgoing(context.Background(), req.Header, inj, principal(time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	resp, err := upstream.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, k := range []string{"Authorization", "Cookie", "Cookie2", "Proxy-Authorization", "X-Api-Key"} {
		if v := got.Values(k); len(v) > 0 {
			t.Errorf("upstream received %s: %v", k, v)
		}
	}
	if got.Get("Mcp-Session-Id") != "s1" || got.Get("Mcp-Param-Region") != "eu" {
		t.Errorf("MCP headers lost: %v", got)
	}
	if who == nil || who.Subject != "alice" || who.HasScope("admin") {
		t.Errorf("identity %+v", who)
	}
}

type env map[string]string

func (e env) get(k string) string { return e[k] }

func jwsHeaderJSON(t *testing.T, tok string) string {
	t.Helper()
	part, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
