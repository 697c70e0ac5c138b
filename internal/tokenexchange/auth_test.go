package tokenexchange_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is SHA-1 by definition
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/mcp-gateway/mcp-gateway/internal/tokenexchange"
)

var b64 = base64.RawURLEncoding

func TestClientSecretBasic(t *testing.T) {
	te := newTokenEndpoint(t, nil)
	if _, err := newExchanger(t, options(t, te)).Exchange(context.Background(), subjectToken); err != nil {
		t.Fatal(err)
	}
	r := te.only(t)
	// RFC 6749 §2.3.1: the id and secret are form-urlencoded, then joined
	// with ":" and base64-encoded.
	h := r.Header.Get("Authorization")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
	if !strings.HasPrefix(h, "Basic ") || err != nil {
		t.Fatalf("Authorization = %q (%v), want Basic credentials", h, err)
	}
	if want := url.QueryEscape(clientID) + ":" + url.QueryEscape(clientSecret); string(raw) != want {
		t.Errorf("basic credentials = %q, want %q", raw, want)
	}
	for _, p := range []string{"client_id", "client_secret", "client_assertion", "client_assertion_type"} {
		if r.Form.Has(p) {
			t.Errorf("body carries %s with client_secret_basic", p)
		}
	}
}

func TestClientSecretPost(t *testing.T) {
	te := newTokenEndpoint(t, nil)
	o := options(t, te)
	o.Auth = secretAuth(t, tokenexchange.AuthClientSecretPost)
	if _, err := newExchanger(t, o).Exchange(context.Background(), subjectToken); err != nil {
		t.Fatal(err)
	}
	r := te.only(t)
	if h := r.Header.Get("Authorization"); h != "" {
		t.Errorf("Authorization = %q with client_secret_post", h)
	}
	if r.Form.Get("client_id") != clientID || r.Form.Get("client_secret") != clientSecret {
		t.Errorf("body client_id=%q client_secret=%q", r.Form.Get("client_id"), r.Form.Get("client_secret"))
	}
	if r.Form.Has("client_assertion") {
		t.Error("client_assertion with client_secret_post")
	}
}

func TestSecretAuthRefused(t *testing.T) {
	for _, tt := range []struct{ method, secret, want string }{
		{"", clientSecret, "is not"},
		{"none", clientSecret, "is not"},
		{tokenexchange.AuthPrivateKeyJWT, clientSecret, "is not"},
		{tokenexchange.AuthClientSecretBasic, "", "empty"},
	} {
		_, err := tokenexchange.SecretAuth(tt.method, tt.secret)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SecretAuth(%q) = %v, want %q", tt.method, err, tt.want)
		}
		if err != nil && tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
			t.Errorf("error %q shows the secret", err)
		}
	}
	for _, m := range []string{tokenexchange.AuthClientSecretBasic, tokenexchange.AuthClientSecretPost} {
		if got := secretAuth(t, m).Method(); got != m {
			t.Errorf("Method() = %q, want %q", got, m)
		}
	}
}

// thumbprint computes RFC 7638 §3 by hand: SHA-256 of the required members
// in lexicographic order, without whitespace.
func thumbprint(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	var j string
	switch k := pub.(type) {
	case *rsa.PublicKey:
		j = fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, b64.EncodeToString(big.NewInt(int64(k.E)).Bytes()), b64.EncodeToString(k.N.Bytes()))
	case *ecdsa.PublicKey:
		pt, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		n := (len(pt) - 1) / 2
		j = fmt.Sprintf(`{"crv":"%s","kty":"EC","x":"%s","y":"%s"}`, k.Curve.Params().Name, b64.EncodeToString(pt[1:1+n]), b64.EncodeToString(pt[1+n:]))
	default:
		t.Fatalf("thumbprint of %T", pub)
	}
	sum := sha256.Sum256([]byte(j))
	return b64.EncodeToString(sum[:])
}

