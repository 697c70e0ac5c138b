package mcpwire

import (
	"bytes"
	"encoding/json"
	"testing"
)

const (
	testParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	testState  = "congo=t61rcWkgMzE"
)

func TestSetTraceMeta(t *testing.T) {
	tp := `"traceparent":"` + testParent + `"`
	ts := `"tracestate":"` + testState + `"`
	for _, c := range []struct {
		name, in, state, want string
	}{
		{"no params", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, "",
			`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{` + tp + `}}}`},
		{"empty params", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{ }}`, "",
			`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{` + tp + `} }}`},
		{"params without _meta, white space kept", "{ \"jsonrpc\": \"2.0\",\n \"id\": \"a\", \"method\": \"tools/call\",\n \"params\": {\"name\": \"echo\", \"arguments\": {\"x\": [1, 2]}} }\n", testState,
			"{ \"jsonrpc\": \"2.0\",\n \"id\": \"a\", \"method\": \"tools/call\",\n \"params\": {\"_meta\":{" + tp + "," + ts + "},\"name\": \"echo\", \"arguments\": {\"x\": [1, 2]}} }\n"},
		{"_meta kept, trace members replaced", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"e","_meta":{"progressToken":7, "traceparent":"old","tracestate":"stale","x":{"y":"}"}},"arguments":{}}}`, "",
			`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"e","_meta":{` + tp + `,"progressToken":7,"x":{"y":"}"}},"arguments":{}}}`},
		{"tracestate set", `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{}}}`, testState,
			`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{` + tp + `,` + ts + `}}}`},
		{"escaped names and values kept", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"na\u006de":"\u00e9\"","_meta":{"k\u00e9":"v"}}}`, "",
			`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"na\u006de":"\u00e9\"","_meta":{` + tp + `,"k\u00e9":"v"}}}`},
		{"batch: requests only, separators kept", `[ {"jsonrpc":"2.0","id":1,"method":"ping"} , {"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":9,"result":{}},{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"c"}}]`, "",
			`[ {"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{` + tp + `}}} , {"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":9,"result":{}},{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{` + tp + `},"cursor":"c"}}]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			orig := bytes.Clone(in)
			got := SetTraceMeta(in, testParent, c.state)
			if string(got) != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
			if !bytes.Equal(in, orig) {
				t.Error("input modified in place")
			}
			if _, perr := ParseBody(got); perr != nil {
				t.Errorf("result does not parse: %v", perr)
			}
		})
	}
}

// TestSetTraceMetaLeavesAlone: what cannot carry trace context is
// returned as it came (the same slice).
func TestSetTraceMetaLeavesAlone(t *testing.T) {
	for _, in := range []string{
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":1,"result":{}}`,
		`{"jsonrpc":"2.0","id":1,"method":"m","params":[1,2]}`,
		`{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":null}}`,
		`{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"traceparent":1,"traceparent":2}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"TraceParent":"x"}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{},"_meta":{}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"m","params":{"_Meta":{}}}`,
		`[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","id":1,"result":1}]`,
		`"not a message"`,
	} {
		raw := []byte(in)
		if got := SetTraceMeta(raw, testParent, testState); &got[0] != &raw[0] || len(got) != len(raw) {
			t.Errorf("%s: rewritten to %s", in, got)
		}
	}
	raw := []byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	if got := SetTraceMeta(raw, "", testState); &got[0] != &raw[0] {
		t.Error("rewritten without a traceparent")
	}
}

// TestSetTraceMetaReadable: a peer decoding the result finds the trace
// context where MCP clients put it, next to the original params.
func TestSetTraceMetaReadable(t *testing.T) {
	got := SetTraceMeta([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","_meta":{"progressToken":"p"}}}`), testParent, testState)
	var m struct {
		Params struct {
			Name string `json:"name"`
			Meta struct {
				TraceParent   string `json:"traceparent"`
				TraceState    string `json:"tracestate"`
				ProgressToken string `json:"progressToken"`
			} `json:"_meta"`
		} `json:"params"`
	}
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	if m.Params.Name != "echo" || m.Params.Meta.TraceParent != testParent || m.Params.Meta.TraceState != testState || m.Params.Meta.ProgressToken != "p" {
		t.Fatalf("decoded %+v", m)
	}
}

// FuzzSetTraceMeta: for any body ParseBody accepts, the result parses to
// the same messages (same methods and ids), and every rewritten request
// carries the traceparent.
func FuzzSetTraceMeta(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"e","_meta":{"progressToken":1}}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"n","params":{}}]`,
		`{"jsonrpc":"2.0","id":"x","method":"m","params":{ "_meta" : { "a\"b" : [ ] } } }`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		before, perr := ParseBody([]byte(in))
		if perr != nil {
			return
		}
		out := SetTraceMeta([]byte(in), testParent, testState)
		after, perr := ParseBody(out)
		if perr != nil {
			t.Fatalf("%s became %s, which does not parse: %v", in, out, perr)
		}
		if len(after.Messages) != len(before.Messages) {
			t.Fatalf("%d messages became %d", len(before.Messages), len(after.Messages))
		}
		for i, m := range after.Messages {
			b := before.Messages[i]
			if m.Method != b.Method || !bytes.Equal(m.ID, b.ID) {
				t.Fatalf("message %d changed: %s -> %s", i, b.Raw, m.Raw)
			}
			if bytes.Equal(m.Raw, b.Raw) {
				continue
			}
			params, err := Object(m.Params, "_meta")
			if err != nil {
				t.Fatalf("rewritten params: %v", err)
			}
			meta, err := Object(params["_meta"], MetaTraceParent)
			if err != nil {
				t.Fatalf("rewritten _meta: %v", err)
			}
			if v, _ := String(meta[MetaTraceParent]); v != testParent {
				t.Fatalf("traceparent %q in %s", v, m.Raw)
			}
		}
	})
}
