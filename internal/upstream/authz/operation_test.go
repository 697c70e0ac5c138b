package authz

import (
	"slices"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
)

func TestOperationOf(t *testing.T) {
	const meta26 = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}`
	tests := []struct {
		body        string
		sessionless bool
		kind        kind
		names       []string
		code        int // -32602 expected
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"Name":"x"}}}`, false, kindTool, []string{"echo"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p"}}`, false, kindPrompt, []string{"p"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"x":"}\"{,","y":[{"name":"echo"}],"z":-1.5e3,"w":null},"name":"admin.x"}}`, false, kindTool, []string{"admin.x"}, 0},
		{` { "jsonrpc" : "2.0" , "id" : 1 , "method" : "tools/call" , "params" : { "n\u0061me" : "a\"b" } } `, false, kindTool, []string{`a"b`}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a/../b"}}`, false, kindResource, []string{"file:///a/../b"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"u"}}`, false, kindResource, []string{"u"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"u"}}`, true, kindResource, []string{"u"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"u",` + meta26 + `}}`, false, kindResource, []string{"u"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"u",` + meta26 + `}}`, true, kindNone, nil, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{` + meta26 + `}}`, true, kindNone, nil, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/unsubscribe","params":{"uri":1}}`, false, kindNone, nil, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"a","value":""}}}`, false, kindPrompt, []string{"p"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"u/{x}"}}}`, false, kindResource, []string{"u/{x}"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"notifications":{"resourceSubscriptions":["a","b"]}}}`, true, kindResource, []string{"a", "b"}, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"notifications":null}}`, true, kindResource, nil, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen"}`, true, kindResource, nil, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":1}}`, false, kindNone, nil, 0},
		{`{"jsonrpc":"2.0","id":1,"method":"x/y","params":{"name":1,"NAME":2}}`, false, kindNone, nil, 0},
		{`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"n"}}`, false, kindTool, []string{"n"}, 0},

		{`{"jsonrpc":"2.0","id":1,"method":"tools/call"}`, false, 0, nil, mcpwire.CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":1}}`, false, 0, nil, mcpwire.CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","Name":"b"}}`, false, 0, nil, mcpwire.CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"NAME":"b"}}`, false, 0, nil, mcpwire.CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","n\u0061me":"b"}}`, false, 0, nil, mcpwire.CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["admin.x"]}`, false, 0, nil, mcpwire.CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":null}}`, true, 0, nil, mcpwire.CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{}}`, false, 0, nil, mcpwire.CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt"}}}`, false, 0, nil, mcpwire.CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"notifications":{"resourceSubscriptions":"a"}}}`, true, 0, nil, mcpwire.CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"Notifications":{}}}`, true, 0, nil, mcpwire.CodeInvalidParams},
	}
	for _, tt := range tests {
		m, perr := mcpwire.ParseMessage([]byte(tt.body))
		if perr != nil {
			t.Fatalf("%s: %v", tt.body, perr)
		}
		op, err := operationOf(&m, tt.sessionless)
		if tt.code != 0 {
			if err == nil || err.Code != tt.code || string(err.ID) != "1" || err.Status != 400 {
				t.Errorf("%s: err = %+v, want code %d with id 1", tt.body, err, tt.code)
			}
			continue
		}
		if err != nil || op.kind != tt.kind || !slices.Equal(op.names, tt.names) {
			t.Errorf("%s (sessionless %v): got %+v, %v; want %v %q", tt.body, tt.sessionless, op, err, tt.kind, tt.names)
		}
	}
}
