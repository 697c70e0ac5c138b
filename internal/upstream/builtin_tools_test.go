package upstream

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/call"
)

// post sends one sessionless (2026-07-28) JSON-RPC request to h, as the
// gateway's front hands it over, and returns the response body.
func post(tb testing.TB, h http.Handler, method, name, params string) string {
	tb.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"` + method + `","params":` + params + `}`
	r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer opaque")
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json, text/event-stream")
	r.Header.Set(mcpwire.HeaderProtocolVersion, mcpwire.Version20260728)
	r.Header.Set(mcpwire.HeaderMethod, method)
	if name != "" {
		r.Header.Set(mcpwire.HeaderName, name)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Body.String()
}

// sseData is the data of the one event in an SSE response body.
func sseData(body string) string {
	for line := range strings.Lines(body) {
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			return data
		}
	}
	return body
}

// sessionlessMeta is the _meta a 2026-07-28 request carries.
const sessionlessMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`

// callTool sends tools/call of tool with the raw JSON text args (empty:
// no arguments member).
func callTool(tb testing.TB, h http.Handler, tool, args string) string {
	tb.Helper()
	params := `{"name":"` + tool + `",`
	if args != "" {
		params += `"arguments":` + args + `,`
	}
	return post(tb, h, "tools/call", tool, params+sessionlessMeta+`}`)
}

// viaAddTool is the built-in server with its tools registered the generic
// way, mcp.AddTool: what the raw registration must answer identically.
func viaAddTool(p *authn.Principal) http.Handler {
	return withPrincipal(p, call.Read(0, newBuiltin(BuiltinOptions{Version: "t"}, func(srv *mcp.Server) {
		for _, t := range builtinTools() {
			typed := *t.tool
			typed.InputSchema, typed.OutputSchema = nil, nil
			switch t.tool.Name {
			case "echo":
				mcp.AddTool(srv, &typed, echo)
			case "whoami":
				mcp.AddTool(srv, &typed, whoami)
			}
		}
	})))
}

// TestBuiltinToolsMatchSDK: with the raw registration every built-in tool
// answers every call byte for byte as its mcp.AddTool registration does:
// tools/list (names, schemas), results (content and structuredContent)
// and the tool errors for arguments that do not fit the input schema.
func TestBuiltinToolsMatchSDK(t *testing.T) {
	p := &authn.Principal{Subject: "alice", Issuer: "https://issuer.test", ClientID: "c", Username: "al<i>ce",
		Scopes: []string{"mcp:read", "b&c"}, Audience: []string{"https://gw.test/mcp"},
		Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	got := withPrincipal(p, call.Read(0, NewBuiltin(BuiltinOptions{Version: "t"})))
	want := viaAddTool(p)

	if g, w := post(t, got, "tools/list", "", `{`+sessionlessMeta+`}`), post(t, want, "tools/list", "", `{`+sessionlessMeta+`}`); g != w {
		t.Errorf("tools/list:\n got %s\nwant %s", g, w)
	}
	for _, c := range []struct{ tool, args string }{
		{"echo", `{"message":"hi"}`},
		{"echo", `{ "message" : "spaced" }`},
		{"echo", `{"message":""}`},
		{"echo", `{"message":"<&> \"q\" \\ é \u00e9 \n \u0000 \u2028"}`},
		{"echo", `{"message":"\ud800 lone surrogate"}`},
		{"echo", "{\"message\":\"\xff invalid UTF-8\"}"},
		{"echo", `{"message":"a","message":"b"}`},
		{"echo", `{"message":1,"message":"b"}`},
		{"echo", `{"message":"b","message":1}`},
		{"echo", ``},
		{"echo", `null`},
		{"echo", `{}`},
		{"echo", `[]`},
		{"echo", `["hi"]`},
		{"echo", `"hi"`},
		{"echo", `1`},
		{"echo", `true`},
		{"echo", `{"message":1}`},
		{"echo", `{"message":1e400}`},
		{"echo", `{"message":null}`},
		{"echo", `{"message":["hi"]}`},
		{"echo", `{"message":{"a":1}}`},
		{"echo", `{"Message":"hi"}`},
		{"echo", `{"MESSAGE":"hi"}`},
		{"echo", `{"message":"hi","extra":1}`},
		{"echo", `{"message":"hi","":1}`},
		{"echo", `{"message":"hi","x":1e400}`},
		{"whoami", ``},
		{"whoami", `{}`},
		{"whoami", `{ }`},
		{"whoami", `null`},
		{"whoami", `[]`},
		{"whoami", `"x"`},
		{"whoami", `0`},
		{"whoami", `{"a":1}`},
		{"whoami", `{"subject":"mallory"}`},
	} {
		g, w := callTool(t, got, c.tool, c.args), callTool(t, want, c.tool, c.args)
		if g != w {
			t.Errorf("%s %s:\n got %s\nwant %s", c.tool, c.args, g, w)
		}
	}
}

// TestBuiltinToolErrors pins the answers to bad arguments: a tool error
// (isError, HTTP 200) naming what is wrong, not a JSON-RPC error.
func TestBuiltinToolErrors(t *testing.T) {
	p := &authn.Principal{Subject: "alice", Issuer: "https://issuer.test", Expiry: time.Now().Add(time.Hour)}
	h := withPrincipal(p, call.Read(0, NewBuiltin(BuiltinOptions{Version: "t"})))
	for _, c := range []struct{ tool, args, want string }{
		{"echo", `{}`, `missing properties: [\"message\"]`},
		{"echo", ``, `missing properties: [\"message\"]`},
		{"echo", `{"message":1}`, `has type \"integer\", want \"string\"`},
		{"echo", `{"Message":"hi"}`, `unexpected additional properties [\"Message\"]`},
		{"echo", `[]`, `unmarshaling arguments: json: cannot unmarshal`},
		{"whoami", `{"a":1}`, `unexpected additional properties [\"a\"]`},
	} {
		body := callTool(t, h, c.tool, c.args)
		if !strings.Contains(body, `"isError":true`) || !strings.Contains(body, `validating \"arguments\": `) || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %s, want a tool error containing %s", c.tool, c.args, body, c.want)
		}
	}
}

// TestBuiltinToolOutputsFitSchema: the raw registration skips validating
// results against the output schemas, which holds only while every result
// fits the schema derived from its type.
func TestBuiltinToolOutputsFitSchema(t *testing.T) {
	p := &authn.Principal{Subject: "alice", Issuer: "https://issuer.test", Expiry: time.Now().Add(time.Hour)}
	h := withPrincipal(p, call.Read(0, NewBuiltin(BuiltinOptions{Version: "t"})))
	for _, tool := range builtinTools() {
		args := map[string]string{"echo": `{"message":"hi"}`, "whoami": `{}`}[tool.tool.Name]
		var resp struct {
			Result struct {
				IsError           bool            `json:"isError"`
				StructuredContent json.RawMessage `json:"structuredContent"`
			} `json:"result"`
		}
		body := sseData(callTool(t, h, tool.tool.Name, args))
		if err := json.Unmarshal([]byte(body), &resp); err != nil || resp.Result.IsError || resp.Result.StructuredContent == nil {
			t.Fatalf("%s: %s (%v)", tool.tool.Name, body, err)
		}
		var v any
		if err := json.Unmarshal(resp.Result.StructuredContent, &v); err != nil {
			t.Fatal(err)
		}
		if err := tool.out.Validate(&v); err != nil {
			t.Errorf("%s: structuredContent %s does not fit its output schema: %v", tool.tool.Name, resp.Result.StructuredContent, err)
		}
	}
}
