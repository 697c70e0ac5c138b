package mcpwire

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseBody(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		code  int    // 0: accepted
		batch bool   // when accepted
		kinds string // r(equest) n(otification) s (response), per message
	}{
		{"request", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, 0, false, "r"},
		{"string id", `{"jsonrpc":"2.0","id":"a","method":"tools/list","params":{}}`, 0, false, "r"},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, 0, false, "n"},
		{"result", `{"jsonrpc":"2.0","id":1,"result":{}}`, 0, false, "s"},
		{"error response with null id", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`, 0, false, "s"},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"n"}]`, 0, true, "rn"},
		{"leading space", " \n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", 0, false, "r"},
		{"params array", `{"jsonrpc":"2.0","id":1,"method":"m","params":[1]}`, 0, false, "r"},

		{"empty", ``, CodeParseError, false, ""},
		{"not json", `{"jsonrpc":`, CodeParseError, false, ""},
		{"invalid utf-8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}", CodeParseError, false, ""},
		{"scalar", `1`, CodeInvalidRequest, false, ""},
		{"empty batch", `[]`, CodeInvalidRequest, false, ""},
		{"no jsonrpc", `{"id":1,"method":"ping"}`, CodeInvalidRequest, false, ""},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, CodeInvalidRequest, false, ""},
		{"duplicate member", `{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}`, CodeInvalidRequest, false, ""},
		{"case-folded member", `{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}`, CodeInvalidRequest, false, ""},
		{"misspelled known member", `{"jsonrpc":"2.0","id":1,"METHOD":"ping"}`, CodeInvalidRequest, false, ""},
		{"kelvin sign folds to k", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{},\"\u212aey\":1,\"key\":2}", CodeInvalidRequest, false, ""},
		{"null id request", `{"jsonrpc":"2.0","id":null,"method":"ping"}`, CodeInvalidRequest, false, ""},
		{"object id", `{"jsonrpc":"2.0","id":{},"method":"ping"}`, CodeInvalidRequest, false, ""},
		{"bool id", `{"jsonrpc":"2.0","id":true,"method":"ping"}`, CodeInvalidRequest, false, ""},
		{"infinite id", `{"jsonrpc":"2.0","id":1e400,"method":"ping"}`, CodeInvalidRequest, false, ""},
		{"empty method", `{"jsonrpc":"2.0","id":1,"method":""}`, CodeInvalidRequest, false, ""},
		{"numeric method", `{"jsonrpc":"2.0","id":1,"method":1}`, CodeInvalidRequest, false, ""},
		{"method and result", `{"jsonrpc":"2.0","id":1,"method":"m","result":{}}`, CodeInvalidRequest, false, ""},
		{"scalar params", `{"jsonrpc":"2.0","id":1,"method":"m","params":"x"}`, CodeInvalidRequest, false, ""},
		{"result and error", `{"jsonrpc":"2.0","id":1,"result":{},"error":{}}`, CodeInvalidRequest, false, ""},
		{"result without id", `{"jsonrpc":"2.0","result":{}}`, CodeInvalidRequest, false, ""},
		{"result with null id", `{"jsonrpc":"2.0","id":null,"result":{}}`, CodeInvalidRequest, false, ""},
		{"nothing", `{"jsonrpc":"2.0","id":1}`, CodeInvalidRequest, false, ""},
		{"batch with a bad element", `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"id":2}]`, CodeInvalidRequest, false, ""},
		{"batch with equal ids", `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":1.0,"method":"tools/list"}]`, CodeInvalidRequest, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ParseBody([]byte(tt.body))
			if tt.code != 0 {
				if err == nil {
					t.Fatalf("accepted %s", tt.body)
				}
				if err.Code != tt.code || err.Status != http.StatusBadRequest {
					t.Fatalf("code %d status %d, want %d 400 (%s)", err.Code, err.Status, tt.code, err.Message)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if b.Batch != tt.batch || len(b.Messages) != len(tt.kinds) {
				t.Fatalf("batch %v, %d messages", b.Batch, len(b.Messages))
			}
			for i, m := range b.Messages {
				got := map[bool]string{true: "r"}[m.IsRequest()] + map[bool]string{true: "n"}[m.IsNotification()] + map[bool]string{true: "s"}[m.IsResponse()]
				if got != tt.kinds[i:i+1] {
					t.Errorf("message %d is %q, want %q", i, got, tt.kinds[i:i+1])
				}
			}
		})
	}
}

func TestParseBodyErrorKeepsReadableID(t *testing.T) {
	_, err := ParseBody([]byte(`{"jsonrpc":"1.0","id":"x","method":"ping"}`))
	if err == nil || string(err.ID) != `"x"` {
		t.Fatalf("err = %+v, want id \"x\"", err)
	}
	_, err = ParseBody([]byte(`[{"jsonrpc":"1.0","id":"x","method":"ping"}]`))
	if err == nil || err.ID != nil {
		t.Fatalf("batch err = %+v, want null id", err)
	}
}

