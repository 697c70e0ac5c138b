package authn

// legacy_jose_test.go and legacy_claims_test.go keep the verification
// path as it was before the single-pass decoder (jsonscan.go,
// claimplan.go) and direct crypto (sigkeys.go): json.Decoder-into-map
// decoding, header and claim checks over the map, and the jwx signature
// verifier, verbatim but for the "legacy" prefix on names, the token cache
// left out and the claims map returned instead of stored in the Principal.
// FuzzDecoderEquivalence (equiv_fuzz_test.go) holds the new path to it.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// legacyDecodeSegment decodes one compact-serialization segment: unpadded
// base64url (RFC 7515 §2, §3.1) with nothing but the 64 alphabet
// characters. Padding, "+", "/", whitespace and line breaks are rejected
// (Go's decoder would silently skip CR and LF); Strict rejects non-zero
// trailing bits, so every byte string has one encoding.
func legacyDecodeSegment(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return nil, errors.New("not base64url")
		}
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// legacyDecodeObject parses data as exactly one JSON object and returns its
// members. Numbers are kept as json.Number. It rejects invalid UTF-8,
// anything that is not an object (arrays, strings such as a nested JWT),
// trailing data, and duplicate member names at the top level (RFC 7515
// §5.2 step 4 and RFC 7519 §7.2 step 4 allow rejecting them; the "last one
// wins" alternative lets a token mean different things to different
// parsers). Duplicates inside nested values are not checked.
func legacyDecodeObject(data []byte) (map[string]any, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, errors.New("not JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	obj := make(map[string]any, 16)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("not JSON")
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("not JSON")
		}
		if _, dup := obj[name]; dup {
			return nil, errors.New("duplicate member " + quoteName(name))
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("not JSON")
		}
		obj[name] = v
	}
	if _, err := dec.Token(); err != nil { // closing '}'
		return nil, errors.New("not JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON object")
	}
	return obj, nil
}

// legacyKeyReq is what a JWS alg demands of the verification key.
type legacyKeyReq struct {
	kty jwa.KeyType
	crv string // "" for RSA
}

// legacyAllowedAlgs are the asymmetric JWS algorithms accepted (RFC 7518 §3.1,
// RFC 8037 §3.1). "none" and every HMAC alg are absent on purpose: with
// them a public key or no key at all would "verify". Names are
// case-sensitive (RFC 7515 §4.1.1), so "None" or "rs256" are unknown.
var legacyAllowedAlgs = map[string]legacyKeyReq{
	"RS256": {kty: jwa.RSA}, "RS384": {kty: jwa.RSA}, "RS512": {kty: jwa.RSA},
	"PS256": {kty: jwa.RSA}, "PS384": {kty: jwa.RSA}, "PS512": {kty: jwa.RSA},
	"ES256": {kty: jwa.EC, crv: "P-256"},
	"ES384": {kty: jwa.EC, crv: "P-384"},
	"ES512": {kty: jwa.EC, crv: "P-521"},
	"EdDSA": {kty: jwa.OKP, crv: "Ed25519"},
}

// legacyJoseHeader is the checked JOSE header of a legacyCompact JWS.
type legacyJoseHeader struct {
	alg string
	kid string
}

// legacyCompact is a token split into its three JWS Compact Serialization parts
// (RFC 7515 §7.1).
type legacyCompact struct {
	signingInput string // BASE64URL(header) "." BASE64URL(payload), as received
	header       legacyJoseHeader
	payload      []byte // decoded, not yet parsed
	signature    []byte
}

// legacySplitCompact checks the token's shape before any cryptography: exactly
// three non-empty dot-separated segments (so JWE's five segments, the JWS
// JSON serialization and unsigned tokens are rejected), strict base64url,
// and a header that is a JSON object with acceptable parameters.
func legacySplitCompact(raw string, typs []string) (*legacyCompact, error) {
	if strings.Count(raw, ".") != 2 {
		return nil, invalid(ReasonMalformed, "token is not a legacyCompact JWS (need 3 segments)")
	}
	first := strings.IndexByte(raw, '.')
	second := first + 1 + strings.IndexByte(raw[first+1:], '.')
	h64, p64, s64 := raw[:first], raw[first+1:second], raw[second+1:]
	if h64 == "" || p64 == "" || s64 == "" {
		return nil, invalid(ReasonMalformed, "token has an empty segment")
	}
	hb, err := legacyDecodeSegment(h64)
	if err != nil {
		return nil, invalid(ReasonMalformed, "header is not base64url")
	}
	payload, err := legacyDecodeSegment(p64)
	if err != nil {
		return nil, invalid(ReasonMalformed, "payload is not base64url")
	}
	sig, err := legacyDecodeSegment(s64)
	if err != nil {
		return nil, invalid(ReasonMalformed, "signature is not base64url")
	}
	hdr, err := legacyCheckHeader(hb, typs)
	if err != nil {
		return nil, err
	}
	return &legacyCompact{signingInput: raw[:second], header: hdr, payload: payload, signature: sig}, nil
}

