package mcpidentity

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func testEdKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

var b64 = base64.RawURLEncoding

// rawJWS signs arbitrary header and claims JSON with priv (nil: no signature).
func rawJWS(priv ed25519.PrivateKey, hdr, claims string) string {
	in := b64.EncodeToString([]byte(hdr)) + "." + b64.EncodeToString([]byte(claims))
	if priv == nil {
		return in + "."
	}
	return in + "." + b64.EncodeToString(ed25519.Sign(priv, []byte(in)))
}

const (
	goodHdr    = `{"alg":"EdDSA","typ":"mcp-gateway-identity+jwt"}`
	goodClaims = `{"sub":"u","iss":"https://idp.example/","aud":"https://upstream.internal/mcp","iat":1800000000,"exp":1800000060,"jti":"j1"}`
)

func TestJWSRoundTrip(t *testing.T) {
	pub, priv := testEdKey(t)
	s, err := NewJWSSigner(priv, "k1", testAudience)
	if err != nil {
		t.Fatal(err)
	}
	id := testIdentity()
	id.Subject = "jos\u00e9, \"admin\"\n" // any UTF-8 travels inside the JWS
	h := http.Header{"Mcp-Gateway-Subject": {"forged"}}
	if err := s.Sign(h, id); err != nil {
		t.Fatal(err)
	}
	if len(ourHeaders(h)) != 1 {
		t.Fatalf("headers: %v", h)
	}
	v, err := NewJWSVerifier(pub, testAudience, clockAt(t0.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(h)
	if err != nil {
		t.Fatal(err)
	}
	want := id
	want.Audience = testAudience
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got %+v\nwant %+v", *got, want)
	}
	hdr, _ := b64.DecodeString(strings.Split(h.Get(HeaderIdentity), ".")[0])
	if string(hdr) != `{"alg":"EdDSA","typ":"mcp-gateway-identity+jwt","kid":"k1"}` {
		t.Errorf("header %s", hdr)
	}
}

func TestJWSVerifyRejects(t *testing.T) {
	pub, priv := testEdKey(t)
	_, other := testEdKey(t)
	tests := []struct {
		name string
		tok  string
		h    http.Header // overrides tok
		want error
	}{
		{name: "good", tok: rawJWS(priv, goodHdr, goodClaims)},
		{name: "no header", h: http.Header{}, want: ErrMissing},
		{name: "other header only", h: http.Header{HeaderSubject: {"u"}}, want: ErrInvalid},
		{name: "extra unsigned header", h: http.Header{HeaderIdentity: {rawJWS(priv, goodHdr, goodClaims)}, HeaderScopes: {"admin"}}, want: ErrInvalid},
		{name: "duplicate header", h: http.Header{HeaderIdentity: {rawJWS(priv, goodHdr, goodClaims), rawJWS(priv, goodHdr, goodClaims)}}, want: ErrInvalid},
		{name: "alg none", tok: rawJWS(nil, `{"alg":"none","typ":"mcp-gateway-identity+jwt"}`, goodClaims), want: ErrInvalid},
		{name: "alg none with good typ, no sig", tok: rawJWS(nil, goodHdr, goodClaims), want: ErrInvalid},
		{name: "HS256 keyed with the public key", tok: func() string {
			in := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"mcp-gateway-identity+jwt"}`)) + "." + b64.EncodeToString([]byte(goodClaims))
			m := hmac.New(sha256.New, pub)
			m.Write([]byte(in))
			return in + "." + b64.EncodeToString(m.Sum(nil))
		}(), want: ErrInvalid},
		{name: "HS256 keyed with the PEM public key", tok: func() string {
			der, _ := x509.MarshalPKIXPublicKey(pub)
			in := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"mcp-gateway-identity+jwt"}`)) + "." + b64.EncodeToString([]byte(goodClaims))
			m := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
			m.Write([]byte(in))
			return in + "." + b64.EncodeToString(m.Sum(nil))
		}(), want: ErrInvalid},
		{name: "alg lower case", tok: rawJWS(priv, `{"alg":"eddsa","typ":"mcp-gateway-identity+jwt"}`, goodClaims), want: ErrInvalid},
		{name: "typ JWT", tok: rawJWS(priv, `{"alg":"EdDSA","typ":"JWT"}`, goodClaims), want: ErrInvalid},
		{name: "no typ", tok: rawJWS(priv, `{"alg":"EdDSA"}`, goodClaims), want: ErrInvalid},
		{name: "crit", tok: rawJWS(priv, `{"alg":"EdDSA","typ":"mcp-gateway-identity+jwt","crit":["b64"]}`, goodClaims), want: ErrInvalid},
		{name: "other key", tok: rawJWS(other, goodHdr, goodClaims), want: ErrInvalid},
		{name: "payload swapped", tok: func() string {
			a := strings.Split(rawJWS(priv, goodHdr, goodClaims), ".")
			a[1] = b64.EncodeToString([]byte(strings.Replace(goodClaims, `"u"`, `"admin"`, 1)))
			return strings.Join(a, ".")
		}(), want: ErrInvalid},
		{name: "aud array", tok: rawJWS(priv, goodHdr, strings.Replace(goodClaims, `"aud":"https://upstream.internal/mcp"`, `"aud":["https://upstream.internal/mcp"]`, 1)), want: ErrInvalid},
		{name: "wrong aud", tok: rawJWS(priv, goodHdr, strings.Replace(goodClaims, "upstream.internal", "other.internal", 1)), want: ErrInvalid},
		{name: "fractional exp", tok: rawJWS(priv, goodHdr, strings.Replace(goodClaims, "1800000060", "1800000060.5", 1)), want: ErrInvalid},
		{name: "no jti", tok: rawJWS(priv, goodHdr, strings.Replace(goodClaims, `"jti":"j1"`, `"x":1`, 1)), want: ErrInvalid},
		{name: "trailing data", tok: rawJWS(priv, goodHdr, goodClaims+"{}"), want: ErrInvalid},
		{name: "expired", tok: rawJWS(priv, goodHdr, strings.Replace(goodClaims, "1800000060", "1799999990", 1)), want: ErrExpired},
		{name: "issued in the future", tok: rawJWS(priv, goodHdr, strings.Replace(goodClaims, "1800000000", "1800000100", 1)), want: ErrInvalid},
		{name: "too old", tok: rawJWS(priv, goodHdr, strings.Replace(strings.Replace(goodClaims, "1800000000", "1799999000", 1), "1800000060", "1800009000", 1)), want: ErrExpired},
		{name: "four parts", tok: rawJWS(priv, goodHdr, goodClaims) + ".x", want: ErrInvalid},
		{name: "padded base64", tok: rawJWS(priv, goodHdr, goodClaims) + "==", want: ErrInvalid},
		{name: "huge", tok: strings.Repeat("a", maxHeaderBytes+1), want: ErrInvalid},
	}
	v, _ := NewJWSVerifier(pub, testAudience, clockAt(t0.Add(30*time.Second)))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			if h == nil {
				h = http.Header{HeaderIdentity: {tt.tok}}
			}
			id, err := v.Verify(h)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.want) || id != nil {
				t.Fatalf("got %+v, %v; want %v", id, err, tt.want)
			}
		})
	}
}

