package mcpidentity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
)

// ParseEd25519PrivateKeyPEM reads a PEM "PRIVATE KEY" block holding a PKCS#8
// (RFC 5208, RFC 8410) Ed25519 key, as `openssl genpkey -algorithm ed25519`
// writes it. Other key types and block types are refused; encrypted keys
// are not supported.
func ParseEd25519PrivateKeyPEM(data []byte) (ed25519.PrivateKey, error) {
	der, err := pemBlock(data, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("mcpidentity: parse PKCS#8 key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("mcpidentity: PKCS#8 key is %T, not Ed25519", k)
	}
	return priv, nil
}

// ParseEd25519PublicKeyPEM reads a PEM "PUBLIC KEY" block holding a PKIX
// (RFC 5280, RFC 8410) Ed25519 public key, as `openssl pkey -pubout`
// writes it: what an upstream configures to verify JWS-mode identities.
func ParseEd25519PublicKeyPEM(data []byte) (ed25519.PublicKey, error) {
	der, err := pemBlock(data, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("mcpidentity: parse PKIX public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("mcpidentity: public key is %T, not Ed25519", k)
	}
	return pub, nil
}

// MarshalEd25519PublicKeyPEM encodes pub as a PEM "PUBLIC KEY" block, the
// form [ParseEd25519PublicKeyPEM] reads.
func MarshalEd25519PublicKeyPEM(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("mcpidentity: marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

func pemBlock(data []byte, typ string) ([]byte, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("mcpidentity: no PEM block found")
	}
	if b.Type != typ {
		return nil, fmt.Errorf("mcpidentity: PEM block is %q, want %q", b.Type, typ)
	}
	return b.Bytes, nil
}

// Ed25519Thumbprint returns the RFC 7638 JWK thumbprint (SHA-256,
// base64url) of pub, a stable "kid" for JWS-mode keys (RFC 8037 §2 OKP
// members crv, kty, x in lexicographic order).
func Ed25519Thumbprint(pub ed25519.PublicKey) string {
	jwk := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(jwk))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
