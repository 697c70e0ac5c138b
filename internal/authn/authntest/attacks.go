package authntest

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
)

// Attack is one malicious token. A correct verifier configured with
// issuer iss.URL, the audience passed to Attacks, and the generic profile
// (optionally with client id ClientID allowlisted) must reject every one,
// with the issuer up, as an invalid token whose authn.FailureReason is
// Reason. None needs the network except that a broken verifier would
// contact iss.AttackerURL.
type Attack struct {
	Name string
	// Reason is the authn.FailureReason the verifier must give: the first
	// check, in authn.Verifier.Verify's order, that the token fails.
	Reason string
	Token  string
}

// Attacks returns the malicious-token table for iss and audience (an
// absolute URL such as "https://mcp.example.com/mcp", or any string; URL
// look-alikes are only generated for URLs). Tokens expire in an hour.
func Attacks(iss *Issuer, audience string) []Attack {
	iss.t.Helper()
	good := func(mod func(c map[string]any), opts ...MintOption) string {
		c := iss.Claims(audience)
		if mod != nil {
			mod(c)
		}
		return iss.Mint(c, opts...)
	}
	return append(joseAttacks(iss, audience, good), claimAttacks(iss, audience, good)...)
}

type minter func(mod func(c map[string]any), opts ...MintOption) string