// legacyCheckHeader enforces RFC 7515 §4.1 on our terms: alg in legacyAllowedAlgs; kid
// a string if present; "crit" of any kind is rejected, since this verifier
// understands no extension (§4.1.11), and so is "b64" (RFC 7797 unencoded
// payloads); "cty" (nested JWT, RFC 7519 §5.2) and JWE's "enc"/"zip" are
// rejected; typ must be one the profile accepts (RFC 8725 §3.11). The key
// hints "jku", "x5u", "jwk", "x5c", "x5t" are ignored: keys come only from
// the configured key set, never from the token.
func legacyCheckHeader(hb []byte, typs []string) (legacyJoseHeader, error) {
	h, err := legacyDecodeObject(hb)
	if err != nil {
		return legacyJoseHeader{}, invalid(ReasonMalformed, "header: "+err.Error())
	}
	alg, ok := h["alg"].(string)
	if !ok {
		return legacyJoseHeader{}, invalid(ReasonAlgorithm, "header alg missing or not a string")
	}
	if _, ok := legacyAllowedAlgs[alg]; !ok {
		return legacyJoseHeader{}, invalid(ReasonAlgorithm, "header alg not allowed")
	}
	var hdr legacyJoseHeader
	hdr.alg = alg
	if v, present := h["kid"]; present {
		if hdr.kid, ok = v.(string); !ok || hdr.kid == "" {
			return legacyJoseHeader{}, invalid(ReasonMalformed, "header kid is not a non-empty string")
		}
	}
	for _, p := range []string{"crit", "b64", "cty", "enc", "zip"} {
		if _, present := h[p]; present {
			return legacyJoseHeader{}, invalid(ReasonMalformed, "header parameter "+quoteName(p)+" not supported")
		}
	}
	typ, hasTyp := h["typ"]
	if err := legacyCheckTyp(typ, hasTyp, typs); err != nil {
		return legacyJoseHeader{}, err
	}
	return hdr, nil
}

// legacyCheckTyp compares the "typ" header against accepted values,
// case-insensitively and without an "application/" prefix (RFC 7515
// §4.1.9). An empty accepted list allows anything.
func legacyCheckTyp(v any, present bool, typs []string) error {
	if len(typs) == 0 {
		return nil
	}
	got := ""
	if present {
		s, ok := v.(string)
		if !ok || s == "" {
			return invalid(ReasonTokenType, "header typ is not a non-empty string")
		}
		got = strings.ToLower(strings.TrimPrefix(strings.ToLower(s), "application/"))
	}
	for _, t := range typs {
		if strings.ToLower(t) == got {
			return nil
		}
	}
	return invalid(ReasonTokenType, "header typ not accepted")
}

// legacyCheckKey ensures key may verify alg: a public key (never symmetric or
// private), whose kty fits the alg family and whose curve fits ES*/EdDSA
// (RFC 7518 §3.4), whose "alg" if set equals the token's alg (RFC 7517
// §4.4), and whose "use"/"key_ops" allow verification. Key size is checked
// when a KeySet loads keys, not here.
func legacyCheckKey(key jwk.Key, alg string) error {
	switch key.(type) {
	case jwk.RSAPrivateKey, jwk.ECDSAPrivateKey, jwk.OKPPrivateKey, jwk.SymmetricKey:
		return invalid(ReasonKey, "key is not a public signature key")
	case jwk.RSAPublicKey, jwk.ECDSAPublicKey, jwk.OKPPublicKey:
	default:
		return invalid(ReasonKey, "key is not a public signature key")
	}
	if use := key.KeyUsage(); use != "" && use != string(jwk.ForSignature) {
		return invalid(ReasonKey, "key is not usable for signatures")
	}
	if ops := key.KeyOps(); len(ops) > 0 && !hasOp(ops, jwk.KeyOpVerify) {
		return invalid(ReasonKey, "key is not usable for signatures")
	}
	req := legacyAllowedAlgs[alg]
	if key.KeyType() != req.kty {
		return invalid(ReasonAlgorithm, "alg does not match the key type")
	}
	if req.crv != "" && legacyKeyCurve(key) != req.crv {
		return invalid(ReasonAlgorithm, "alg does not match the key curve")
	}
	if ka := key.Algorithm(); ka != nil && ka.String() != "" && ka.String() != alg {
		return invalid(ReasonAlgorithm, "alg does not match the key's alg")
	}
	return nil
}

func legacyKeyCurve(key jwk.Key) string {
	switch k := key.(type) {
	case jwk.ECDSAPublicKey:
		return k.Crv().String()
	case jwk.OKPPublicKey:
		return k.Crv().String()
	}
	return ""
}

// legacyVerifySignature checks the signature over the exact received signing
// input with jwx's algorithm implementation and the one key chosen by kid
// (raw is its crypto public key).
func legacyVerifySignature(c *legacyCompact, raw any) error {
	v, err := jws.NewVerifier(jwa.SignatureAlgorithm(c.header.alg))
	if err != nil {
		return invalid(ReasonAlgorithm, "alg not supported")
	}
	if err := v.Verify([]byte(c.signingInput), c.signature, raw); err != nil {
		return invalid(ReasonSignature, "signature verification failed")
	}
	return nil
}
