package authn

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
)

// The fixed policy of the Verify fuzz targets; testdata/fuzz_tokens.json
// holds tokens valid under it at fuzzNow, and the public keys.
const (
	fuzzIssuer   = "https://issuer.example"
	fuzzAudience = "https://mcp.example.com/mcp"
	fuzzLiveKID  = "ed-live"
)

var fuzzNow = time.Unix(1767225600+600, 0) // 2026-01-01T00:10:00Z

// fuzzFixture is a Verifier over fixed keys, the same keys as crypto
// public keys for the oracle, and the signing inputs of the known tokens.
type fuzzFixture struct {
	v      *Verifier
	pubs   map[string]any // kid -> *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey
	known  map[string]bool
	tokens []string
	live   ed25519.PrivateKey // signs FuzzVerifySigned's tokens, as fuzzLiveKID
}

// fuzzKeys is a KeyLookup over a fixed map.
type fuzzKeys map[string]jwk.Key

func (k fuzzKeys) LookupKey(_ context.Context, kid string) (jwk.Key, error) {
	if key, ok := k[kid]; ok {
		return key, nil
	}
	return nil, errors.New("unknown kid")
}

var _ KeyLookup = fuzzKeys(nil)

func newFuzzFixture(f *testing.F) *fuzzFixture {
	f.Helper()
	raw, err := os.ReadFile("testdata/fuzz_tokens.json")
	if err != nil {
		f.Fatal(err)
	}
	var file struct {
		Keys   []map[string]string `json:"keys"`
		Tokens []string            `json:"tokens"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		f.Fatal(err)
	}
	_, live, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	fx := &fuzzFixture{pubs: map[string]any{}, known: map[string]bool{}, tokens: file.Tokens, live: live}
	keys := fuzzKeys{}
	for _, k := range file.Keys {
		b, _ := json.Marshal(k)
		if keys[k["kid"]], err = jwk.ParseKey(b); err != nil {
			f.Fatal(err)
		}
		fx.pubs[k["kid"]] = stdPublicKey(f, k)
	}
	if keys[fuzzLiveKID], err = jwk.FromRaw(live.Public()); err != nil {
		f.Fatal(err)
	}
	fx.pubs[fuzzLiveKID] = live.Public()
	prof, _ := idp.Lookup("generic")
	fx.v, err = NewVerifier(keys, Policy{Issuer: fuzzIssuer, Audiences: []string{fuzzAudience}, Profile: prof,
		Now: func() time.Time { return fuzzNow }, CacheTTL: -1})
	if err != nil {
		f.Fatal(err)
	}
	for _, tok := range fx.tokens {
		if _, err := fx.v.Verify(context.Background(), tok); err != nil {
			f.Fatalf("testdata/fuzz_tokens.json: a token does not verify: %v", err)
		}
		fx.known[tok[:strings.LastIndexByte(tok, '.')]] = true
	}
	return fx
}

// stdPublicKey builds the crypto public key of a JWK with the standard
// library alone (RFC 7518 §6), for the oracle.
func stdPublicKey(f *testing.F, k map[string]string) any {
	b := func(name string) []byte {
		v, err := base64.RawURLEncoding.DecodeString(k[name])
		if err != nil {
			f.Fatalf("key %s: %s: %v", k["kid"], name, err)
		}
		return v
	}
	switch k["kty"] {
	case "RSA":
		return &rsa.PublicKey{N: new(big.Int).SetBytes(b("n")), E: int(new(big.Int).SetBytes(b("e")).Int64())}
	case "EC":
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, b("x")...), b("y")...))
		if err != nil {
			f.Fatal(err)
		}
		return pub
	}
	return ed25519.PublicKey(b("x"))
}

// stdVerify checks a compact JWS's signature with the standard library
// (RFC 7518 §3.3, §3.4, §3.5; RFC 8037 §3.1) under the key its kid names.
func (fx *fuzzFixture) stdVerify(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	sig, err2 := base64.RawURLEncoding.DecodeString(parts[2])
	var h struct{ Alg, Kid string }
	if err1 != nil || err2 != nil || json.Unmarshal(hb, &h) != nil {
		return false
	}
	input := []byte(parts[0] + "." + parts[1])
	digest := sha256.Sum256(input)
	switch pub := fx.pubs[h.Kid].(type) {
	case *rsa.PublicKey:
		if h.Alg == "PS256" {
			return rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, nil) == nil
		}
		return h.Alg == "RS256" && rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
	case *ecdsa.PublicKey:
		r, s := new(big.Int).SetBytes(sig[:len(sig)/2]), new(big.Int).SetBytes(sig[len(sig)/2:])
		return h.Alg == "ES256" && len(sig) == 64 && ecdsa.Verify(pub, digest[:], r, s)
	case ed25519.PublicKey:
		return h.Alg == "EdDSA" && ed25519.Verify(pub, input, sig)
	}
	return false
}

// checkRefusal fails unless err is an invalid-token error: the keys are
// fixed, so nothing is ever unavailable.
func checkRefusal(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("refusal is not an invalid token: %v", err)
	}
}

// FuzzVerify feeds arbitrary strings to Verify (RFC 7515, RFC 7519, RFC 9068
// §4, RFC 8725) with fixed keys and clock. Properties: no panic; a refusal
// is ErrInvalidToken; an accepted token is one of the known valid tokens'
// signing inputs, and its signature verifies with the standard library
// under the key its kid names. Seeds: testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	fx := newFuzzFixture(f)
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := fx.v.Verify(context.Background(), raw)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		i := strings.LastIndexByte(raw, '.')
		if !fx.known[raw[:i]] || !fx.stdVerify(raw) || p.Subject == "" || p.Issuer != fuzzIssuer {
			t.Fatalf("accepted %q, which is no known token or does not verify", raw)
		}
	})
}

// FuzzVerifySigned signs arbitrary JOSE headers and payloads with a key the
// Verifier trusts (fuzzLiveKID), so that Verify reaches the header and claim
// checks. Properties: no panic; a refusal is ErrInvalidToken; an accepted
// token has header alg EdDSA and kid fuzzLiveKID, a payload that is one
// UTF-8 JSON object without duplicate members whose iss is the issuer, exp
// a number not passed (60s leeway), nbf absent or reached, aud present,
// sub and a client id non-empty strings, and a Principal that says the
// same, all read with encoding/json. Seeds: testdata/fuzz/FuzzVerifySigned.
func FuzzVerifySigned(f *testing.F) {
	fx := newFuzzFixture(f)
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
		token := input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(fx.live, []byte(input)))
		p, err := fx.v.Verify(context.Background(), token)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		var h struct{ Alg, Kid string }
		if json.Unmarshal(header, &h) != nil || h.Alg != "EdDSA" || h.Kid != fuzzLiveKID {
			t.Fatalf("accepted header %q", header)
		}
		claims, ok := stdObject(payload)
		if !ok {
			t.Fatalf("accepted a payload that is not one UTF-8 JSON object without duplicates: %q", payload)
		}
		sub, _ := claims["sub"].(string)
		cid, _ := claims["client_id"].(string)
		if cid == "" {
			cid, _ = claims["azp"].(string)
		}
		exp, expOK := numeric(claims["exp"])
		nbf, nbfOK := numeric(claims["nbf"])
		_, hasAud := claims["aud"]
		now := float64(fuzzNow.Unix())
		if claims["iss"] != fuzzIssuer || sub == "" || cid == "" || !hasAud || !expOK || now >= exp+60 ||
			claims["nbf"] != nil && (!nbfOK || now+60 < nbf) {
			t.Fatalf("accepted claims %q", payload)
		}
		if p.Subject != sub || p.Issuer != fuzzIssuer || p.ClientID != cid || math.Abs(float64(p.Expiry.Unix())-exp) > 1 {
			t.Fatalf("claims %q gave principal %+v", payload, p)
		}
	})
}

// numeric reads a json.Number as a float64.
func numeric(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// stdObject is the reference decodeObject is fuzzed against: data must be
// UTF-8 and one JSON object (encoding/json) whose top-level member names
// are distinct, read by walking the tokens; values decode with UseNumber.
func stdObject(data []byte) (map[string]any, bool) {
	if !utf8.Valid(data) || !json.Valid(data) || !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	_, _ = dec.Token() // '{'
	names := map[string]bool{}
	for dec.More() {
		tok, _ := dec.Token()
		name, _ := tok.(string)
		var skip json.RawMessage
		if names[name] || dec.Decode(&skip) != nil {
			return nil, false
		}
		names[name] = true
	}
	var obj map[string]any
	dec = json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return nil, false
	}
	return obj, true
}

// FuzzDecodeObject compares decodeObject, which reads JOSE headers and JWT
// payloads (RFC 7515 §5.2, RFC 7519 §7.2), with encoding/json. Properties:
// no panic; it accepts exactly what stdObject accepts (one UTF-8 JSON
// object, duplicate top-level members refused), and then returns the same
// members, numbers as json.Number. Seeds: testdata/fuzz/FuzzDecodeObject.
func FuzzDecodeObject(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := decodeObject(data)
		want, ok := stdObject(data)
		if (err == nil) != ok {
			t.Fatalf("decodeObject(%q): err %v, encoding/json ok %v", data, err, ok)
		}
		if ok && !reflect.DeepEqual(obj, want) {
			t.Fatalf("decodeObject(%q) = %v, encoding/json %v", data, obj, want)
		}
	})
}
