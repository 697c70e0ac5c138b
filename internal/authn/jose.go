package authn

import (
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// keyReq is what a JWS alg demands of the verification key.
type keyReq struct {
	kty jwa.KeyType
	crv string // "" for RSA
}

// allowedAlgs are the asymmetric JWS algorithms accepted (RFC 7518 §3.1,
// RFC 8037 §3.1). "none" and every HMAC alg are absent on purpose: with
// them a public key or no key at all would "verify". Names are
// case-sensitive (RFC 7515 §4.1.1), so "None" or "rs256" are unknown.
var allowedAlgs = map[string]keyReq{
	"RS256": {kty: jwa.RSA}, "RS384": {kty: jwa.RSA}, "RS512": {kty: jwa.RSA},
	"PS256": {kty: jwa.RSA}, "PS384": {kty: jwa.RSA}, "PS512": {kty: jwa.RSA},
	"ES256": {kty: jwa.EC, crv: "P-256"},
	"ES384": {kty: jwa.EC, crv: "P-384"},
	"ES512": {kty: jwa.EC, crv: "P-521"},
	"EdDSA": {kty: jwa.OKP, crv: "Ed25519"},
}

// joseHeader is the checked JOSE header of a compact JWS.
type joseHeader struct {
	alg string
	kid string
}

// compact is a token split into its three JWS Compact Serialization parts
// (RFC 7515 §7.1).
type compact struct {
	signingInput string // BASE64URL(header) "." BASE64URL(payload), as received
	header       joseHeader
	payload      []byte // decoded, not yet parsed
	signature    []byte
}

// splitCompact checks the token's shape before any cryptography: exactly
// three non-empty dot-separated segments (so JWE's five segments, the JWS
// JSON serialization and unsigned tokens are rejected), strict base64url,
// and a header that is a JSON object with acceptable parameters.
func splitCompact(raw string, typs []string) (*compact, error) {
	if strings.Count(raw, ".") != 2 {
		return nil, invalid(ReasonMalformed, "token is not a compact JWS (need 3 segments)")
	}
	first := strings.IndexByte(raw, '.')
	second := first + 1 + strings.IndexByte(raw[first+1:], '.')
	h64, p64, s64 := raw[:first], raw[first+1:second], raw[second+1:]
	if h64 == "" || p64 == "" || s64 == "" {
		return nil, invalid(ReasonMalformed, "token has an empty segment")
	}
	hb, err := decodeSegment(h64)
	if err != nil {
		return nil, invalid(ReasonMalformed, "header is not base64url")
	}
	payload, err := decodeSegment(p64)
	if err != nil {
		return nil, invalid(ReasonMalformed, "payload is not base64url")
	}
	sig, err := decodeSegment(s64)
	if err != nil {
		return nil, invalid(ReasonMalformed, "signature is not base64url")
	}
	hdr, err := checkHeader(hb, typs)
	if err != nil {
		return nil, err
	}
	return &compact{signingInput: raw[:second], header: hdr, payload: payload, signature: sig}, nil
}

// checkHeader enforces RFC 7515 §4.1 on our terms: alg in allowedAlgs; kid
// a string if present; "crit" of any kind is rejected, since this verifier
// understands no extension (§4.1.11), and so is "b64" (RFC 7797 unencoded
// payloads); "cty" (nested JWT, RFC 7519 §5.2) and JWE's "enc"/"zip" are
// rejected; typ must be one the profile accepts (RFC 8725 §3.11). The key
// hints "jku", "x5u", "jwk", "x5c", "x5t" are ignored: keys come only from
// the configured key set, never from the token.
func checkHeader(hb []byte, typs []string) (joseHeader, error) {
	h, err := decodeObject(hb)
	if err != nil {
		return joseHeader{}, invalid(ReasonMalformed, "header: "+err.Error())
	}
	alg, ok := h["alg"].(string)
	if !ok {
		return joseHeader{}, invalid(ReasonAlgorithm, "header alg missing or not a string")
	}
	if _, ok := allowedAlgs[alg]; !ok {
		return joseHeader{}, invalid(ReasonAlgorithm, "header alg not allowed")
	}
	var hdr joseHeader
	hdr.alg = alg
	if v, present := h["kid"]; present {
		if hdr.kid, ok = v.(string); !ok || hdr.kid == "" {
			return joseHeader{}, invalid(ReasonMalformed, "header kid is not a non-empty string")
		}
	}
	for _, p := range []string{"crit", "b64", "cty", "enc", "zip"} {
		if _, present := h[p]; present {
			return joseHeader{}, invalid(ReasonMalformed, "header parameter "+quoteName(p)+" not supported")
		}
	}
	typ, hasTyp := h["typ"]
	if err := checkTyp(typ, hasTyp, typs); err != nil {
		return joseHeader{}, err
	}
	return hdr, nil
}

// checkTyp compares the "typ" header against accepted values,
// case-insensitively and without an "application/" prefix (RFC 7515
// §4.1.9). An empty accepted list allows anything.
func checkTyp(v any, present bool, typs []string) error {
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

// checkKey ensures key may verify alg: a public key (never symmetric or
// private), whose kty fits the alg family and whose curve fits ES*/EdDSA
// (RFC 7518 §3.4), whose "alg" if set equals the token's alg (RFC 7517
// §4.4), and whose "use"/"key_ops" allow verification. Key size is checked
// when a KeySet loads keys, not here.
func checkKey(key jwk.Key, alg string) error {
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
	req := allowedAlgs[alg]
	if key.KeyType() != req.kty {
		return invalid(ReasonAlgorithm, "alg does not match the key type")
	}
	if req.crv != "" && keyCurve(key) != req.crv {
		return invalid(ReasonAlgorithm, "alg does not match the key curve")
	}
	if ka := key.Algorithm(); ka != nil && ka.String() != "" && ka.String() != alg {
		return invalid(ReasonAlgorithm, "alg does not match the key's alg")
	}
	return nil
}

func keyCurve(key jwk.Key) string {
	switch k := key.(type) {
	case jwk.ECDSAPublicKey:
		return k.Crv().String()
	case jwk.OKPPublicKey:
		return k.Crv().String()
	}
	return ""
}

// verifySignature checks the signature over the exact received signing
// input with jwx's algorithm implementation and the one key chosen by kid
// (raw is its crypto public key).
func verifySignature(c *compact, raw any) error {
	v, err := jws.NewVerifier(jwa.SignatureAlgorithm(c.header.alg))
	if err != nil {
		return invalid(ReasonAlgorithm, "alg not supported")
	}
	if err := v.Verify([]byte(c.signingInput), c.signature, raw); err != nil {
		return invalid(ReasonSignature, "signature verification failed")
	}
	return nil
}
