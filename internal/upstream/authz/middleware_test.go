package authz_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/upstream/authz"
)

// fakeUpstream answers like an MCP server: list methods get fixed lists,
// other requests an empty result, notifications and responses 202. The
// request header X-Mode: sse asks for an event stream. It records what
// reached it.
type fakeUpstream struct {
	mu      sync.Mutex
	reached int
	body    string
	length  int64
}

var lists = map[string]string{
	"tools/list":               `{"tools":[{"name":"echo"},{"name":"admin.reset"},{"name":"repo.delete"}]}`,
	"resources/list":           `{"resources":[{"uri":"file:///public/a"},{"uri":"file:///secret/b"}]}`,
	"resources/templates/list": `{"resourceTemplates":[{"uriTemplate":"file:///secret/{x}"},{"uriTemplate":"file:///public/{x}"}]}`,
	"prompts/list":             `{"prompts":[{"name":"greet"},{"name":"secret_plan"}]}`,
}

func (f *fakeUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reached++
	f.body, f.length = string(b), r.ContentLength
	f.mu.Unlock()
	var msgs []struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	if json.Unmarshal(b, &msgs) != nil {
		msgs = msgs[:0]
		var one struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.Unmarshal(b, &one)
		msgs = append(msgs, one)
	}
	var out []string
	for _, m := range msgs {
		if m.ID == nil || m.Method == "" {
			continue
		}
		res, ok := lists[m.Method]
		if !ok {
			res = "{}"
		}
		out = append(out, fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":%s}`, m.ID, res))
	}
	if len(out) == 0 {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	payload := out[0]
	if strings.HasPrefix(strings.TrimSpace(string(b)), "[") {
		payload = "[" + strings.Join(out, ",") + "]"
	}
	if r.Header.Get("X-Mode") == "sse" {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"admin.reset\"}}\n\n")
		fmt.Fprintf(w, "event: message\nid: 1\ndata: %s\n\n", payload)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
	_, _ = io.WriteString(w, payload)
}

func rpc(id int, method, params string) string {
	if params == "" {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q}`, id, method)
	}
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, id, method, params)
}

// TestMiddleware drives every decision through a real HTTP server with the
// bearer middleware in front, checking status, what reached the upstream
// and what the client got.
func TestMiddleware(t *testing.T) {
	const (
		v25  = "MCP-Protocol-Version: 2025-06-18"
		v26  = "MCP-Protocol-Version: 2026-07-28"
		v325 = "MCP-Protocol-Version: 2025-03-26"
		sse  = "X-Mode: sse"
	)
	admin := "mcp+tools:admin"
	const meta26 = `{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`
	tests := []struct {
		name    string
		token   string
		body    string
		headers []string
		status  int
		reached bool
		has     []string // substrings of the response body
		hasNot  []string
		scope   string // 403: the challenge's scope
		code    int    // 400: the JSON-RPC error code
	}{
		{name: "call allowed (no rule)", token: "mcp", body: rpc(1, "tools/call", `{"name":"echo","arguments":{}}`), status: 200, reached: true},
		{name: "call allowed (rule)", token: admin, body: rpc(1, "tools/call", `{"name":"admin.reset"}`), status: 200, reached: true},
		{name: "call denied", token: "mcp", body: rpc(1, "tools/call", `{"name":"admin.reset"}`), status: 403, scope: "mcp tools:admin"},
		{name: "call denied, union of patterns", token: admin, body: rpc(1, "tools/call", `{"name":"admin.delete"}`), status: 403, scope: "mcp tools:delete tools:admin"},
		{name: "call denied, no scopes at all", token: "none", body: rpc(1, "tools/call", `{"name":"admin.reset"}`), status: 403},
		{name: "read denied", token: "mcp", body: rpc(1, "resources/read", `{"uri":"file:///secret/b"}`), status: 403, scope: "mcp res:secret"},
		{name: "read denied via dot segments", token: "mcp", body: rpc(1, "resources/read", `{"uri":"file:///public/../secret/b"}`), status: 403, scope: "mcp res:secret"},
		{name: "read allowed", token: "mcp+res:secret", body: rpc(1, "resources/read", `{"uri":"file:///secret/b"}`), status: 200, reached: true},
		{name: "subscribe denied", token: "mcp", body: rpc(1, "resources/subscribe", `{"uri":"file:///secret/b"}`), status: 403},
		{name: "prompt denied", token: "mcp", body: rpc(1, "prompts/get", `{"name":"secret_plan"}`), status: 403, scope: "mcp prompts:secret"},
		{name: "completion of a denied prompt", token: "mcp", body: rpc(1, "completion/complete", `{"ref":{"type":"ref/prompt","name":"secret_plan"},"argument":{"name":"a","value":"x"}}`), status: 403},
		{name: "missing tool name", token: "mcp", body: rpc(1, "tools/call", `{}`), status: 400, code: -32602},

		{name: "tools/list JSON", token: "mcp", body: rpc(7, "tools/list", ""), status: 200, reached: true, has: []string{`"echo"`}, hasNot: []string{"admin.reset", "repo.delete"}},
		{name: "tools/list JSON, broad token", token: "mcp+tools:admin+tools:delete", body: rpc(7, "tools/list", ""), status: 200, reached: true, has: []string{"admin.reset", "repo.delete"}},
		{name: "tools/list SSE", token: "mcp", body: rpc(7, "tools/list", ""), headers: []string{sse}, status: 200, reached: true, has: []string{`"echo"`, `"data":"admin.reset"`}, hasNot: []string{`"name":"admin.reset"`, "repo.delete"}},
		{name: "resources/list", token: "mcp", body: rpc(7, "resources/list", ""), status: 200, reached: true, has: []string{"file:///public/a"}, hasNot: []string{"secret"}},
		{name: "resources/templates/list", token: "mcp", body: rpc(7, "resources/templates/list", ""), status: 200, reached: true, has: []string{"file:///public/{x}"}, hasNot: []string{"secret"}},
		{name: "prompts/list SSE", token: "mcp", body: rpc(7, "prompts/list", ""), headers: []string{sse}, status: 200, reached: true, has: []string{"greet"}, hasNot: []string{"secret_plan"}},

		{name: "batch without header", token: "mcp", body: "[" + rpc(1, "tools/list", "") + "," + rpc(2, "prompts/list", "") + "]", status: 200, reached: true, has: []string{"echo", "greet"}, hasNot: []string{"admin.reset", "secret_plan"}},
		{name: "batch 2025-03-26 SSE", token: "mcp", body: "[" + rpc(1, "tools/list", "") + "," + rpc(2, "ping", "") + "]", headers: []string{v325, sse}, status: 200, reached: true, has: []string{"echo"}, hasNot: []string{`"name":"admin.reset"`}},
		{name: "batch with one denied call", token: "mcp", body: "[" + rpc(1, "tools/call", `{"name":"echo"}`) + "," + rpc(2, "prompts/get", `{"name":"secret_x"}`) + "," + rpc(3, "tools/call", `{"name":"admin.x"}`) + "]", status: 403, scope: "mcp prompts:secret tools:admin"},
		{name: "batch refused in 2025-06-18", token: "mcp", body: "[" + rpc(1, "ping", "") + "]", headers: []string{v25}, status: 400, code: -32600},
		{name: "batch refused in 2026-07-28", token: "mcp", body: "[" + rpc(1, "ping", "") + "]", headers: []string{v26}, status: 400, code: -32600},

		{name: "Mcp-Method on a batch", token: "mcp", body: "[" + rpc(1, "ping", "") + "]", headers: []string{"Mcp-Method: ping"}, status: 400, code: -32020},
		{name: "2026 headers match", token: "mcp", body: rpc(1, "tools/call", `{"name":"echo"}`), headers: []string{v26, "Mcp-Method: tools/call", "Mcp-Name: echo", "Mcp-Param-Region: eu"}, status: 200, reached: true},
		{name: "2026 base64 name", token: "mcp", body: rpc(1, "tools/call", `{"name":"é"}`), headers: []string{v26, "Mcp-Method: tools/call", "Mcp-Name: =?base64?w6k=?="}, status: 200, reached: true},
		{name: "2026 method mismatch", token: admin, body: rpc(1, "tools/call", `{"name":"admin.reset"}`), headers: []string{v26, "Mcp-Method: tools/list", "Mcp-Name: admin.reset"}, status: 400, code: -32020},
		{name: "2026 name mismatch", token: "mcp", body: rpc(1, "tools/call", `{"name":"admin.reset"}`), headers: []string{v26, "Mcp-Method: tools/call", "Mcp-Name: echo"}, status: 400, code: -32020},
		{name: "2026 missing Mcp-Method", token: "mcp", body: rpc(1, "tools/list", ""), headers: []string{v26}, status: 400, code: -32020},
		{name: "2026 missing Mcp-Name", token: "mcp", body: rpc(1, "tools/call", `{"name":"echo"}`), headers: []string{v26, "Mcp-Method: tools/call"}, status: 400, code: -32020},
		{name: "2026 resources/read uri mismatch", token: "mcp+res:secret", body: rpc(1, "resources/read", `{"uri":"file:///secret/b"}`), headers: []string{v26, "Mcp-Method: resources/read", "Mcp-Name: file:///public/a"}, status: 400, code: -32020},
		{name: "2026 Mcp-Method twice", token: "mcp", body: rpc(1, "ping", ""), headers: []string{v26, "Mcp-Method: ping", "Mcp-Method: ping"}, status: 400, code: -32020},
		{name: "2026 notification needs Mcp-Method", token: "mcp", body: `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{}}`, headers: []string{v26}, status: 400, code: -32020},
		{name: "2026 Mcp-Name ignored on tools/list", token: "mcp", body: rpc(1, "tools/list", ""), headers: []string{v26, "Mcp-Method: tools/list", "Mcp-Name: whatever"}, status: 200, reached: true},
		{name: "2025 without headers", token: "mcp", body: rpc(1, "tools/call", `{"name":"echo"}`), headers: []string{v25}, status: 200, reached: true},
		{name: "2025 with a mismatching header", token: "mcp", body: rpc(1, "tools/call", `{"name":"admin.x"}`), headers: []string{v25, "Mcp-Name: echo"}, status: 400, code: -32020},
		{name: "Mcp-Method on a response", token: "mcp", body: `{"jsonrpc":"2.0","id":"s1","result":{}}`, headers: []string{"Mcp-Method: tools/call"}, status: 400, code: -32020},
		{name: "response to the server", token: "mcp", body: `{"jsonrpc":"2.0","id":"s1","result":{}}`, status: 202, reached: true},

		{name: "parse error", token: "mcp", body: `{"jsonrpc":`, status: 400, code: -32700},
		{name: "not JSON-RPC", token: "mcp", body: `{"hello":1}`, status: 400, code: -32600},
		{name: "smuggled case-variant name", token: "mcp", body: rpc(1, "tools/call", `{"name":"echo","Name":"admin.reset"}`), status: 400, code: -32602},

		// Tool and prompt names are exact (see Policy): another case is
		// another tool, a JSON escape is the same name.
		{name: "tool name in another case is another tool", token: "mcp", body: rpc(1, "tools/call", `{"name":"ADMIN.RESET"}`), status: 200, reached: true},
		{name: "tool name with a JSON escape", token: "mcp", body: rpc(1, "tools/call", `{"name":"admin\u002ereset"}`), status: 403},

		// Only governed methods are inspected.
		{name: "unknown method, odd params", token: "mcp", body: rpc(1, "x/custom", `{"name":1,"Name":"admin.reset","uri":null}`), status: 200, reached: true},
		{name: "list with odd params", token: "mcp", body: rpc(7, "tools/list", `{"cursor":1,"Cursor":2}`), status: 200, reached: true, hasNot: []string{"admin.reset"}},
		{name: "unsubscribe is not governed", token: "mcp", body: rpc(1, "resources/unsubscribe", ""), status: 200, reached: true},
		{name: "governed notification", token: "mcp", body: `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"admin.reset"}}`, status: 403},
		{name: "2025 subscribe without uri", token: "mcp", body: rpc(1, "resources/subscribe", `{}`), headers: []string{v25}, status: 400, code: -32602},
		{name: "2026 subscribe passes untouched", token: "mcp", body: rpc(1, "resources/subscribe", meta26), headers: []string{v26, "Mcp-Method: resources/subscribe"}, status: 200, reached: true},
		{name: "2026 subscribe of a secret passes untouched", token: "mcp", body: rpc(1, "resources/subscribe", `{"uri":"file:///secret/b",`+meta26[1:]), headers: []string{v26, "Mcp-Method: resources/subscribe", "Mcp-Name: other"}, status: 200, reached: true},
		{name: "2026 header, 2025 body: subscribe governed", token: "mcp", body: rpc(1, "resources/subscribe", `{"uri":"file:///secret/b"}`), headers: []string{v26, "Mcp-Method: resources/subscribe"}, status: 403},
		{name: "2026 unsubscribe passes untouched", token: "mcp", body: rpc(1, "resources/unsubscribe", `{"uri":1}`), headers: []string{v26, "Mcp-Method: resources/unsubscribe"}, status: 200, reached: true},
		{name: "listen to a secret", token: "mcp", body: rpc(1, "subscriptions/listen", `{"notifications":{"toolsListChanged":true,"resourceSubscriptions":["file:///public/a","FILE:///secret/b"]}}`), status: 403, scope: "mcp res:secret"},
		{name: "listen to public resources", token: "mcp", body: rpc(1, "subscriptions/listen", `{"notifications":{"resourceSubscriptions":["file:///public/a"]}}`), status: 200, reached: true},
		{name: "listen without resources", token: "mcp", body: rpc(1, "subscriptions/listen", `{"notifications":{"toolsListChanged":true}}`), status: 200, reached: true},
		{name: "listen with a case-variant member", token: "mcp", body: rpc(1, "subscriptions/listen", `{"notifications":{"ResourceSubscriptions":["file:///secret/b"]}}`), status: 400, code: -32602},
		{name: "listen with a non-string URI", token: "mcp", body: rpc(1, "subscriptions/listen", `{"notifications":{"resourceSubscriptions":[1]}}`), status: 400, code: -32602},

		// 2026-07-28 list results depend on the caller: cacheScope private.
		{name: "2026 tools/list is private", token: "mcp", body: rpc(7, "tools/list", ""), headers: []string{v26, "Mcp-Method: tools/list"}, status: 200, reached: true, has: []string{`"cacheScope":"private"`, "echo"}, hasNot: []string{"admin.reset"}},
		{name: "2025 tools/list has no cacheScope", token: "mcp", body: rpc(7, "tools/list", ""), headers: []string{v25}, status: 200, reached: true, hasNot: []string{"cacheScope"}},
	}
	noLeak(t)
	up := &fakeUpstream{}
	srv := serve(t, up, authz.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up.mu.Lock()
			up.reached = 0
			up.mu.Unlock()
			resp, body := do(t, srv, http.MethodPost, tt.token, tt.body, tt.headers...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			up.mu.Lock()
			reached, got, length := up.reached, up.body, up.length
			up.mu.Unlock()
			if (reached > 0) != tt.reached {
				t.Fatalf("upstream reached %d times", reached)
			}
			if reached > 0 && (got != tt.body || length != int64(len(tt.body))) {
				t.Errorf("upstream got %q (Content-Length %d), want the client's bytes", got, length)
			}
			if cl := resp.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length %s for a %d-byte body", cl, len(body))
			}
			for _, s := range tt.has {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q: %s", s, body)
				}
			}
			for _, s := range tt.hasNot {
				if strings.Contains(body, s) {
					t.Errorf("body has %q: %s", s, body)
				}
			}
			if tt.status == 403 {
				ch := resp.Header.Get("WWW-Authenticate")
				if !strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `resource_metadata="`+metaURL+`"`) {
					t.Errorf("challenge %q", ch)
				}
				if tt.scope != "" && !strings.Contains(ch, `scope="`+tt.scope+`"`) {
					t.Errorf("challenge %q lacks scope=%q", ch, tt.scope)
				}
			}
			if tt.code != 0 {
				var e struct {
					JSONRPC string          `json:"jsonrpc"`
					ID      json.RawMessage `json:"id"`
					Error   struct{ Code int }
				}
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.JSONRPC != "2.0" || e.Error.Code != tt.code {
					t.Errorf("body %s, want JSON-RPC error %d", body, tt.code)
				}
				if resp.Header.Get("Content-Type") != "application/json" {
					t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
				}
			}
		})
	}
}
