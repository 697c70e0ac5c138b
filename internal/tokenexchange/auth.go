package tokenexchange

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is a SHA-1 thumbprint by definition (RFC 7515 §4.1.7)
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"golang.org/x/oauth2"
)

// Client authentication methods at the token endpoint (RFC 7591 §2
// token_endpoint_auth_method values; private_key_jwt is OpenID Connect
// Core §9's name for RFC 7523 §2.2 client assertions).
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthPrivateKeyJWT     = "private_key_jwt"
)

// ClientAssertionTypeJWTBearer is RFC 7523 §2.2's client_assertion_type.
const ClientAssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime is how long a client assertion is valid: long enough
// for clock skew, short enough that a captured one is soon useless (Okta
// accepts at most an hour, Entra ten minutes).
const assertionLifetime = 5 * time.Minute

// ClientAuth is how the gateway authenticates as a confidential client.
// Build one with [SecretAuth] or [KeyAuth].
type ClientAuth struct {
	method string
	secret string
	key    *assertionKey
}

// SecretAuth authenticates with a client secret, in the Authorization
// header (client_secret_basic, RFC 6749 §2.3.1, the form-encoded id and
// secret) or in the body (client_secret_post).
func SecretAuth(method, secret string) (ClientAuth, error) {
	if method != AuthClientSecretBasic && method != AuthClientSecretPost {
		return ClientAuth{}, fmt.Errorf("client authentication %q is not %s or %s", method, AuthClientSecretBasic, AuthClientSecretPost)
	}
	if secret == "" {
		return ClientAuth{}, errors.New("client secret is empty")
	}
	return ClientAuth{method: method, secret: secret}, nil
}

// KeyAuth authenticates with private_key_jwt: a JWT signed with the PEM
// private key in pemText (PKCS#8, PKCS#1 RSA or SEC 1 EC; RSA at least 2048
// bits, RS256; EC P-256, P-384 or P-521, ES256/384/512). If pemText also
// holds a CERTIFICATE for that key, the assertion's header carries its
// thumbprints x5t and x5t#S256 (RFC 7515 §4.1.7-8), which Entra ID needs to
// find a certificate credential. keyID is the header's kid; "" means the
// key's RFC 7638 thumbprint.
func KeyAuth(pemText []byte, keyID string) (ClientAuth, error) {
	k, err := parseAssertionKey(pemText)
	if err != nil {
		return ClientAuth{}, err
	}
	if keyID == "" {
		pub, err := jwk.FromRaw(k.signer.Public())
		if err != nil {
			return ClientAuth{}, fmt.Errorf("client key: %w", err)
		}
		tp, err := pub.Thumbprint(crypto.SHA256)
		if err != nil {
			return ClientAuth{}, fmt.Errorf("client key thumbprint: %w", err)
		}
		keyID = base64.RawURLEncoding.EncodeToString(tp)
	}
	k.kid = keyID
	return ClientAuth{method: AuthPrivateKeyJWT, key: k}, nil
}

// Method is the authentication method's RFC 7591 name.
func (a ClientAuth) Method() string { return a.method }

// apply sets what authenticates clientID: the x/oauth2 auth style and
// secret, or the client assertion whose aud is aud (the token endpoint,
// RFC 7523 §3, unless configured otherwise) in params.
func (a ClientAuth) apply(params url.Values, clientID, aud string, now time.Time) (oauth2.AuthStyle, string, error) {
	switch a.method {
	case AuthClientSecretBasic:
		return oauth2.AuthStyleInHeader, a.secret, nil
	case AuthClientSecretPost:
		return oauth2.AuthStyleInParams, a.secret, nil
	case AuthPrivateKeyJWT:
		assertion, err := a.key.sign(clientID, aud, now)
		if err != nil {
			return 0, "", err
		}
		params.Set("client_assertion_type", ClientAssertionTypeJWTBearer)
		params.Set("client_assertion", assertion)
		return oauth2.AuthStyleInParams, "", nil
	default:
		return 0, "", errors.New("no client authentication configured")
	}
}