// joseAttacks target the JOSE layer: algorithms, keys, header
// parameters, serialization.
func joseAttacks(iss *Issuer, audience string, good minter) []Attack {
	rsaKey, rsaKID := iss.RSA()
	pub := &rsaKey.PublicKey
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pemPKIX := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pemPKCS1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)})
	jwkJSON, _ := json.Marshal(JWK(iss.t, pub, rsaKID, "RS256"))
	attackerJWK := JWK(iss.t, &iss.Foreign.PublicKey, "attacker", "RS256")
	cert := selfSigned(iss)
	valid := good(nil)
	parts := strings.Split(valid, ".")
	claims := mustJSON(iss, iss.Claims(audience))
	signed := func(header, payload string, alg string, key any) string {
		in := header + "." + payload
		return in + "." + B64(iss.Sign(alg, key, in))
	}
	hdr := func(h string) string { return B64([]byte(h)) }
	rs := `{"alg":"RS256","kid":"` + rsaKID + `"}`

	tampered := iss.Claims(audience)
	tampered["sub"] = "admin"
	evilPayload := B64(mustJSON(iss, tampered))
	stdPayload := stdWithPlusSlash(iss, audience)

	return []Attack{
		{"alg_none", authn.ReasonMalformed, good(nil, WithAlg("none"))},
		{"alg_none_with_rsa_signature", authn.ReasonAlgorithm, signed(hdr(`{"alg":"none","kid":"`+rsaKID+`"}`), B64(claims), "RS256", rsaKey)},
		{"alg_NONE", authn.ReasonMalformed, good(nil, WithAlg("NONE"))},
		{"alg_None", authn.ReasonMalformed, good(nil, WithAlg("None"))},
		{"alg_nOnE", authn.ReasonMalformed, good(nil, WithAlg("nOnE"))},
		{"alg_lowercase_rs256", authn.ReasonAlgorithm, good(nil, WithAlg("rs256"))},
		{"alg_missing", authn.ReasonAlgorithm, signed(hdr(`{"kid":"`+rsaKID+`"}`), B64(claims), "RS256", rsaKey)},
		{"alg_not_string", authn.ReasonAlgorithm, signed(hdr(`{"alg":["RS256"],"kid":"`+rsaKID+`"}`), B64(claims), "RS256", rsaKey)},
		{"hs256_rsa_public_pem_pkix", authn.ReasonAlgorithm, good(nil, WithAlg("HS256"), WithKey(pemPKIX))},
		{"hs256_rsa_public_pem_pkcs1", authn.ReasonAlgorithm, good(nil, WithAlg("HS256"), WithKey(pemPKCS1))},
		{"hs256_rsa_public_der", authn.ReasonAlgorithm, good(nil, WithAlg("HS256"), WithKey(der))},
		{"hs256_rsa_public_jwk_json", authn.ReasonAlgorithm, good(nil, WithAlg("HS256"), WithKey(jwkJSON))},
		{"hs384_rsa_public_pem", authn.ReasonAlgorithm, good(nil, WithAlg("HS384"), WithKey(pemPKIX))},
		{"hs512_rsa_public_pem", authn.ReasonAlgorithm, good(nil, WithAlg("HS512"), WithKey(pemPKIX))},
		{"hs256_empty_key", authn.ReasonAlgorithm, good(nil, WithAlg("HS256"), WithKey([]byte{}))},
		{"unknown_kid", authn.ReasonKey, good(nil, WithKID("no-such-kid"))},
		{"kid_not_string", authn.ReasonMalformed, signed(hdr(`{"alg":"RS256","kid":7}`), B64(claims), "RS256", rsaKey)},
		{"kid_empty", authn.ReasonMalformed, good(nil, WithKID(""))},
		{"no_kid_multi_key_set", authn.ReasonKey, good(nil, WithoutKID())},
		{"right_kid_wrong_key", authn.ReasonSignature, good(nil, WithKey(iss.Foreign))},
		{"jku_attacker_jwks", authn.ReasonKey, good(nil, WithKID("attacker"), WithKey(iss.Foreign), WithHeader("jku", iss.AttackerURL()+"/jwks.json"))},
		{"jku_attacker_victim_kid", authn.ReasonSignature, good(nil, WithKey(iss.Foreign), WithHeader("jku", iss.AttackerURL()+"/jwks.json"))},
		{"x5u_attacker", authn.ReasonKey, good(nil, WithKID("attacker"), WithKey(iss.Foreign), WithHeader("x5u", iss.AttackerURL()+"/cert.pem"))},
		{"jwk_embedded_attacker_no_kid", authn.ReasonKey, good(nil, WithoutKID(), WithKey(iss.Foreign), WithHeader("jwk", attackerJWK))},
		{"jwk_embedded_attacker_victim_kid", authn.ReasonSignature, good(nil, WithKey(iss.Foreign), WithHeader("jwk", attackerJWK))},
		{"x5c_attacker_cert_no_kid", authn.ReasonKey, good(nil, WithoutKID(), WithKey(iss.Foreign), WithHeader("x5c", []string{cert}))},
		{"x5c_attacker_cert_victim_kid", authn.ReasonSignature, good(nil, WithKey(iss.Foreign), WithHeader("x5c", []string{cert}))},
		{"alg_rs256_with_ec_kid", authn.ReasonAlgorithm, good(nil, WithKID(iss.ECKID))},
		{"alg_es256_with_rsa_kid", authn.ReasonAlgorithm, good(nil, WithAlg("ES256"), WithKID(rsaKID))},
		{"alg_eddsa_with_rsa_kid", authn.ReasonAlgorithm, good(nil, WithAlg("EdDSA"), WithKID(rsaKID))},
		{"alg_ps256_with_rs256_pinned_key", authn.ReasonAlgorithm, good(nil, WithAlg("PS256"), WithKey(rsaKey), WithKID(rsaKID))},
		{"alg_rs512_with_rs256_pinned_key", authn.ReasonAlgorithm, good(nil, WithAlg("RS512"), WithKey(rsaKey), WithKID(rsaKID))},
		{"alg_es384_with_p256_key", authn.ReasonAlgorithm, good(nil, WithAlg("ES384"))},
		{"ecdsa_zero_signature", authn.ReasonSignature, parts2(good(nil, WithAlg("ES256")), B64(make([]byte, 64)))},
		{"ecdsa_der_signature", authn.ReasonSignature, derECDSA(iss, good(nil, WithAlg("ES256")))},
		{"stripped_signature", authn.ReasonMalformed, parts[0] + "." + parts[1] + "."},
		{"tampered_payload_original_signature", authn.ReasonSignature, parts[0] + "." + evilPayload + "." + parts[2]},
		{"tampered_header_original_signature", authn.ReasonSignature, hdr(`{"alg":"RS256","kid":"`+rsaKID+`","typ":"JWT"}`) + "." + parts[1] + "." + parts[2]},
		{"truncated_signature", authn.ReasonSignature, parts[0] + "." + parts[1] + "." + truncate(parts[2])},
		{"two_segments", authn.ReasonMalformed, parts[0] + "." + parts[1]},
		{"four_segments", authn.ReasonMalformed, valid + "." + parts[2]},
		{"jwe_five_segments", authn.ReasonMalformed, hdr(`{"alg":"RSA-OAEP","enc":"A256GCM","kid":"`+rsaKID+`"}`) + ".AAAA.AAAA." + parts[1] + ".AAAA"},
		{"jws_json_flattened", authn.ReasonMalformed, `{"protected":"` + parts[0] + `","payload":"` + parts[1] + `","signature":"` + parts[2] + `"}`},
		{"jws_json_general", authn.ReasonMalformed, `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`},
		{"empty_token", authn.ReasonMalformed, ""},
		{"oversized", authn.ReasonMalformed, good(func(c map[string]any) { c["pad"] = strings.Repeat("A", 64<<10) })},
		{"crit_unknown", authn.ReasonMalformed, good(nil, WithHeader("crit", []string{"urn:x-evil"}), WithHeader("urn:x-evil", true))},
		{"crit_empty_list", authn.ReasonMalformed, good(nil, WithHeader("crit", []string{}))},
		{"b64_false", authn.ReasonMalformed, good(nil, WithHeader("b64", false), WithHeader("crit", []string{"b64"}))},
		{"b64_false_without_crit", authn.ReasonMalformed, good(nil, WithHeader("b64", false))},
		{"cty_nested_jwt", authn.ReasonMalformed, good(nil, WithHeader("cty", "JWT"), WithRawPayload([]byte(valid)))},
		{"jwe_enc_header_on_jws", authn.ReasonMalformed, good(nil, WithHeader("enc", "A256GCM"))},
		{"typ_dpop_jwt", authn.ReasonTokenType, good(nil, WithHeader("typ", "dpop+jwt"))},
		{"typ_logout_jwt", authn.ReasonTokenType, good(nil, WithHeader("typ", "logout+jwt"))},
		{"typ_not_string", authn.ReasonTokenType, good(nil, WithHeader("typ", 1))},
		{"typ_null", authn.ReasonTokenType, good(nil, WithHeader("typ", nil))},
		{"header_not_json", authn.ReasonMalformed, signed(hdr(`alg=RS256`), B64(claims), "RS256", rsaKey)},
		{"header_json_array", authn.ReasonMalformed, signed(hdr(`[{"alg":"RS256","kid":"`+rsaKID+`"}]`), B64(claims), "RS256", rsaKey)},
		{"header_trailing_data", authn.ReasonMalformed, signed(hdr(rs+`{"alg":"none"}`), B64(claims), "RS256", rsaKey)},
		{"header_duplicate_alg", authn.ReasonMalformed, signed(hdr(`{"alg":"none","kid":"`+rsaKID+`","alg":"RS256"}`), B64(claims), "RS256", rsaKey)},
		{"header_duplicate_kid", authn.ReasonMalformed, signed(hdr(`{"alg":"RS256","kid":"no-such-kid","kid":"`+rsaKID+`"}`), B64(claims), "RS256", rsaKey)},
		{"header_invalid_utf8", authn.ReasonMalformed, signed(B64([]byte("{\"alg\":\"RS256\",\"kid\":\""+rsaKID+"\",\"x\":\"\xff\"}")), B64(claims), "RS256", rsaKey)},
		{"payload_json_array", authn.ReasonMalformed, good(nil, WithRawPayload(append(append([]byte("["), claims...), ']')))},
		{"payload_nested_jwt_string", authn.ReasonMalformed, good(nil, WithRawPayload(mustJSON(iss, valid)))},
		{"payload_raw_nested_jwt", authn.ReasonMalformed, good(nil, WithRawPayload([]byte(valid)))},
		{"payload_not_json", authn.ReasonMalformed, good(nil, WithRawPayload([]byte("sub=admin")))},
		{"payload_trailing_data", authn.ReasonMalformed, good(nil, WithRawPayload(append(append([]byte{}, claims...), []byte(`{"sub":"admin"}`)...)))},
		{"base64_padding", authn.ReasonMalformed, signed(B64([]byte(rs))+"==", B64(claims)+"=", "RS256", rsaKey)},
		{"base64_std_alphabet", authn.ReasonMalformed, signed(B64([]byte(rs)), strings.TrimRight(stdPayload, "="), "RS256", rsaKey)},
		{"base64_embedded_newline", authn.ReasonMalformed, signed(B64([]byte(rs)), B64(claims)[:10]+"\n"+B64(claims)[10:], "RS256", rsaKey)},
		{"base64_invalid_chars", authn.ReasonMalformed, parts[0] + "." + parts[1] + "!." + parts[2]},
		{"leading_whitespace", authn.ReasonMalformed, " " + valid},
		{"bearer_prefix_included", authn.ReasonMalformed, "Bearer " + valid},
	}
}

