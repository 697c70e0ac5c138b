package authz

import (
	"testing"
)

func TestParseBody(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		code  int64 // 0: accepted
		n     int
		batch bool
	}{
		{"request", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, 0, 1, false},
		{"string id", `{"jsonrpc":"2.0","id":"a","method":"ping"}`, 0, 1, false},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, 0, 1, false},
		{"response", `{"jsonrpc":"2.0","id":7,"result":{}}`, 0, 1, false},
		{"error response", `{"jsonrpc":"2.0","id":7,"error":{"code":1,"message":"x"}}`, 0, 1, false},
		{"leading space", " \n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", 0, 1, false},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"}]`, 0, 2, true},

		{"empty", ``, codeParseError, 0, false},
		{"truncated", `{"jsonrpc":"2.0"`, codeParseError, 0, false},
		{"trailing garbage", `{"jsonrpc":"2.0","id":1,"method":"ping"} x`, codeParseError, 0, false},
		{"invalid UTF-8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\xffing\"}", codeParseError, 0, false},

		{"number", `42`, codeInvalidRequest, 0, false},
		{"string", `"x"`, codeInvalidRequest, 0, false},
		{"empty batch", `[]`, codeInvalidRequest, 0, true},
		{"batch of numbers", `[1]`, codeInvalidRequest, 0, true},
		{"no version", `{"id":1,"method":"ping"}`, codeInvalidRequest, 0, false},
		{"version 1", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, codeInvalidRequest, 0, false},
		{"null id", `{"jsonrpc":"2.0","id":null,"method":"ping"}`, codeInvalidRequest, 0, false},
		{"object id", `{"jsonrpc":"2.0","id":{},"method":"ping"}`, codeInvalidRequest, 0, false},
		{"method not string", `{"jsonrpc":"2.0","id":1,"method":1}`, codeInvalidRequest, 0, false},
		{"empty method", `{"jsonrpc":"2.0","id":1,"method":""}`, codeInvalidRequest, 0, false},
		{"method and result", `{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}`, codeInvalidRequest, 0, false},
		{"result and error", `{"jsonrpc":"2.0","id":1,"result":{},"error":{}}`, codeInvalidRequest, 0, false},
		{"response without id", `{"jsonrpc":"2.0","result":{}}`, codeInvalidRequest, 0, false},
		{"nothing", `{"jsonrpc":"2.0","id":1}`, codeInvalidRequest, 0, false},
		{"duplicate method", `{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"tools/list"}`, codeInvalidRequest, 0, false},
		{"case-variant method", `{"jsonrpc":"2.0","id":1,"method":"tools/list","Method":"tools/call"}`, codeInvalidRequest, 0, false},
		{"only case-variant method", `{"jsonrpc":"2.0","id":1,"METHOD":"tools/call"}`, codeInvalidRequest, 0, false},
		{"long s params", `{"jsonrpc":"2.0","id":1,"method":"tools/call","param\u017f":{}}`, codeInvalidRequest, 0, false},
		{"bad element in batch", `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"id":2}]`, codeInvalidRequest, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, batch, err := parseBody([]byte(tt.body))
			if tt.code != 0 {
				if err == nil || err.code != tt.code {
					t.Fatalf("err = %+v, want code %d", err, tt.code)
				}
				return
			}
			if err != nil || len(msgs) != tt.n || batch != tt.batch {
				t.Fatalf("got %d msgs batch=%v err=%v", len(msgs), batch, err)
			}
		})
	}
}

func TestOperationOf(t *testing.T) {
	tests := []struct {
		body  string
		kind  kind
		names []string
		code  int64
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"Name":"x"}}}`, kindTool, []string{"echo"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p"}}`, kindPrompt, []string{"p"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"x":"}\"{,","y":[{"name":"echo"}],"z":-1.5e3,"w":null},"name":"admin.x"}}`, kindTool, []string{"admin.x"}, 0},
		{` { "jsonrpc" : "2.0" , "id" : 1 , "method" : "tools/call" , "params" : { "n\u0061me" : "a\"b" } } `, kindTool, []string{`a"b`}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a/../b"}}`, kindResource, []string{"file:///a/../b", "file:///b"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"u"}}`, kindResource, []string{"u"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/unsubscribe","params":{"uri":"u"}}`, kindNone, nil, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"a","value":""}}}`, kindPrompt, []string{"p"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"u/{x}"}}}`, kindResource, []string{"u/{x}"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, kindNone, nil, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call"}`, 0, nil, codeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":1}}`, 0, nil, codeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}`, 0, nil, codeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","Name":"b"}}`, 0, nil, codeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"NAME":"b"}}`, 0, nil, codeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","n\u0061me":"b"}}`, 0, nil, codeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["admin.x"]}`, 0, nil, codeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":null}}`, 0, nil, codeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt"}}}`, 0, nil, codeInvalidParams},
	}
	for _, tt := range tests {
		msgs, _, perr := parseBody([]byte(tt.body))
		if perr != nil {
			t.Fatalf("%s: %v", tt.body, perr)
		}
		op, err := operationOf(msgs[0])
		if tt.code != 0 {
			if err == nil || err.code != tt.code || string(err.id) != "1" {
				t.Errorf("%s: err = %+v, want code %d with id 1", tt.body, err, tt.code)
			}
			continue
		}
		if err != nil || op.kind != tt.kind || len(op.names) != len(tt.names) {
			t.Errorf("%s: got %+v, %v", tt.body, op, err)
			continue
		}
		for i := range op.names {
			if op.names[i] != tt.names[i] {
				t.Errorf("%s: names %q, want %q", tt.body, op.names, tt.names)
			}
		}
	}
}

func TestIDKey(t *testing.T) {
	same := [][]string{
		{`1`, `1.0`, `1e0`, ` 1 `},
		{`"a"`, `"\u0061"`},
	}
	for _, group := range same {
		k0, _ := idKey([]byte(group[0]))
		for _, raw := range group[1:] {
			if k, ok := idKey([]byte(raw)); !ok || k != k0 {
				t.Errorf("idKey(%s) = %q, want %q", raw, k, k0)
			}
		}
	}
	a, _ := idKey([]byte(`1`))
	b, _ := idKey([]byte(`"1"`))
	if a == b {
		t.Error(`1 and "1" must differ`)
	}
	if _, ok := idKey([]byte(`null`)); ok {
		t.Error("null has a key")
	}
}

func TestFold(t *testing.T) {
	for _, pair := range [][2]string{{"params", "PARAMS"}, {"params", "param\u017f"}, {"key", "\u212aEY"}} {
		if fold(pair[0]) != fold(pair[1]) {
			t.Errorf("fold(%q) != fold(%q)", pair[0], pair[1])
		}
	}
	if fold("name") == fold("uri") {
		t.Error("distinct keys fold alike")
	}
}