// assertionKey signs client assertions.
type assertionKey struct {
	signer crypto.Signer
	alg    jwa.SignatureAlgorithm
	kid    string
	// x5t and x5tS256 are the certificate's thumbprints, "" without one.
	x5t, x5tS256 string
}

// sign builds RFC 7523 §3's assertion: iss and sub the client id, aud, a
// fresh jti, iat, nbf and a short exp.
func (k *assertionKey) sign(clientID, aud string, now time.Time) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	tok, err := jwt.NewBuilder().
		Issuer(clientID).Subject(clientID).Audience([]string{aud}).
		JwtID(base64.RawURLEncoding.EncodeToString(jti)).
		IssuedAt(now).NotBefore(now).Expiration(now.Add(assertionLifetime)).
		Build()
	if err != nil {
		return "", fmt.Errorf("client assertion: %w", err)
	}
	hdr := jws.NewHeaders()
	for name, v := range map[string]string{jws.KeyIDKey: k.kid, jws.TypeKey: "JWT", jws.X509CertThumbprintKey: k.x5t, jws.X509CertThumbprintS256Key: k.x5tS256} {
		if v == "" {
			continue
		}
		if err := hdr.Set(name, v); err != nil {
			return "", fmt.Errorf("client assertion header: %w", err)
		}
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(k.alg, k.signer, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	return string(signed), nil
}

// parseAssertionKey reads the first private key of pemText and, if present,
// a certificate whose public key is that key's.
func parseAssertionKey(pemText []byte) (*assertionKey, error) {
	var (
		k     *assertionKey
		certs []*x509.Certificate
	)
	for rest := pemText; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("client certificate: %w", err)
			}
			certs = append(certs, c)
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if k != nil {
				return nil, errors.New("client key: more than one private key")
			}
			s, err := parsePrivateKey(b)
			if err != nil {
				return nil, err
			}
			if k, err = newAssertionKey(s); err != nil {
				return nil, err
			}
		}
	}
	if k == nil {
		return nil, errors.New("client key: no PEM private key found")
	}
	for _, c := range certs {
		if pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(k.signer.Public()) {
			s1, s256 := sha1.Sum(c.Raw), sha256.Sum256(c.Raw) //nolint:gosec // see import
			k.x5t = base64.RawURLEncoding.EncodeToString(s1[:])
			k.x5tS256 = base64.RawURLEncoding.EncodeToString(s256[:])
			return k, nil
		}
	}
	if len(certs) > 0 {
		return nil, errors.New("client certificate: no certificate is for the private key")
	}
	return k, nil
}

func parsePrivateKey(b *pem.Block) (crypto.Signer, error) {
	var (
		key any
		err error
	)
	switch b.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("client key: %w", err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("client key: %T cannot sign", key)
	}
	return s, nil
}

// newAssertionKey picks the JWS algorithm of a key: RS256 for RSA (the one
// every IdP accepts), ES256/384/512 by curve. Other keys are refused.
func newAssertionKey(s crypto.Signer) (*assertionKey, error) {
	switch pub := s.Public().(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 {
			return nil, fmt.Errorf("client key: RSA key of %d bits; at least 2048 are needed", pub.N.BitLen())
		}
		return &assertionKey{signer: s, alg: jwa.RS256}, nil
	case *ecdsa.PublicKey:
		switch pub.Curve {
		case elliptic.P256():
			return &assertionKey{signer: s, alg: jwa.ES256}, nil
		case elliptic.P384():
			return &assertionKey{signer: s, alg: jwa.ES384}, nil
		case elliptic.P521():
			return &assertionKey{signer: s, alg: jwa.ES512}, nil
		}
		return nil, errors.New("client key: EC curve is not P-256, P-384 or P-521")
	default:
		return nil, fmt.Errorf("client key: %T keys are not supported (use RSA or EC)", pub)
	}
}
