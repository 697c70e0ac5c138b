package authn_test

import (
	"fmt"
	"strings"
	"testing"
)

// equivHeaders are JOSE headers at the edges of the JSON and header rules
// (RFC 8259, RFC 7515 §4.1), for FuzzDecoderEquivalence.
var equivHeaders = []string{
	`{"alg":"EdDSA","kid":"ed-1","typ":"at+jwt"}`,
	`{"alg":"EdDSA","kid":"ed-1","\u0061lg":"EdDSA"}`,
	`{"alg":"\u0045dDSA","kid":"ed\u002d1"}`,
	`{"alg":"EdDSA","kid":""}`, `{"alg":"EdDSA","kid":null}`, `{"alg":"EdDSA","kid":1}`,
	`{"alg":"EdDSA","crit":[]}`, `{"alg":"EdDSA","zip":null}`, `{"alg":"EdDSA","cty":"JWT","crit":1}`,
	`{"alg":"EdDSA","b64":false}`, `{"alg":"EdDSA","enc":"A128GCM"}`,
	`{"alg":"EdDSA","typ":"Application/AT+JWT"}`, `{"alg":"EdDSA","typ":""}`, `{"alg":"EdDSA","typ":"\u212Aey"}`,
	`{"alg":"EdDSA","typ":null}`, `{"alg":"EdDSA","typ":"application/"}`,
	`{"alg":null}`, `{"alg":1}`, `{"alg":"none"}`, `{"alg":"HS256"}`, `{"alg":"ES256","kid":"ed-1"}`, `{}`,
	" \t\r\n{\"alg\":\"EdDSA\"} \n", `{"alg":"EdDSA"}x`, `{"alg":"EdDSA",}`, `[{"alg":"EdDSA"}]`, `"{}"`,
	`{"alg":"EdDSA","x":"\ud800"}`, `{"alg":"EdDSA","\ud800":1,"\ufffd":2}`, `{"alg":"EdDSA","x":"\ud800\udc00"}`,
	`{"alg":"EdDSA","x":"\udc00\ud800"}`, `{"alg":"EdDSA","x":"\u00"}`, `{"alg":"EdDSA","x":"\x"}`,
	"{\"alg\":\"EdDSA\",\"x\":\"\x01\"}", "{\"alg\":\"EdDSA\",\"x\":\"\xff\"}", "{\"alg\":\"EdDSA\",\"x\xc3\xa9\":1}",
	`{"alg":"EdDSA","x":[1,{"a":[true,false,null,-0.5e+3,"s"]}],"y":{}}`,
	`{"alg":"EdDSA","x":01}`, `{"alg":"EdDSA","x":1.}`, `{"alg":"EdDSA","x":-}`, `{"alg":"EdDSA","x":1e}`,
	`{"alg":"EdDSA","x":tru}`, `{"alg":"EdDSA","x":[1,]}`, `{"alg":"EdDSA","x":{"a"}}`, `{"alg" "EdDSA"}`,
	`{"alg":"EdDSA" "kid":"ed-1"}`, `{"alg":"EdDSA"`, `{"alg":"EdDSA"]`, `{"alg":"EdDSA","x":[}`,
	`{"alg":"EdDSA","x":{"a":1,"a":2}}`,
	`{"alg":"EdDSA","x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	`{"alg":"EdDSA","x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
	`{"alg":"EdDSA","x":` + strings.Repeat(`{"a":`, 10001) + `1` + strings.Repeat("}", 10001) + `}`,
	manyMembers(`"alg":"EdDSA"`, 40, false), manyMembers(`"alg":"EdDSA"`, 40, true),
	manyMembers(`"alg":"EdDSA"`, 31, true), manyMembers(`"alg":"EdDSA"`, 33, true),
}

// equivPayloads are JWT payloads around each claim rule (RFC 7519 §4.1,
// RFC 9068, the idp profiles), valid at the fixture clock except for the
// rule under test.
var equivPayloads = func() []string {
	const base = `"iss":"https://issuer.example","aud":"https://mcp.example.com/mcp","iat":1767225600`
	claims := func(extra string) string { return `{` + base + `,` + extra + `}` }
	ok := `"sub":"user-1","client_id":"test-client","exp":1767229200`
	out := []string{claims(ok), claims(ok + `,"scope":"mcp:read mcp:write mcp:read"`)}
	for _, exp := range []string{`1767229200.5`, `1e400`, `-1`, `-0`, `253402300799`, `253402300800`, `"1767229200"`,
		`null`, `1.7672292e9`, `17672292000000000000`, `1767225000`, `0.5e-400`, `999999999999999`, `1767229200E0`} {
		out = append(out, claims(`"sub":"user-1","client_id":"test-client","exp":`+exp))
	}
	for _, extra := range []string{
		`"nbf":1767229200`, `"nbf":"x"`, `"iat":1767229200`, `"nbf":null`,
		`"aud":[]`, `"aud":[1]`, `"aud":null`, `"aud":{"a":1}`, `"aud":["x","https://MCP.example.com:443/mcp/"]`,
		`"scope":"a\u00a0b  c\u2003d\te"`, `"scope":["a","a","b"]`, `"scope":null`, `"scope":1`, `"scope":["a",1]`,
		`"scope":""`, `"scp":["x"],"roles":["y","x"],"permissions":"p q"`, `"scp":"r s"`, `"roles":null`,
		`"token_use":"access"`, `"token_use":"id"`, `"token_use":1`, `"typ":"Bearer"`, `"typ":"ID"`, `"typ":null`,
		`"nonce":null`, `"at_hash":"x"`, `"s_hash":1`,
		`"preferred_username":"alice"`, `"preferred_username":1`, `"username":"bob","upn":"u"`, `"unique_name":[]`,
		`"azp":"test-client"`, `"azp":""`, `"azp":1`, `"cid":"c"`, `"appid":"a"`, `"uid":"u"`,
		`"\u0069ss":"https://issuer.example"`, `"x":1,"x":2`, `"\ud800":1,"\ufffd":2`, `"x":{"y":1,"y":2}`,
	} {
		out = append(out, claims(ok+`,`+extra))
	}
	for _, drop := range []string{`"client_id":"test-client","exp":1767229200`, `"sub":"user-1","exp":1767229200`,
		`"sub":"","client_id":"test-client","exp":1767229200`, `"sub":null,"client_id":"test-client","exp":1767229200`,
		`"sub":"user-1","client_id":"","azp":"test-client","exp":1767229200`} {
		out = append(out, claims(drop))
	}
	out = append(out, `{"iss":"https://issuer.example","sub":"u","client_id":"test-client","exp":1767229200,"token_use":"access"}`,
		`{"iss":"https://issuer.example","sub":"u","client_id":"evil","exp":1767229200,"token_use":"access"}`,
		`{"iss":1}`, `{"iss":"https://issuer.example/"}`, `{}`, `null`, `[]`, `"x"`, ``,
		manyMembers(base+`,`+ok, 40, false), manyMembers(base+`,`+ok, 40, true), manyMembers(base+`,`+ok, 200, true))
	return out
}()

// manyMembers is an object of first and n more members "m0".."m<n-1>";
// with dup, a last member repeats "m0" (escaped), past the small name set.
func manyMembers(first string, n int, dup bool) string {
	var b strings.Builder
	b.WriteString("{" + first)
	for i := range n {
		fmt.Fprintf(&b, `,"m%d":%d`, i, i)
	}
	if dup {
		b.WriteString(`,"\u006d0":true`)
	}
	return b.String() + "}"
}

// addEquivSeeds adds every header with the first payload and every payload
// with the first header.
func addEquivSeeds(f *testing.F) {
	for _, h := range equivHeaders {
		f.Add("", []byte(h), []byte(equivPayloads[0]))
	}
	for _, p := range equivPayloads {
		f.Add("", []byte(equivHeaders[0]), []byte(p))
	}
}