func TestJWSConstructorsAndPEM(t *testing.T) {
	pub, priv := testEdKey(t)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	gotPriv, err := ParseEd25519PrivateKeyPEM(privPEM)
	if err != nil || !gotPriv.Equal(priv) {
		t.Fatalf("private key: %v", err)
	}
	pubPEM, err := MarshalEd25519PublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	gotPub, err := ParseEd25519PublicKeyPEM(pubPEM)
	if err != nil || !gotPub.Equal(pub) {
		t.Fatalf("public key: %v", err)
	}
	if _, err := ParseEd25519PrivateKeyPEM(pubPEM); err == nil {
		t.Error("public PEM accepted as private")
	}
	if _, err := ParseEd25519PublicKeyPEM([]byte("not pem")); err == nil {
		t.Error("garbage accepted")
	}
	if _, err := NewJWSSigner(priv[:10], "", testAudience); err == nil {
		t.Error("short private key accepted")
	}
	if _, err := NewJWSVerifier(pub[:10], testAudience); err == nil {
		t.Error("short public key accepted")
	}
	if _, err := NewJWSVerifier(pub, ""); err == nil {
		t.Error("empty audience accepted")
	}
	s, _ := NewJWSSigner(priv, "", testAudience)
	id := testIdentity()
	id.Scopes = []string{"has space"}
	if _, err := s.Token(id); !errors.Is(err, ErrUnencodable) {
		t.Errorf("bad scope: %v", err)
	}
}

// RFC 8037 Appendix A.3 test vector.
func TestEd25519Thumbprint(t *testing.T) {
	x, _ := b64.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if got := Ed25519Thumbprint(ed25519.PublicKey(x)); got != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Errorf("thumbprint %s", got)
	}
}
