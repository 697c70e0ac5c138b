package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/pkg/mcpidentity"
)

func pkcs8PEM(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestFromConfig(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "short-secret-value"
	e := env{
		"HMAC_KEY":   string(hmacKey),
		"SHORT_KEY":  secret,
		"ED_KEY":     pkcs8PEM(t, priv),
		"RSA_KEY":    pkcs8PEM(t, rsaKey),
		"NOT_PEM":    secret,
		"STATIC":     "Bearer svc",
		"BAD_STATIC": "Bearer " + secret + "\nX: y",
	}
	hv, _ := mcpidentity.NewHMACVerifier(hmacKey, aud)
	jv, _ := mcpidentity.NewJWSVerifier(pub, aud)
	tests := []struct {
		name, mode, keyEnv, staticEnv string
		verify                        mcpidentity.Verifier
		wantAuth                      string
		wantErr                       string // substring; "" = success
	}{
		{name: "default", mode: ""},
		{name: "none", mode: "none"},
		{name: "hmac", mode: "hmac", keyEnv: "HMAC_KEY", verify: hv},
		{name: "jws", mode: "jws", keyEnv: "ED_KEY", verify: jv},
		{name: "static", mode: "static", staticEnv: "STATIC", wantAuth: "Bearer svc"},
		{name: "hmac key unset", mode: "hmac", keyEnv: "UNSET", wantErr: "$UNSET is not set"},
		{name: "hmac no env named", mode: "hmac", wantErr: "no environment variable"},
		{name: "hmac key short", mode: "hmac", keyEnv: "SHORT_KEY", wantErr: "$SHORT_KEY"},
		{name: "jws not PEM", mode: "jws", keyEnv: "NOT_PEM", wantErr: "no PEM block"},
		{name: "jws RSA key", mode: "jws", keyEnv: "RSA_KEY", wantErr: "not Ed25519"},
		{name: "static unset", mode: "static", staticEnv: "UNSET", wantErr: "$UNSET is not set"},
		{name: "static control chars", mode: "static", staticEnv: "BAD_STATIC", wantErr: "control characters"},
		{name: "unknown mode", mode: "passthrough", wantErr: "not none, hmac, jws or static"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inj, err := FromConfig(tt.mode, tt.keyEnv, tt.staticEnv, aud, e.get)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h := clientHeaders()
			if err := Outgoing(context.Background(), h, inj, principal(time.Now().Add(time.Hour))); err != nil {
				t.Fatal(err)
			}
			if got := h.Get("Authorization"); got != tt.wantAuth {
				t.Errorf("Authorization %q, want %q", got, tt.wantAuth)
			}
			if tt.verify == nil {
				return
			}
			id, err := tt.verify.Verify(h)
			if err != nil || id.Subject != "alice" {
				t.Fatalf("verify: %+v, %v", id, err)
			}
		})
	}
}

func TestFromConfigJWSKeyID(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	inj, err := FromConfig(ModeJWS, "K", "", aud, env{"K": pkcs8PEM(t, priv)}.get)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if err := inj.Apply(context.Background(), h, principal(time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(jwsHeaderJSON(t, h.Get(mcpidentity.HeaderIdentity)), `"kid":"`+mcpidentity.Ed25519Thumbprint(pub)+`"`) {
		t.Error("kid is not the key's thumbprint")
	}
}
