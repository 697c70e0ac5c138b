package authn

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3 requires
// 2048 bits or larger).
const minRSABits = 2048

// keySnapshot is an immutable view of one successful JWKS load.
type keySnapshot struct {
	byKID  map[string]jwk.Key
	all    []jwk.Key
	loaded time.Time // when it was fetched (KeySet.LoadedAt)
}

// find returns the key for kid. An empty kid matches only when the set
// holds exactly one usable key; a verifier then still checks that the key's
// type fits the token's alg.
func (s *keySnapshot) find(kid string) (jwk.Key, bool) {
	if kid == "" {
		if len(s.all) == 1 {
			return s.all[0], true
		}
		return nil, false
	}
	key, ok := s.byKID[kid]
	return key, ok
}

// parseJWKS parses a JWK Set (RFC 7517 §5) with jwx and keeps only public
// signature keys: symmetric ("oct") keys, private keys, keys whose "use" is
// not "sig" (RFC 7517 §4.2), keys whose key_ops exclude "verify" (§4.3),
// RSA keys under 2048 bits and duplicate kids (the first wins) are skipped
// and reported in skipped. A set with no usable key is an error so that a
// broken response never replaces good cached keys. It does not check x5c
// certificate chains.
func parseJWKS(body []byte) (*keySnapshot, []string, error) {
	set, err := jwk.Parse(body)
	if err != nil {
		return nil, nil, fmt.Errorf("parse JWKS: %w", err)
	}
	snap := &keySnapshot{byKID: make(map[string]jwk.Key, set.Len())}
	var skipped []string
	for i := 0; i < set.Len(); i++ {
		key, _ := set.Key(i)
		if reason := UnusableKey(key); reason != "" {
			skipped = append(skipped, fmt.Sprintf("key %d (kid %q): %s", i, key.KeyID(), reason))
			continue
		}
		kid := key.KeyID()
		if kid != "" {
			if _, dup := snap.byKID[kid]; dup {
				skipped = append(skipped, fmt.Sprintf("key %d (kid %q): duplicate kid", i, kid))
				continue
			}
			snap.byKID[kid] = key
		}
		snap.all = append(snap.all, key)
	}
	if len(snap.all) == 0 {
		return nil, skipped, errors.New("JWKS has no usable public signature key")
	}
	return snap, skipped, nil
}

// UnusableKey returns why the key set skips key (it cannot verify access
// token signatures: a private or symmetric key, RSA under 2048 bits, an
// unsupported type, use other than sig, key_ops without verify), or "".
// `mcp-gateway doctor` explains a token's kid with the same rule.
func UnusableKey(key jwk.Key) string {
	// Private interfaces first: a private key also has the public methods.
	switch k := key.(type) {
	case jwk.RSAPrivateKey, jwk.ECDSAPrivateKey, jwk.OKPPrivateKey:
		return "private key"
	case jwk.SymmetricKey:
		return "symmetric key"
	case jwk.RSAPublicKey:
		var raw rsa.PublicKey
		if err := k.Raw(&raw); err != nil {
			return "invalid RSA key"
		}
		if raw.N.BitLen() < minRSABits {
			return "RSA key shorter than 2048 bits"
		}
	case jwk.ECDSAPublicKey, jwk.OKPPublicKey:
	default:
		return "unsupported key type " + key.KeyType().String()
	}
	if use := key.KeyUsage(); use != "" && use != string(jwk.ForSignature) {
		return "use is not sig"
	}
	if ops := key.KeyOps(); len(ops) > 0 && !hasOp(ops, jwk.KeyOpVerify) {
		return "key_ops lacks verify"
	}
	if key.KeyType() == jwa.InvalidKeyType {
		return "invalid kty"
	}
	return ""
}

func hasOp(ops jwk.KeyOperationList, want jwk.KeyOperation) bool {
	for _, op := range ops {
		if op == want {
			return true
		}
	}
	return false
}