// assertions runs two exchanges with auth and returns the client
// assertions the token endpoint received, after checking the rest of the
// client authentication (client_id in the body, no secret, no header).
func assertions(t *testing.T, auth tokenexchange.ClientAuth) (tokenURL string, got []string) {
	t.Helper()
	te := newTokenEndpoint(t, nil)
	o := options(t, te)
	o.Auth = auth
	ex := newExchanger(t, o)
	for range 2 {
		if _, err := ex.Exchange(context.Background(), subjectToken); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range te.requests() {
		if r.Form.Get("client_id") != clientID || r.Form.Get("client_assertion_type") != tokenexchange.ClientAssertionTypeJWTBearer {
			t.Errorf("client_id=%q client_assertion_type=%q", r.Form.Get("client_id"), r.Form.Get("client_assertion_type"))
		}
		if r.Form.Has("client_secret") || r.Header.Get("Authorization") != "" {
			t.Error("a secret or an Authorization header with private_key_jwt")
		}
		got = append(got, r.Form.Get("client_assertion"))
	}
	return te.tokenURL(), got
}

func TestPrivateKeyJWT(t *testing.T) {
	keys(t)
	for _, tt := range []struct {
		name string
		pem  []byte
		pub  crypto.PublicKey
		alg  jwa.SignatureAlgorithm
	}{
		{"RSA PKCS#8", pkcs8(t, rsaKey), &rsaKey.PublicKey, jwa.RS256},
		{"RSA PKCS#1", pkcs1(rsaKey), &rsaKey.PublicKey, jwa.RS256},
		{"EC P-256 PKCS#8", pkcs8(t, ecKey), &ecKey.PublicKey, jwa.ES256},
		{"EC P-256 SEC1", sec1(t, ecKey), &ecKey.PublicKey, jwa.ES256},
		{"EC P-384 SEC1", sec1(t, ecP384), &ecP384.PublicKey, jwa.ES384},
	} {
		for _, kid := range []string{"", "explicit-kid"} {
			t.Run(fmt.Sprintf("%s kid=%q", tt.name, kid), func(t *testing.T) {
				auth, err := tokenexchange.KeyAuth(tt.pem, kid)
				if err != nil {
					t.Fatal(err)
				}
				if auth.Method() != tokenexchange.AuthPrivateKeyJWT {
					t.Errorf("Method() = %q", auth.Method())
				}
				wantKID := kid
				if kid == "" {
					wantKID = thumbprint(t, tt.pub)
				}
				tokenURL, got := assertions(t, auth)
				jtis := map[string]bool{}
				for _, a := range got {
					tok, err := jwt.Parse([]byte(a), jwt.WithKey(tt.alg, tt.pub),
						jwt.WithClock(jwt.ClockFunc(func() time.Time { return now })))
					if err != nil {
						t.Fatalf("assertion does not verify with the public key: %v", err)
					}
					if tok.Issuer() != clientID || tok.Subject() != clientID {
						t.Errorf("iss=%q sub=%q, want the client id", tok.Issuer(), tok.Subject())
					}
					if aud := tok.Audience(); len(aud) != 1 || aud[0] != tokenURL {
						t.Errorf("aud = %v, want [%s]", aud, tokenURL)
					}
					if !tok.IssuedAt().Equal(now) || !tok.NotBefore().Equal(now) || tok.Expiration().Sub(tok.IssuedAt()) != 5*time.Minute {
						t.Errorf("iat=%v nbf=%v exp=%v, want now, now, now+5m", tok.IssuedAt(), tok.NotBefore(), tok.Expiration())
					}
					if tok.JwtID() == "" || jtis[tok.JwtID()] {
						t.Errorf("jti %q empty or reused", tok.JwtID())
					}
					jtis[tok.JwtID()] = true
					h := header(t, a)
					if h.KeyID() != wantKID || h.Algorithm() != tt.alg || h.Type() != "JWT" {
						t.Errorf("header kid=%q alg=%s typ=%q, want kid %q alg %s typ JWT", h.KeyID(), h.Algorithm(), h.Type(), wantKID, tt.alg)
					}
					if h.X509CertThumbprint() != "" || h.X509CertThumbprintS256() != "" {
						t.Error("x5t without a certificate")
					}
				}
			})
		}
	}
}

func header(t *testing.T, compact string) jws.Headers {
	t.Helper()
	msg, err := jws.Parse([]byte(compact))
	if err != nil || len(msg.Signatures()) != 1 {
		t.Fatalf("jws.Parse: %v", err)
	}
	return msg.Signatures()[0].ProtectedHeaders()
}

func TestPrivateKeyJWTCertificateThumbprints(t *testing.T) {
	keys(t)
	rsaCert, ecCert := certificate(t, rsaKey), certificate(t, ecKey)
	otherCert := certificate(t, rsaOther)
	for _, tt := range []struct {
		name string
		pem  []byte
		cert []byte
	}{
		{"RSA key then certificate", cat(pkcs8(t, rsaKey), pemBlock("CERTIFICATE", rsaCert)), rsaCert},
		{"certificate then EC key", cat(pemBlock("CERTIFICATE", ecCert), sec1(t, ecKey)), ecCert},
		{"chain: another certificate, then the key's", cat(pkcs1(rsaKey), pemBlock("CERTIFICATE", otherCert), pemBlock("CERTIFICATE", rsaCert)), rsaCert},
	} {
		t.Run(tt.name, func(t *testing.T) {
			auth, err := tokenexchange.KeyAuth(tt.pem, "")
			if err != nil {
				t.Fatal(err)
			}
			_, got := assertions(t, auth)
			s1, s256 := sha1.Sum(tt.cert), sha256.Sum256(tt.cert) //nolint:gosec // x5t
			h := header(t, got[0])
			if h.X509CertThumbprint() != b64.EncodeToString(s1[:]) {
				t.Errorf("x5t = %q, want %q", h.X509CertThumbprint(), b64.EncodeToString(s1[:]))
			}
			if h.X509CertThumbprintS256() != b64.EncodeToString(s256[:]) {
				t.Errorf("x5t#S256 = %q, want %q", h.X509CertThumbprintS256(), b64.EncodeToString(s256[:]))
			}
		})
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestKeyAuthRefused(t *testing.T) {
	keys(t)
	garbageKey := pemBlock("PRIVATE KEY", []byte("not DER at all"))
	for _, tt := range []struct {
		name string
		pem  []byte
		want string
	}{
		{"RSA 1024 PKCS#8", pkcs8(t, rsaSmall), "at least 2048"},
		{"RSA 1024 PKCS#1", pkcs1(rsaSmall), "at least 2048"},
		{"Ed25519", pkcs8(t, edKey), "not supported"},
		{"EC P-224", sec1(t, ecP224), "curve"},
		{"not PEM", []byte("-----BEGIN nonsense"), "no PEM private key"},
		{"empty", nil, "no PEM private key"},
		{"garbage in a PRIVATE KEY block", garbageKey, "client key"},
		{"garbage in an EC PRIVATE KEY block", pemBlock("EC PRIVATE KEY", []byte{1, 2, 3}), "client key"},
		{"certificate only", pemBlock("CERTIFICATE", certificate(t, rsaKey)), "no PEM private key"},
		{"garbage certificate", cat(pkcs8(t, rsaKey), pemBlock("CERTIFICATE", []byte("junk"))), "client certificate"},
		{"certificate for another key", cat(pkcs8(t, rsaKey), pemBlock("CERTIFICATE", certificate(t, rsaOther))), "no certificate is for the private key"},
		{"two private keys", cat(pkcs8(t, rsaKey), sec1(t, ecKey)), "more than one"},
		{"public key", pemBlock("PUBLIC KEY", []byte("x")), "no PEM private key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tokenexchange.KeyAuth(tt.pem, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("KeyAuth = %v, want an error with %q", err, tt.want)
			}
			// The error names the problem, never the key material.
			if body := pemBody(tt.pem); body != "" && strings.Contains(err.Error(), body) {
				t.Errorf("error %q shows key material", err)
			}
		})
	}
}

// pemBody is the first base64 line of a PEM text, "" if none.
func pemBody(p []byte) string {
	lines := strings.Split(string(p), "\n")
	if len(lines) < 2 || len(lines[1]) < 16 {
		return ""
	}
	return lines[1]
}

// A zero ClientAuth, or one made by neither constructor, authenticates
// nothing: New refuses it.
func TestZeroClientAuthRefused(t *testing.T) {
	te := newTokenEndpoint(t, nil)
	o := options(t, te)
	o.Auth = tokenexchange.ClientAuth{}
	if _, err := tokenexchange.New(o); err == nil || !strings.Contains(err.Error(), "no client authentication") {
		t.Fatalf("New = %v", err)
	}
	if n := len(te.requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

// TestAssertionAudience: a configured assertion audience (Auth0's tenant
// URL) replaces the token endpoint as the client assertion's aud.
func TestAssertionAudience(t *testing.T) {
	keys(t)
	auth, err := tokenexchange.KeyAuth(pkcs8(t, rsaKey), "")
	if err != nil {
		t.Fatal(err)
	}
	te := newTokenEndpoint(t, nil)
	o := options(t, te)
	o.Auth, o.AssertionAudience = auth, "https://tenant.example/"
	if _, err := newExchanger(t, o).Exchange(context.Background(), subjectToken); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseString(te.only(t).Form.Get("client_assertion"), jwt.WithKey(jwa.RS256, &rsaKey.PublicKey), jwt.WithValidate(false))
	if err != nil {
		t.Fatal(err)
	}
	if aud := tok.Audience(); len(aud) != 1 || aud[0] != "https://tenant.example/" {
		t.Errorf("aud = %v", aud)
	}
}
