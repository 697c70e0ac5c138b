package authn_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/authntest"
	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
)

// The fixed issuer, audience and clock of testdata/fuzz_tokens.json (see
// fuzz_test.go), reused for the payload-only comparisons.
const (
	equivIssuer   = "https://issuer.example"
	equivAudience = "https://mcp.example.com/mcp"
)

var equivFixtureNow = time.Unix(1767225600+600, 0)

// equivFixture holds the verifiers both paths are run with.
type equivFixture struct {
	iss      *authntest.Issuer
	live     *authn.Verifier   // the issuer's keys (real KeySet), its URL, clock frozen at setup
	signed   *authn.Verifier   // the issuer's keys, fixed issuer, fuzz clock
	fixture  *authn.Verifier   // testdata/fuzz_tokens.json keys, fuzz clock
	payloads []*authn.Verifier // every profile, fixed issuer, both clocks
}

func newEquivFixture(f *testing.F) *equivFixture {
	fx := &equivFixture{iss: authntest.NewIssuer(f)}
	now := time.Now()
	allow := authn.StaticClientIDs{authntest.ClientID, "test-client"}
	ks := startKeySet(f, fx.iss, func(o *authn.KeySetOptions) { o.MinRefreshInterval = time.Hour })
	fx.live = newVerifier(f, ks, fx.iss, func(p *authn.Policy) {
		p.Now, p.CacheTTL, p.ClientIDs = func() time.Time { return now }, -1, allow
	})
	fx.signed = newVerifier(f, ks, fx.iss, func(p *authn.Policy) {
		p.Issuer, p.Now, p.CacheTTL = equivIssuer, func() time.Time { return equivFixtureNow }, -1
	})

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
	keys := staticKeys{}
	for _, k := range file.Keys {
		b, _ := json.Marshal(k)
		if keys[k["kid"]], err = jwk.ParseKey(b); err != nil {
			f.Fatal(err)
		}
	}
	fx.fixture, err = authn.NewVerifier(keys, authn.Policy{Issuer: equivIssuer, Audiences: []string{equivAudience},
		Profile: profile(f, "generic"), Now: func() time.Time { return equivFixtureNow }, CacheTTL: -1})
	if err != nil {
		f.Fatal(err)
	}
	for _, clock := range []time.Time{now, equivFixtureNow} {
		for i, name := range idp.Names() {
			p := authn.Policy{Issuer: equivIssuer, Audiences: []string{equivAudience, "api://mcp"},
				Profile: profile(f, name), Now: func() time.Time { return clock }, CacheTTL: -1}
			if i%2 == 0 || p.Profile.MayOmitAudience {
				p.ClientIDs = allow
				p.InsecureAllowMissingAudience = p.Profile.MayOmitAudience
			}
			v, err := authn.NewVerifier(keys, p)
			if err != nil {
				f.Fatal(err)
			}
			fx.payloads = append(fx.payloads, v)
		}
	}
	for _, tok := range file.Tokens {
		f.Add(tok, segment(tok, 0), segment(tok, 1))
	}
	return fx
}

// segment returns the decoded i-th segment of a compact token, or nil.
func segment(tok string, i int) []byte {
	parts := strings.Split(tok, ".")
	if len(parts) <= i {
		return nil
	}
	b, _ := base64.RawURLEncoding.DecodeString(parts[i])
	return b
}

// exported is the comparable part of a Principal.
func exported(p *authn.Principal) any {
	if p == nil {
		return nil
	}
	return [...]any{p.Subject, p.ClientID, p.Username, p.Scopes, p.ScopeImplications, p.Issuer, p.Audience,
		p.Expiry, p.IssuedAt}
}

// sameOutcome fails unless the single-pass result equals the reference:
// accept or refuse alike, the same FailureReason, the same message (except
// for JSON syntax errors, whose wording differs, and token-type markers,
// which the reference checked in map order), and equal principals with
// equal claims.
func sameOutcome(t *testing.T, what string, in any, p *authn.Principal, err error, lp *authn.Principal, lclaims map[string]any, lerr error) {
	t.Helper()
	if (err == nil) != (lerr == nil) || authn.FailureReason(err) != authn.FailureReason(lerr) {
		t.Fatalf("%s %q: new error %v (%s), reference %v (%s)", what, in, err, authn.FailureReason(err), lerr, authn.FailureReason(lerr))
	}
	if r := authn.FailureReason(err); err != nil && r != authn.ReasonMalformed && r != authn.ReasonTokenType && err.Error() != lerr.Error() {
		t.Fatalf("%s %q: new message %q, reference %q", what, in, err, lerr)
	}
	if err != nil || p == nil && lp == nil {
		return
	}
	if !reflect.DeepEqual(exported(p), exported(lp)) {
		t.Fatalf("%s %q: new principal %+v, reference %+v", what, in, exported(p), exported(lp))
	}
	if c := p.Claims(); !reflect.DeepEqual(c, lclaims) {
		t.Fatalf("%s %q: new claims %v, reference %v", what, in, c, lclaims)
	}
}

