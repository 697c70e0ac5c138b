package authntest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// MintOption changes how Mint builds a token.
type MintOption func(*mint)

type mint struct {
	alg        string
	kid        *string
	key        any // *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey or []byte (HMAC)
	set        map[string]any
	del        []string
	rawHeader  *string
	rawPayload *[]byte
}

// WithAlg sets the header alg and picks the matching issuer key: ES* the
// EC key, EdDSA the Ed25519 key, others the current RSA key. "none"
// produces an empty signature.
func WithAlg(alg string) MintOption { return func(m *mint) { m.alg = alg } }

// WithKID sets the header kid (overriding the key's own).
func WithKID(kid string) MintOption { return func(m *mint) { m.kid = &kid } }

// WithoutKID omits the kid header.
func WithoutKID() MintOption { return WithoutHeader("kid") }

// WithoutHeader omits a header parameter (kid, typ, alg).
func WithoutHeader(name string) MintOption { return func(m *mint) { m.del = append(m.del, name) } }

// WithKey signs with key instead of the issuer's: an *rsa.PrivateKey,
// *ecdsa.PrivateKey, ed25519.PrivateKey, or []byte for HS* algs.
func WithKey(key any) MintOption { return func(m *mint) { m.key = key } }

// WithHeader sets any header parameter (jku, x5c, crit, typ, ...).
func WithHeader(name string, value any) MintOption {
	return func(m *mint) { m.set[name] = value }
}

// WithRawHeader uses header verbatim as the JOSE header JSON (it may be
// invalid JSON, an array, hold duplicate names...). alg still picks the
// signing key.
func WithRawHeader(header string) MintOption { return func(m *mint) { m.rawHeader = &header } }

// WithRawPayload signs payload verbatim instead of the JSON of claims.
func WithRawPayload(payload []byte) MintOption { return func(m *mint) { m.rawPayload = &payload } }

// Mint signs claims as a compact JWS. By default: RS256 with the current
// RSA key, header {"alg","kid","typ":"at+jwt"}.
func (i *Issuer) Mint(claims map[string]any, opts ...MintOption) string {
	i.t.Helper()
	rsaKey, rsaKID := i.RSA()
	m := &mint{alg: "RS256", set: map[string]any{}}
	for _, o := range opts {
		o(m)
	}
	kid := rsaKID
	if m.key == nil {
		switch {
		case strings.HasPrefix(m.alg, "ES"):
			m.key, kid = i.EC, i.ECKID
		case m.alg == "EdDSA":
			m.key, kid = i.Ed, i.EdKID
		default:
			m.key = rsaKey
		}
	}
	if m.kid != nil {
		kid = *m.kid
	}
	hdr := map[string]any{"alg": m.alg, "kid": kid, "typ": "at+jwt"}
	for k, v := range m.set {
		hdr[k] = v
	}
	for _, k := range m.del {
		delete(hdr, k)
	}
	var hb, pb []byte
	if m.rawHeader != nil {
		hb = []byte(*m.rawHeader)
	} else {
		hb = mustJSON(i, hdr)
	}
	if m.rawPayload != nil {
		pb = *m.rawPayload
	} else {
		pb = mustJSON(i, claims)
	}
	input := B64(hb) + "." + B64(pb)
	return input + "." + B64(i.sign(m.alg, m.key, input))
}

func mustJSON(i *Issuer, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		i.t.Fatal(err)
	}
	return b
}

// B64 is unpadded base64url (RFC 7515 §2).
func B64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

var hashes = map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}

// Sign signs input under alg with key; exported so callers can re-sign
// hand-built inputs.
func (i *Issuer) Sign(alg string, key any, input string) []byte { return i.sign(alg, key, input) }

func (i *Issuer) sign(alg string, key any, input string) []byte {
	if strings.EqualFold(alg, "none") {
		return nil
	}
	h, ok := hashes[alg[len(alg)-3:]]
	if !ok && alg != "EdDSA" {
		h = crypto.SHA256
	}
	var digest []byte
	if alg != "EdDSA" {
		hh := h.New()
		hh.Write([]byte(input))
		digest = hh.Sum(nil)
	}
	var sig []byte
	var err error
	switch k := key.(type) {
	case []byte:
		mac := hmac.New(h.New, k)
		mac.Write([]byte(input))
		sig = mac.Sum(nil)
	case *rsa.PrivateKey:
		if strings.HasPrefix(alg, "PS") {
			sig, err = rsa.SignPSS(rand.Reader, k, h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, h, digest)
		}
	case *ecdsa.PrivateKey:
		r, s, e := ecdsa.Sign(rand.Reader, k, digest)
		err = e
		size := (k.Curve.Params().BitSize + 7) / 8
		if err == nil {
			sig = append(r.FillBytes(make([]byte, size)), s.FillBytes(make([]byte, size))...)
		}
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(input))
	default:
		i.t.Fatalf("authntest: unsupported signing key %T", key)
	}
	if err != nil {
		i.t.Fatal(err)
	}
	return sig
}
