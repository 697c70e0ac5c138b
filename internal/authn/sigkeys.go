package authn

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"math/big"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// maxKeyFacts bounds keyFactsCache; issuers publish a handful of keys, so
// reaching it means churn and the cache simply starts over.
const maxKeyFacts = 64

// keyFacts is what checkKey and verifySignature need of one jwk.Key,
// computed once per key (the jwx interface calls, the big-integer
// conversion to a crypto public key), so that a token costs one map load.
type keyFacts struct {
	// unusable is the error for a key that may never verify (private or
	// symmetric, "use" or "key_ops" excluding verification), else nil.
	unusable error
	kty      jwa.KeyType
	crv      string // "" unless EC or OKP
	alg      string // the key's pinned "alg" (RFC 7517 §4.4), or ""
	// The crypto public key, one of them set; pubErr is set instead when
	// jwx could not produce one.
	rsaPub *rsa.PublicKey
	ecPub  *ecdsa.PublicKey
	edPub  ed25519.PublicKey
	pubErr error
}

// newKeyFacts inspects key once. Rules are checkKey's; see there.
func newKeyFacts(key jwk.Key) *keyFacts {
	f := &keyFacts{kty: key.KeyType()}
	switch k := key.(type) {
	case jwk.RSAPrivateKey, jwk.ECDSAPrivateKey, jwk.OKPPrivateKey, jwk.SymmetricKey:
		f.unusable = invalid(ReasonKey, "key is not a public signature key")
	case jwk.RSAPublicKey:
	case jwk.ECDSAPublicKey:
		f.crv = k.Crv().String()
	case jwk.OKPPublicKey:
		f.crv = k.Crv().String()
	default:
		f.unusable = invalid(ReasonKey, "key is not a public signature key")
	}
	if f.unusable == nil {
		if use := key.KeyUsage(); use != "" && use != string(jwk.ForSignature) {
			f.unusable = invalid(ReasonKey, "key is not usable for signatures")
		} else if ops := key.KeyOps(); len(ops) > 0 && !hasOp(ops, jwk.KeyOpVerify) {
			f.unusable = invalid(ReasonKey, "key is not usable for signatures")
		}
	}
	if ka := key.Algorithm(); ka != nil {
		f.alg = ka.String()
	}
	pub, err := jwk.PublicRawKeyOf(key)
	if err != nil {
		f.pubErr = invalid(ReasonKey, "key is not a public signature key")
		return f
	}
	// Another type (an X25519 key) fails as a signature, as with jwx.
	switch p := pub.(type) {
	case *rsa.PublicKey:
		f.rsaPub = p
	case *ecdsa.PublicKey:
		f.ecPub = p
	case ed25519.PublicKey:
		f.edPub = p
	}
	return f
}

// checkKey ensures the key described by f may verify alg: a public key
// (never symmetric or private), whose "use"/"key_ops" allow verification
// (RFC 7517 §4.2, §4.3), whose kty fits the alg family and whose curve fits
// ES*/EdDSA (RFC 7518 §3.4, RFC 8037 §3.1), and whose "alg" if set equals
// the token's alg (RFC 7517 §4.4). Key size is checked when a KeySet loads
// keys, not here.
func checkKey(f *keyFacts, alg *algSpec) error {
	if f.unusable != nil {
		return f.unusable
	}
	if f.kty != alg.kty {
		return invalid(ReasonAlgorithm, "alg does not match the key type")
	}
	if alg.crv != "" && f.crv != alg.crv {
		return invalid(ReasonAlgorithm, "alg does not match the key curve")
	}
	if f.alg != "" && f.alg != alg.name {
		return invalid(ReasonAlgorithm, "alg does not match the key's alg")
	}
	if f.pubErr != nil {
		return f.pubErr
	}
	return nil
}

// keyFactsCache memoizes keyFacts per jwk.Key: reads are one atomic load
// and a map lookup, writes copy the map. Keys are immutable once a KeySet
// published them; a faked KeyLookup that mutates keys in place must not be
// used with a long-lived Verifier.
type keyFactsCache struct {
	mu sync.Mutex // serializes writers
	m  atomic.Pointer[map[jwk.Key]*keyFacts]
}

func (c *keyFactsCache) get(key jwk.Key) *keyFacts {
	if m := c.m.Load(); m != nil {
		if f, ok := (*m)[key]; ok {
			return f
		}
	}
	f := newKeyFacts(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	next := make(map[jwk.Key]*keyFacts, 8)
	if old := c.m.Load(); old != nil && len(*old) < maxKeyFacts {
		for k, v := range *old {
			next[k] = v
		}
	}
	next[key] = f
	c.m.Store(&next)
	return f
}

// stringBytes views s as bytes without copying. The result must only be
// read (hashed, verified) and not kept.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// digest hashes msg with h (SHA-256/384/512) into buf.
func digest(h crypto.Hash, msg []byte, buf *[sha512.Size]byte) []byte {
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(msg)
		return append(buf[:0], d[:]...)
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		return append(buf[:0], d[:]...)
	default:
		d := sha512.Sum512(msg)
		return append(buf[:0], d[:]...)
	}
}

// verifySignature checks the signature over the exact received signing
// input, hashed once, with the standard library and the one key chosen by
// kid (checked by checkKey): RSASSA-PKCS1-v1_5 (RFC 7518 §3.3);
// RSASSA-PSS with MGF1 of the same hash and a salt as long as the hash
// (RFC 7518 §3.5; other salt lengths are refused); ECDSA whose signature is
// exactly the fixed-length r||s of the curve (RFC 7518 §3.4; ASN.1 DER is
// refused); Ed25519 (RFC 8037 §3.1).
func verifySignature(c *compact, f *keyFacts) error {
	alg := c.header.alg
	msg := stringBytes(c.signingInput)
	var buf [sha512.Size]byte
	ok := false
	switch alg.family {
	case famPKCS1:
		ok = f.rsaPub != nil && rsa.VerifyPKCS1v15(f.rsaPub, alg.hash, digest(alg.hash, msg, &buf), c.signature) == nil
	case famPSS:
		opts := rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
		ok = f.rsaPub != nil && rsa.VerifyPSS(f.rsaPub, alg.hash, digest(alg.hash, msg, &buf), c.signature, &opts) == nil
	case famECDSA:
		if f.ecPub != nil && len(c.signature) == 2*alg.ecSize {
			r := new(big.Int).SetBytes(c.signature[:alg.ecSize])
			s := new(big.Int).SetBytes(c.signature[alg.ecSize:])
			ok = ecdsa.Verify(f.ecPub, digest(alg.hash, msg, &buf), r, s)
		}
	case famEdDSA:
		ok = len(f.edPub) == ed25519.PublicKeySize && ed25519.Verify(f.edPub, msg, c.signature)
	}
	if !ok {
		return invalid(ReasonSignature, "signature verification failed")
	}
	return nil
}