func TestKeyOf(t *testing.T) {
	same := [][]string{
		{`1`, `1.0`, `1e0`, `10e-1`, `0.1e1`, ` 1 `},
		{`0`, `-0`, `0.0`, `0e5`},
		{`"a"`, `"\u0061"`},
		{`-2.5`, `-25e-1`},
		{`9007199254740993`, `9007199254740992`}, // one double, as a JavaScript peer sees them
	}
	for _, group := range same {
		k0, ok := KeyOf(json.RawMessage(group[0]))
		if !ok {
			t.Fatalf("KeyOf(%s) refused", group[0])
		}
		for _, raw := range group[1:] {
			if k, ok := KeyOf(json.RawMessage(raw)); !ok || k != k0 {
				t.Errorf("KeyOf(%s) = %q, want %q like %s", raw, k, k0, group[0])
			}
		}
	}
	distinct := []string{`1`, `"1"`, `2`, `"a"`, `"A"`, `1.5`}
	seen := map[Key]string{}
	for _, raw := range distinct {
		k, ok := KeyOf(json.RawMessage(raw))
		if !ok {
			t.Fatalf("KeyOf(%s) refused", raw)
		}
		if prev, dup := seen[k]; dup {
			t.Errorf("%s and %s share key %q", raw, prev, k)
		}
		seen[k] = raw
	}
	for _, raw := range []string{``, `null`, `true`, `{}`, `[]`, `1e400`, `"unterminated`} {
		if k, ok := KeyOf(json.RawMessage(raw)); ok {
			t.Errorf("KeyOf(%s) = %q, want refused", raw, k)
		}
	}
}

func TestParamStringAndProgressToken(t *testing.T) {
	m, err := ParseMessage([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":7}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := m.ParamString("name"); err != nil || s != "x" {
		t.Fatalf("ParamString = %q, %v", s, err)
	}
	if tok := m.ProgressToken(); string(tok) != "7" {
		t.Fatalf("ProgressToken = %s", tok)
	}
	if _, err := m.ParamString("uri"); err == nil || err.Code != CodeInvalidParams || string(err.ID) != "1" {
		t.Fatalf("missing member: %+v", err)
	}
	dup, _ := ParseMessage([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","NAME":"b"}}`))
	if _, err := dup.ParamString("name"); err == nil {
		t.Fatal("case-folded duplicate param accepted")
	}
	n, _ := ParseMessage([]byte(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}}`))
	if tok := n.ProgressToken(); string(tok) != `"t"` {
		t.Fatalf("notification token = %s", tok)
	}
}

func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Length", "99")
	WriteError(rec, UnsupportedVersion(json.RawMessage(`3`), Version20260728, SessionVersions, "use initialize"))
	if rec.Code != http.StatusBadRequest || rec.Header().Get("Content-Length") != "" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d headers %v", rec.Code, rec.Header())
	}
	want := `{"jsonrpc":"2.0","id":3,"error":{"code":-32022,"message":"unsupported protocol version 2026-07-28: use initialize","data":{"requested":"2026-07-28","supported":["2025-11-25","2025-06-18","2025-03-26","2024-11-05"]}}}` + "\n"
	if rec.Body.String() != want {
		t.Fatalf("body\n%s\nwant\n%s", rec.Body, want)
	}
	rec = httptest.NewRecorder()
	WriteError(rec, Errorf(http.StatusTooManyRequests, CodeServerError, nil, "slow down <now>"))
	if rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), `"id":null`) || !strings.Contains(rec.Body.String(), "<now>") {
		t.Fatalf("429: %v %s", rec.Header(), rec.Body)
	}
}

func TestVersionRules(t *testing.T) {
	for v, want := range map[string][2]bool{ // sessionless, batch allowed
		"": {false, true}, Version20241105: {false, true}, Version20250326: {false, true},
		Version20250618: {false, false}, Version20251125: {false, false},
		Version20260728: {true, false}, "2027-01-01": {true, false},
	} {
		if Sessionless(v) != want[0] || BatchAllowed(v) != want[1] {
			t.Errorf("%q: Sessionless %v BatchAllowed %v, want %v", v, Sessionless(v), BatchAllowed(v), want)
		}
	}
}

func TestCancelledNotification(t *testing.T) {
	raw := CancelledNotification(json.RawMessage(`"r-1"`), "client disconnected")
	m, err := ParseMessage(raw)
	if err != nil || !m.IsNotification() || m.Method != "notifications/cancelled" {
		t.Fatalf("%s: %+v %v", raw, m, err)
	}
	want := `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r-1","reason":"client disconnected"}}`
	if string(raw) != want {
		t.Fatalf("got %s, want %s", raw, want)
	}
}