// truncate cuts at least 4 characters off a base64url segment, keeping
// whole 4-character groups so that it still decodes (to fewer bytes): the
// signature check, not the decoder, must reject it.
func truncate(seg string) string {
	n := len(seg) - 4
	return seg[:n-n%4]
}

func parts2(tok, sig string) string {
	i := strings.LastIndexByte(tok, '.')
	return tok[:i+1] + sig
}

// derECDSA re-signs an ES256 token with an ASN.1 DER signature instead of
// the fixed-width R||S that RFC 7518 §3.4 requires.
func derECDSA(iss *Issuer, tok string) string {
	in := tok[:strings.LastIndexByte(tok, '.')]
	d := sha256.Sum256([]byte(in))
	sig, err := ecdsa.SignASN1(rand.Reader, iss.EC, d[:])
	if err != nil {
		iss.t.Fatal(err)
	}
	return in + "." + B64(sig)
}

// stdWithPlusSlash returns claims encoded in the standard base64 alphabet
// such that the text really contains '+' or '/'.
func stdWithPlusSlash(iss *Issuer, audience string) string {
	c := iss.Claims(audience)
	for n := 0; ; n++ {
		c["x"] = strings.Repeat("?", n) + "~~~>>>"
		if s := base64.StdEncoding.EncodeToString(mustJSON(iss, c)); strings.ContainsAny(s, "+/") {
			return s
		}
	}
}

// selfSigned returns a base64 (std, as x5c requires) DER certificate for
// the foreign (attacker) key.
func selfSigned(iss *Issuer) string {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "attacker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &iss.Foreign.PublicKey, iss.Foreign)
	if err != nil {
		iss.t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}
