package authn

import (
	"crypto"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// sigFamily is how an alg's signature is checked.
type sigFamily uint8

const (
	famPKCS1 sigFamily = iota // RSASSA-PKCS1-v1_5 (RFC 7518 §3.3)
	famPSS                    // RSASSA-PSS (RFC 7518 §3.5)
	famECDSA                  // ECDSA, r||s (RFC 7518 §3.4)
	famEdDSA                  // Ed25519 (RFC 8037 §3.1)
)

// algSpec is what a JWS alg demands of the verification key and how its
// signature is checked.
type algSpec struct {
	name   string
	kty    jwa.KeyType
	crv    string // "" for RSA
	family sigFamily
	hash   crypto.Hash // 0 for EdDSA (it hashes internally)
	ecSize int         // bytes of r and of s for ECDSA (RFC 7518 §3.4)
}

// allowedAlgs are the asymmetric JWS algorithms accepted (RFC 7518 §3.1,
// RFC 8037 §3.1). "none" and every HMAC alg are absent on purpose: with
// them a public key or no key at all would "verify". Names are
// case-sensitive (RFC 7515 §4.1.1), so "None" or "rs256" are unknown.
var allowedAlgs = map[string]*algSpec{
	"RS256": {name: "RS256", kty: jwa.RSA, family: famPKCS1, hash: crypto.SHA256},
	"RS384": {name: "RS384", kty: jwa.RSA, family: famPKCS1, hash: crypto.SHA384},
	"RS512": {name: "RS512", kty: jwa.RSA, family: famPKCS1, hash: crypto.SHA512},
	"PS256": {name: "PS256", kty: jwa.RSA, family: famPSS, hash: crypto.SHA256},
	"PS384": {name: "PS384", kty: jwa.RSA, family: famPSS, hash: crypto.SHA384},
	"PS512": {name: "PS512", kty: jwa.RSA, family: famPSS, hash: crypto.SHA512},
	"ES256": {name: "ES256", kty: jwa.EC, crv: "P-256", family: famECDSA, hash: crypto.SHA256, ecSize: 32},
	"ES384": {name: "ES384", kty: jwa.EC, crv: "P-384", family: famECDSA, hash: crypto.SHA384, ecSize: 48},
	"ES512": {name: "ES512", kty: jwa.EC, crv: "P-521", family: famECDSA, hash: crypto.SHA512, ecSize: 66},
	"EdDSA": {name: "EdDSA", kty: jwa.OKP, crv: "Ed25519", family: famEdDSA},
}

// joseHeader is the checked JOSE header of a compact JWS.
type joseHeader struct {
	alg *algSpec
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
// and a header that is a JSON object with acceptable parameters. typs are
// the accepted "typ" values, lower-cased (see checkTyp).
func splitCompact(raw string, typs []string) (compact, error) {
	if strings.Count(raw, ".") != 2 {
		return compact{}, invalid(ReasonMalformed, "token is not a compact JWS (need 3 segments)")
	}
	first := strings.IndexByte(raw, '.')
	second := first + 1 + strings.IndexByte(raw[first+1:], '.')
	h64, p64, s64 := raw[:first], raw[first+1:second], raw[second+1:]
	if h64 == "" || p64 == "" || s64 == "" {
		return compact{}, invalid(ReasonMalformed, "token has an empty segment")
	}
	// One buffer for the three decoded segments; the payload, kept by the
	// Principal, shares it.
	hl, pl := segmentEncoding.DecodedLen(len(h64)), segmentEncoding.DecodedLen(len(p64))
	buf := make([]byte, hl+pl+segmentEncoding.DecodedLen(len(s64)))
	hb, err := decodeSegmentTo(buf[:0:hl], h64)
	if err != nil {
		return compact{}, invalid(ReasonMalformed, "header is not base64url")
	}
	payload, err := decodeSegmentTo(buf[hl:hl:hl+pl], p64)
	if err != nil {
		return compact{}, invalid(ReasonMalformed, "payload is not base64url")
	}
	sig, err := decodeSegmentTo(buf[hl+pl:hl+pl], s64)
	if err != nil {
		return compact{}, invalid(ReasonMalformed, "signature is not base64url")
	}
	hdr, err := parseHeader(hb, typs)
	if err != nil {
		return compact{}, err
	}
	return compact{signingInput: raw[:second], header: hdr, payload: payload, signature: sig}, nil
}

// Header parameters parseHeader reads, as bits of a set.
const (
	hAlg uint8 = 1 << iota
	hKid
	hTyp
	hCrit // RFC 7515 §4.1.11
	hB64  // RFC 7797 §3
	hCty  // RFC 7515 §4.1.10, nested JWT (RFC 7519 §5.2)
	hEnc  // JWE, RFC 7516 §4.1.2
	hZip  // JWE, RFC 7516 §4.1.3
)

// unsupportedParams are refused header parameters, in the order their
// error is reported.
var unsupportedParams = [...]struct {
	bit  uint8
	name string
}{{hCrit, "crit"}, {hB64, "b64"}, {hCty, "cty"}, {hEnc, "enc"}, {hZip, "zip"}}

// headerParam returns the bit of a decoded parameter name, 0 for others.
func headerParam(name []byte) uint8 {
	switch string(name) {
	case "alg":
		return hAlg
	case "kid":
		return hKid
	case "typ":
		return hTyp
	case "crit":
		return hCrit
	case "b64":
		return hB64
	case "cty":
		return hCty
	case "enc":
		return hEnc
	case "zip":
		return hZip
	}
	return 0
}

// parseHeader reads the header in one pass and enforces RFC 7515 §4.1 on
// our terms: one JSON object without duplicate names (decoded names
// compared); alg a string in allowedAlgs; kid a non-empty string if
// present; "crit" of any kind is rejected, since this verifier understands
// no extension (§4.1.11), and so is "b64" (RFC 7797 unencoded payloads);
// "cty" (nested JWT, RFC 7519 §5.2) and JWE's "enc"/"zip" are rejected;
// typ must be one the profile accepts (RFC 8725 §3.11). The key hints
// "jku", "x5u", "jwk", "x5c", "x5t" are ignored: keys come only from the
// configured key set, never from the token. The whole header is validated
// before any parameter is judged, so a malformed header is always
// ReasonMalformed.
func parseHeader(hb []byte, typs []string) (joseHeader, error) {
	var alg, kid, typ jval
	var seen uint8
	var others nameSet
	r := objReader{d: hb}
	for {
		raw, esc, val, ok, err := r.next()
		if err != nil {
			return joseHeader{}, invalid(ReasonMalformed, "header: "+err.Error())
		}
		if !ok {
			break
		}
		name := memberName(raw, esc)
		bit := headerParam(name)
		if bit == 0 && !others.add(name) || bit != 0 && seen&bit != 0 {
			return joseHeader{}, invalid(ReasonMalformed, "header: "+errDuplicate(name).Error())
		}
		seen |= bit
		switch bit {
		case hAlg:
			alg = val
		case hKid:
			kid = val
		case hTyp:
			typ = val
		}
	}
	if !alg.isString() {
		return joseHeader{}, invalid(ReasonAlgorithm, "header alg missing or not a string")
	}
	spec, ok := allowedAlgs[string(alg.str())]
	if !ok {
		return joseHeader{}, invalid(ReasonAlgorithm, "header alg not allowed")
	}
	hdr := joseHeader{alg: spec}
	if seen&hKid != 0 {
		if !kid.isString() || len(kid) == 2 {
			return joseHeader{}, invalid(ReasonMalformed, "header kid is not a non-empty string")
		}
		hdr.kid = string(kid.str())
	}
	for _, p := range unsupportedParams {
		if seen&p.bit != 0 {
			return joseHeader{}, invalid(ReasonMalformed, "header parameter "+quoteName(p.name)+" not supported")
		}
	}
	if err := checkTyp(typ, seen&hTyp != 0, typs); err != nil {
		return joseHeader{}, err
	}
	return hdr, nil
}

// lowerTyps returns the profile's accepted "typ" values lower-cased, as
// checkTyp compares them.
func lowerTyps(typs []string) []string {
	out := make([]string, len(typs))
	for i, t := range typs {
		out[i] = strings.ToLower(t)
	}
	return out
}

// checkTyp compares the "typ" header against accepted values (lower-cased
// by lowerTyps), case-insensitively and without an "application/" prefix
// (RFC 7515 §4.1.9). An empty accepted list allows anything.
func checkTyp(v jval, present bool, typs []string) error {
	if len(typs) == 0 {
		return nil
	}
	got := ""
	if present {
		if !v.isString() || len(v) == 2 {
			return invalid(ReasonTokenType, "header typ is not a non-empty string")
		}
		got = strings.ToLower(strings.TrimPrefix(strings.ToLower(string(v.str())), "application/"))
	}
	for _, t := range typs {
		if t == got {
			return nil
		}
	}
	return invalid(ReasonTokenType, "header typ not accepted")
}
