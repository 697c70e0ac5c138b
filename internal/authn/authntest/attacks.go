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
)

// Attack is one malicious token. A correct verifier configured with
// issuer iss.URL, the audience passed to Attacks, and the generic profile
// (optionally with client id ClientID allowlisted) must reject every one,
// with the issuer up, as an invalid token. None needs the network except
// that a broken verifier would contact iss.AttackerURL.
type Attack struct {
	Name  string
	Token string
}

// Attacks returns the malicious-token table for iss and audience (an
// absolute URL such as "https://mcp.example.com/mcp", or any string; URL
// look-alikes are only generated for URLs). Tokens expire in an hour.
func Attacks(iss *Issuer, audience string) []Attack {
	iss.t.Helper()
	var out []Attack
	add := func(name, tok string) { out = append(out, Attack{Name: name, Token: tok}) }
	good := func(mod func(c map[string]any), opts ...MintOption) string {
		c := iss.Claims(audience)
		if mod != nil {
			mod(c)
		}
		return iss.Mint(c, opts...)
	}
	for _, a := range joseAttacks(iss, audience, good) {
		add(a.Name, a.Token)
	}
	for _, a := range claimAttacks(iss, audience, good) {
		add(a.Name, a.Token)
	}
	return out
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
		{"alg_none", good(nil, WithAlg("none"))},
		{"alg_none_with_rsa_signature", signed(hdr(`{"alg":"none","kid":"`+rsaKID+`"}`), B64(claims), "RS256", rsaKey)},
		{"alg_NONE", good(nil, WithAlg("NONE"))},
		{"alg_None", good(nil, WithAlg("None"))},
		{"alg_nOnE", good(nil, WithAlg("nOnE"))},
		{"alg_lowercase_rs256", good(nil, WithAlg("rs256"))},
		{"alg_missing", signed(hdr(`{"kid":"`+rsaKID+`"}`), B64(claims), "RS256", rsaKey)},
		{"alg_not_string", signed(hdr(`{"alg":["RS256"],"kid":"`+rsaKID+`"}`), B64(claims), "RS256", rsaKey)},
		{"hs256_rsa_public_pem_pkix", good(nil, WithAlg("HS256"), WithKey(pemPKIX))},
		{"hs256_rsa_public_pem_pkcs1", good(nil, WithAlg("HS256"), WithKey(pemPKCS1))},
		{"hs256_rsa_public_der", good(nil, WithAlg("HS256"), WithKey(der))},
		{"hs256_rsa_public_jwk_json", good(nil, WithAlg("HS256"), WithKey(jwkJSON))},
		{"hs384_rsa_public_pem", good(nil, WithAlg("HS384"), WithKey(pemPKIX))},
		{"hs512_rsa_public_pem", good(nil, WithAlg("HS512"), WithKey(pemPKIX))},
		{"hs256_empty_key", good(nil, WithAlg("HS256"), WithKey([]byte{}))},
		{"unknown_kid", good(nil, WithKID("no-such-kid"))},
		{"kid_not_string", signed(hdr(`{"alg":"RS256","kid":7}`), B64(claims), "RS256", rsaKey)},
		{"kid_empty", good(nil, WithKID(""))},
		{"no_kid_multi_key_set", good(nil, WithoutKID())},
		{"right_kid_wrong_key", good(nil, WithKey(iss.Foreign))},
		{"jku_attacker_jwks", good(nil, WithKID("attacker"), WithKey(iss.Foreign), WithHeader("jku", iss.AttackerURL()+"/jwks.json"))},
		{"jku_attacker_victim_kid", good(nil, WithKey(iss.Foreign), WithHeader("jku", iss.AttackerURL()+"/jwks.json"))},
		{"x5u_attacker", good(nil, WithKID("attacker"), WithKey(iss.Foreign), WithHeader("x5u", iss.AttackerURL()+"/cert.pem"))},
		{"jwk_embedded_attacker_no_kid", good(nil, WithoutKID(), WithKey(iss.Foreign), WithHeader("jwk", attackerJWK))},
		{"jwk_embedded_attacker_victim_kid", good(nil, WithKey(iss.Foreign), WithHeader("jwk", attackerJWK))},
		{"x5c_attacker_cert_no_kid", good(nil, WithoutKID(), WithKey(iss.Foreign), WithHeader("x5c", []string{cert}))},
		{"x5c_attacker_cert_victim_kid", good(nil, WithKey(iss.Foreign), WithHeader("x5c", []string{cert}))},
		{"alg_rs256_with_ec_kid", good(nil, WithKID(iss.ECKID))},
		{"alg_es256_with_rsa_kid", good(nil, WithAlg("ES256"), WithKID(rsaKID))},
		{"alg_eddsa_with_rsa_kid", good(nil, WithAlg("EdDSA"), WithKID(rsaKID))},
		{"alg_ps256_with_rs256_pinned_key", good(nil, WithAlg("PS256"), WithKey(rsaKey), WithKID(rsaKID))},
		{"alg_rs512_with_rs256_pinned_key", good(nil, WithAlg("RS512"), WithKey(rsaKey), WithKID(rsaKID))},
		{"alg_es384_with_p256_key", good(nil, WithAlg("ES384"))},
		{"ecdsa_zero_signature", parts2(good(nil, WithAlg("ES256")), B64(make([]byte, 64)))},
		{"ecdsa_der_signature", derECDSA(iss, good(nil, WithAlg("ES256")))},
		{"stripped_signature", parts[0] + "." + parts[1] + "."},
		{"tampered_payload_original_signature", parts[0] + "." + evilPayload + "." + parts[2]},
		{"tampered_header_original_signature", hdr(`{"alg":"RS256","kid":"`+rsaKID+`","typ":"JWT"}`) + "." + parts[1] + "." + parts[2]},
		{"truncated_signature", parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-4]},
		{"two_segments", parts[0] + "." + parts[1]},
		{"four_segments", valid + "." + parts[2]},
		{"jwe_five_segments", hdr(`{"alg":"RSA-OAEP","enc":"A256GCM","kid":"`+rsaKID+`"}`) + ".AAAA.AAAA." + parts[1] + ".AAAA"},
		{"jws_json_flattened", `{"protected":"` + parts[0] + `","payload":"` + parts[1] + `","signature":"` + parts[2] + `"}`},
		{"jws_json_general", `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`},
		{"empty_token", ""},
		{"oversized", good(func(c map[string]any) { c["pad"] = strings.Repeat("A", 64<<10) })},
		{"crit_unknown", good(nil, WithHeader("crit", []string{"urn:x-evil"}), WithHeader("urn:x-evil", true))},
		{"crit_empty_list", good(nil, WithHeader("crit", []string{}))},
		{"b64_false", good(nil, WithHeader("b64", false), WithHeader("crit", []string{"b64"}))},
		{"b64_false_without_crit", good(nil, WithHeader("b64", false))},
		{"cty_nested_jwt", good(nil, WithHeader("cty", "JWT"), WithRawPayload([]byte(valid)))},
		{"jwe_enc_header_on_jws", good(nil, WithHeader("enc", "A256GCM"))},
		{"typ_dpop_jwt", good(nil, WithHeader("typ", "dpop+jwt"))},
		{"typ_logout_jwt", good(nil, WithHeader("typ", "logout+jwt"))},
		{"typ_not_string", good(nil, WithHeader("typ", 1))},
		{"typ_null", good(nil, WithHeader("typ", nil))},
		{"header_not_json", signed(hdr(`alg=RS256`), B64(claims), "RS256", rsaKey)},
		{"header_json_array", signed(hdr(`[{"alg":"RS256","kid":"`+rsaKID+`"}]`), B64(claims), "RS256", rsaKey)},
		{"header_trailing_data", signed(hdr(rs+`{"alg":"none"}`), B64(claims), "RS256", rsaKey)},
		{"header_duplicate_alg", signed(hdr(`{"alg":"none","kid":"`+rsaKID+`","alg":"RS256"}`), B64(claims), "RS256", rsaKey)},
		{"header_duplicate_kid", signed(hdr(`{"alg":"RS256","kid":"no-such-kid","kid":"`+rsaKID+`"}`), B64(claims), "RS256", rsaKey)},
		{"header_invalid_utf8", signed(B64([]byte("{\"alg\":\"RS256\",\"kid\":\""+rsaKID+"\",\"x\":\"\xff\"}")), B64(claims), "RS256", rsaKey)},
		{"payload_json_array", good(nil, WithRawPayload(append(append([]byte("["), claims...), ']')))},
		{"payload_nested_jwt_string", good(nil, WithRawPayload(mustJSON(iss, valid)))},
		{"payload_raw_nested_jwt", good(nil, WithRawPayload([]byte(valid)))},
		{"payload_not_json", good(nil, WithRawPayload([]byte("sub=admin")))},
		{"payload_trailing_data", good(nil, WithRawPayload(append(append([]byte{}, claims...), []byte(`{"sub":"admin"}`)...)))},
		{"base64_padding", signed(B64([]byte(rs))+"==", B64(claims)+"=", "RS256", rsaKey)},
		{"base64_std_alphabet", signed(B64([]byte(rs)), strings.TrimRight(stdPayload, "="), "RS256", rsaKey)},
		{"base64_embedded_newline", signed(B64([]byte(rs)), B64(claims)[:10]+"\n"+B64(claims)[10:], "RS256", rsaKey)},
		{"base64_invalid_chars", parts[0] + "." + parts[1] + "!." + parts[2]},
		{"leading_whitespace", " " + valid},
		{"bearer_prefix_included", "Bearer " + valid},
	}
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
