package authn

import (
	"fmt"
	"strings"
	"testing"
)

// readAll reads every member with objReader and checks duplicates as
// parseClaims does (no slots), returning the decoded names.
func readAll(data []byte) ([]string, error) {
	var names []string
	var set nameSet
	r := objReader{d: data}
	for {
		raw, esc, _, ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return names, nil
		}
		name := memberName(raw, esc)
		if !set.add(name) {
			return nil, errDuplicate(name)
		}
		names = append(names, string(name))
	}
}

// TestObjReaderMatchesDecodeObject holds the single-pass scanner to
// decodeObject (encoding/json) on the edges of RFC 8259: both accept or
// both refuse, and accepted objects have the same member names.
func TestObjReaderMatchesDecodeObject(t *testing.T) {
	many := func(n int, dup string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, `"m%d":[%d],`, i, i)
		}
		return b.String() + `"` + dup + `":0}`
	}
	inputs := []string{
		`{}`, ` {} `, `{"a":1}`, "\t{\"a\" : 1 ,\n\"b\":[] }\r\n", `{"a":{"b":{"c":[1,2,{"d":null}]}}}`,
		``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,"a":1}`, `{"a":1 "b":2}`, `{"a":1}{}`, `{"a":1} x`,
		`[]`, `"s"`, `1`, `null`, `tru`, `{"a":tru}`, `{"a":nul}`, `{"a":falsey}`, `{a:1}`, `{'a':1}`,
		`{"a":01}`, `{"a":-01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":1e+}`, `{"a":-}`, `{"a":+1}`, `{"a":0x1}`,
		`{"a":-0.0e-0}`, `{"a":1E400}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":{"b"}}`, `{"a":{"b":1,}}`, `{"a":[}`, `{"a":{]}`,
		`{"a":"\u00e9\ud83d\ude00"}`, `{"a":"\ud800"}`, `{"a":"\u12"}`, `{"a":"\u12G4"}`, `{"a":"\q"}`, `{"a":"\/\b\f\n\r\t"}`,
		"{\"a\":\"\x00\"}", "{\"a\":\"\x1f\"}", "{\"a\":\"\x7f\"}", "{\"a\":\"\xff\"}", "{\"a\":\"\xed\xa0\x80\"}", "\xef\xbb\xbf{}",
		`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"\ud800":1,"\ufffd":2}`, `{"\ud800\udc00":1,"𐀀":2}`, `{"a":{"x":1,"x":2}}`,
		`{"A":1,"a":2}`, "{\"\u212a\":1,\"K\":2}",
		`{"a":` + strings.Repeat("[", maxNestingDepth) + strings.Repeat("]", maxNestingDepth) + `}`,
		`{"a":` + strings.Repeat("[", maxNestingDepth+1) + strings.Repeat("]", maxNestingDepth+1) + `}`,
		`{"a":` + strings.Repeat(`{"b":`, maxNestingDepth) + `0` + strings.Repeat("}", maxNestingDepth) + `}`,
		`{"a":` + strings.Repeat(`{"b":`, maxNestingDepth+1) + `0` + strings.Repeat("}", maxNestingDepth+1) + `}`,
		many(nameSetSmall-1, "m0"), many(nameSetSmall, "m0"), many(nameSetSmall+1, `\u006d0`), many(5000, `m4999`), many(5000, "x"),
	}
	for _, in := range inputs {
		names, err := readAll([]byte(in))
		obj, oerr := decodeObject([]byte(in))
		short := in
		if len(short) > 60 {
			short = short[:60] + "..."
		}
		if (err == nil) != (oerr == nil) {
			t.Errorf("%q: objReader error %v, decodeObject error %v", short, err, oerr)
			continue
		}
		if err != nil {
			continue
		}
		if len(names) != len(obj) {
			t.Errorf("%q: %d names, decodeObject %d", short, len(names), len(obj))
		}
		for _, n := range names {
			if _, ok := obj[n]; !ok {
				t.Errorf("%q: name %q not in decodeObject's map", short, n)
			}
		}
	}
}

// TestUnescapeMatchesEncodingJSON checks string decoding, including
// unpaired surrogates, against decodeObject.
func TestUnescapeMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{`a`, `\"\\\/`, `\u0041\u00e9`, `\ud83d\ude00`, `\ud800`, `\udc00\ud800`, `\ud800x`,
		`\ud800\u0041`, `\ud800\ud800\udc00`, `é\n\t`, `\u0000`} {
		obj, err := decodeObject([]byte(`{"k":"` + s + `"}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(jval(`"` + s + `"`).str()); got != obj["k"] {
			t.Errorf("%q: str() = %q, encoding/json %q", s, got, obj["k"])
		}
	}
}
