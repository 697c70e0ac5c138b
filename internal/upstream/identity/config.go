package identity

import (
	"crypto/ed25519"
	"fmt"

	"github.com/mcp-gateway/mcp-gateway/pkg/mcpidentity"
)

// Route identity modes (internal/config Route.Identity).
const (
	ModeNone   = "none"
	ModeHMAC   = "hmac"
	ModeJWS    = "jws"
	ModeStatic = "static"
)

// FromConfig builds a route's injector from its configuration: mode is the
// route's identity ("" means none); keyEnv names the variable holding the
// HMAC key (its value's bytes, at least 32) or, for jws, a PEM "PRIVATE
// KEY" (PKCS#8 Ed25519; the JWS "kid" is its RFC 7638 thumbprint); staticEnv names the variable whose value is the
// upstream's Authorization header; audience is what signed identities are
// bound to and must equal what the upstream's verifier expects (the
// upstream URL for an HTTP route is a good choice). getenv is os.Getenv
// outside tests. Error messages name variables, never their values.
func FromConfig(mode, keyEnv, staticEnv, audience string, getenv func(string) string) (Injector, error) {
	switch mode {
	case "", ModeNone:
		return None{}, nil
	case ModeHMAC:
		key, err := required(getenv, keyEnv)
		if err != nil {
			return nil, err
		}
		s, err := mcpidentity.NewHMACSigner([]byte(key), audience)
		if err != nil {
			return nil, fmt.Errorf("identity hmac from $%s: %w", keyEnv, err)
		}
		return NewSigned(s), nil
	case ModeJWS:
		pemText, err := required(getenv, keyEnv)
		if err != nil {
			return nil, err
		}
		priv, err := mcpidentity.ParseEd25519PrivateKeyPEM([]byte(pemText))
		if err != nil {
			return nil, fmt.Errorf("identity jws from $%s: %w", keyEnv, err)
		}
		s, err := mcpidentity.NewJWSSigner(priv, mcpidentity.Ed25519Thumbprint(priv.Public().(ed25519.PublicKey)), audience)
		if err != nil {
			return nil, fmt.Errorf("identity jws: %w", err)
		}
		return NewSigned(s), nil
	case ModeStatic:
		cred, err := required(getenv, staticEnv)
		if err != nil {
			return nil, err
		}
		s, err := NewStatic(cred)
		if err != nil {
			return nil, fmt.Errorf("identity static from $%s: %w", staticEnv, err)
		}
		return s, nil
	default:
		return nil, fmt.Errorf("identity: mode %q is not none, hmac, jws or static", mode)
	}
}

func required(getenv func(string) string, name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("identity: no environment variable named for the key")
	}
	v := getenv(name)
	if v == "" {
		return "", fmt.Errorf("identity: environment variable $%s is not set", name)
	}
	return v, nil
}