// FuzzDecoderEquivalence holds the single-pass header and payload decoder
// and the direct crypto verification to the former path kept in
// legacy_*_test.go (json.Decoder into a map, jwx verifier): for the same
// input both must accept or both refuse, with the same FailureReason, and
// extract the same values. Each input is checked four ways: tok verbatim
// (issuer keys and testdata/fuzz_tokens.json keys); header alone (with and
// without a typ allow-list); payload alone under every idp profile; and
// header and payload signed with the issuer's Ed25519 key, so that the
// claim checks are reached through Verify. Seeds: authntest.Attacks, the
// fuzz_tokens.json tokens, the corpora of FuzzVerify, FuzzVerifySigned and
// FuzzDecodeObject, equivHeaders and equivPayloads, and
// testdata/fuzz/FuzzDecoderEquivalence.
func FuzzDecoderEquivalence(f *testing.F) {
	fx := newEquivFixture(f)
	for _, a := range authntest.Attacks(fx.iss, testAudience) {
		f.Add(a.Token, segment(a.Token, 0), []byte(strings.ReplaceAll(string(segment(a.Token, 1)), fx.iss.URL, equivIssuer)))
	}
	good := fx.iss.Mint(fx.iss.Claims(testAudience), authntest.WithAlg("EdDSA"))
	f.Add(good, segment(good, 0), segment(good, 1))
	addCorpusSeeds(f)
	addEquivSeeds(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, tok string, header, payload []byte) {
		for _, v := range []*authn.Verifier{fx.live, fx.fixture} {
			p, err := v.Verify(ctx, tok)
			lp, lc, lerr := authn.LegacyVerify(v, ctx, tok)
			sameOutcome(t, "token", tok, p, err, lp, lc, lerr)
		}
		for _, typs := range [][]string{profile(t, "generic").TypHeaders, nil} {
			alg, kid, err := authn.NewHeader(header, typs)
			lalg, lkid, lerr := authn.LegacyHeader(header, typs)
			sameOutcome(t, "header", header, nil, err, nil, nil, lerr)
			if err == nil && (alg != lalg || kid != lkid) {
				t.Fatalf("header %q: new alg %q kid %q, reference %q %q", header, alg, kid, lalg, lkid)
			}
		}
		for _, v := range fx.payloads {
			p, err := authn.NewPayload(v, ctx, payload)
			lp, lc, lerr := authn.LegacyPayload(v, ctx, payload)
			sameOutcome(t, "payload", payload, p, err, lp, lc, lerr)
		}
		input := authntest.B64(header) + "." + authntest.B64(payload)
		signed := input + "." + authntest.B64(ed25519.Sign(fx.iss.Ed, []byte(input)))
		p, err := fx.signed.Verify(ctx, signed)
		lp, lc, lerr := authn.LegacyVerify(fx.signed, ctx, signed)
		sameOutcome(t, "signed token", signed, p, err, lp, lc, lerr)
	})
}

// addCorpusSeeds adds the stored inputs of the other fuzz targets
// (testdata/fuzz/FuzzX, go test fuzz v1): each file's values become the
// token, header and payload they fit.
func addCorpusSeeds(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/fuzz/Fuzz*")
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, file := range files {
			vals := corpusValues(f, file)
			switch {
			case strings.HasSuffix(dir, "FuzzDecoderEquivalence"): // go test reads it itself
			case len(vals) == 2: // FuzzVerifySigned: header, payload
				f.Add("", vals[0], vals[1])
			case len(vals) == 1: // FuzzVerify: a token; FuzzDecodeObject: an object
				f.Add(string(vals[0]), vals[0], vals[0])
			}
		}
	}
}

// corpusValues reads the string and []byte values of a corpus file.
func corpusValues(f *testing.F, file string) [][]byte {
	data, err := os.ReadFile(file)
	if err != nil {
		f.Fatal(err)
	}
	var vals [][]byte
	for _, line := range strings.Split(string(data), "\n")[1:] {
		line = strings.TrimSpace(line)
		open := strings.IndexByte(line, '(')
		if open < 0 || !strings.HasSuffix(line, ")") {
			continue
		}
		s, err := strconv.Unquote(line[open+1 : len(line)-1])
		if err != nil {
			f.Fatalf("%s: %v", file, err)
		}
		vals = append(vals, []byte(s))
	}
	return vals
}
