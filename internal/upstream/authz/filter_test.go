package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// testAllowed allows names without "admin." / "secret" in them.
func testAllowed(_ kind, name string) bool {
	return !strings.HasPrefix(name, "admin.") && !strings.Contains(name, "secret")
}

// testFilter answers a POST whose requests are given as "id method"
// pairs ("3 tools/list"); a "!" after the method marks the result private.
// No pairs: a GET stream, filtered by the shape of every list kind.
func testFilter(t *testing.T, reqs ...string) *answerFilter {
	t.Helper()
	a := &answerFilter{allowed: testAllowed, shape: listKinds}
	if len(reqs) == 0 {
		return a
	}
	a.requests, a.answered = map[mcpwire.Key]*request{}, map[mcpwire.Key]bool{}
	for _, r := range reqs {
		id, method, _ := strings.Cut(r, " ")
		method, private := strings.CutSuffix(method, "!")
		key, ok := mcpwire.KeyOf(json.RawMessage(id))
		if !ok {
			t.Fatalf("bad id %q", id)
		}
		req := &request{id: json.RawMessage(id), private: private}
		if k, ok := listKindOf(method); ok {
			req.list = &k
		}
		a.requests[key] = req
	}
	return a
}

// TestFilterGoldenJSON: a tools/list result keeps its other members
// (nextCursor, _meta) and the allowed entries byte for byte; an entry that
// is not an object is dropped; under 2026-07-28 it is marked private.
func TestFilterGoldenJSON(t *testing.T) {
	in, err := os.ReadFile("testdata/tools_list.json")
	if err != nil {
		t.Fatal(err)
	}
	in = bytes.TrimSpace(in)
	for golden, f := range map[string]*answerFilter{
		"testdata/tools_list.golden.json":         testFilter(t, "3 tools/list"),
		"testdata/tools_list_private.golden.json": testFilter(t, "3 tools/list!"),
	} {
		out, changed, err := f.filter(in)
		if err != nil || !changed {
			t.Fatalf("%s: changed %v, err %v", golden, changed, err)
		}
		testkit.Golden(t, golden, append(out, '\n'))
	}
	// A response that cannot be matched to a request of the POST, or does
	// not hold the list its request asked for, is refused.
	for name, f := range map[string]*answerFilter{
		"other id":         testFilter(t, "4 tools/list"),
		"string id":        testFilter(t, `"3" tools/list`),
		"kind not present": testFilter(t, "3 prompts/list"),
	} {
		if out, _, err := f.filter(in); !errors.Is(err, errUnauthorizable) || out != nil {
			t.Errorf("%s: err %v, out %s", name, err, out)
		}
	}
}

// TestPrivateGolden: under 2026-07-28 every list result of a kind with
// rules is marked cacheScope "private", whether or not an entry was
// removed, replacing the upstream's "public"; interim results are not.
func TestPrivateGolden(t *testing.T) {
	tests := []struct{ name, req, in string }{
		{"filtered", "1 tools/list!", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo"},{"name":"admin.x"}],"ttlMs":60000,"cacheScope":"public"}}`},
		{"unfiltered", "1 tools/list!", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo"}],"ttlMs":0}}`},
		{"already private", "1 tools/list!", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo"}],"ttlMs":5,"cacheScope":"private"}}`},
		{"interim", "1 tools/list!", `{"jsonrpc":"2.0","id":1,"result":{"resultType":"input_required","tools":[]}}`},
		{"read", "1 resources/read!", `{"jsonrpc":"2.0","id":1,"result":{"contents":[{"uri":"file:///secret/a","text":"x"}],"ttlMs":1000,"cacheScope":"public"}}`},
		{"session generation", "1 tools/list", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo"}],"cacheScope":"public"}}`},
	}
	for _, tt := range tests {
		out, _, err := testFilter(t, tt.req).filter([]byte(tt.in))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		testkit.Golden(t, "testdata/private/"+strings.ReplaceAll(tt.name, " ", "_")+".golden.json", append(out, '\n'))
	}
}

func TestFilterCases(t *testing.T) {
	const bad = "refused"
	tests := []struct {
		name, in, want string // want "": unchanged
		f              *answerFilter
	}{
		{"blank", " \n", "", testFilter(t, "1 tools/list")},
		{"server request", `{"jsonrpc":"2.0","id":1,"method":"roots/list"}`, "", testFilter(t, "1 tools/list")},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1}}`, "", testFilter(t, "1 tools/list")},
		{"error answers a list", `{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m"}}`, "", testFilter(t, "1 tools/list")},
		{"null-id error", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"m"}}`, "", testFilter(t, "1 tools/list")},
		{"nothing to drop", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a"}]}}`, "", testFilter(t, "1 tools/list")},
		{"non-list answer with a tools member", `{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"admin.a"}]}}`, "", testFilter(t, "1 tools/list", "2 tools/call")},
		{"id 1.0 answers 1, spelled 1", `{"jsonrpc":"2.0","id":1.0,"result":{"tools":[{"name":"admin.a"},{"name":"b"}]}}`,
			`{"id":1,"jsonrpc":"2.0","result":{"tools":[{"name":"b"}]}}`, testFilter(t, "1 tools/list")},
		{"id respelled on a non-list answer", `{"jsonrpc":"2.0","id":"\u0061","result":{}}`,
			`{"id":"a","jsonrpc":"2.0","result":{}}`, testFilter(t, `"a" ping`)},
		{"batch", `[{"jsonrpc":"2.0","id":2,"result":{}},{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"admin.a"}]}}]`,
			`[{"jsonrpc":"2.0","id":2,"result":{}},{"id":1,"jsonrpc":"2.0","result":{"tools":[]}}]`, testFilter(t, "1 tools/list", "2 ping")},
		{"malformed entries dropped", `{"jsonrpc":"2.0","id":1,"result":{"tools":["x",{"name":1},{"name":"a","Name":"admin.a"},{"title":"t"},{"name":"b"}]}}`,
			`{"id":1,"jsonrpc":"2.0","result":{"tools":[{"name":"b"}]}}`, testFilter(t, "1 tools/list")},

		{"string id answers no request", `{"jsonrpc":"2.0","id":"1","result":{"tools":[]}}`, bad, testFilter(t, "1 tools/list")},
		{"unsolicited answer", `{"jsonrpc":"2.0","id":9,"result":{"tools":[{"name":"admin.a"}]}}`, bad, testFilter(t, "1 tools/list")},
		{"unsolicited answer in a batch", `[{"jsonrpc":"2.0","id":1,"result":{"tools":[]}},{"jsonrpc":"2.0","id":9,"result":{}}]`, bad, testFilter(t, "1 tools/list")},
		{"invalid JSON", `{"jsonrpc":"2.0","id":1,"result":{"tools":[`, bad, testFilter(t, "1 tools/list")},
		{"not JSON-RPC", `{"id":1,"result":{"tools":[]}}`, bad, testFilter(t, "1 tools/list")},
		{"duplicate id", `{"jsonrpc":"2.0","id":2,"id":1,"result":{"tools":[{"name":"admin.a"}]}}`, bad, testFilter(t, "1 tools/list", "2 ping")},
		{"case-variant result", `{"jsonrpc":"2.0","id":1,"result":{"tools":[]},"Result":{"tools":[{"name":"admin.a"}]}}`, bad, testFilter(t, "1 tools/list")},
		{"case-variant list", `{"jsonrpc":"2.0","id":1,"result":{"tools":[],"Tools":[{"name":"admin.a"}]}}`, bad, testFilter(t, "1 tools/list")},
		{"result not object", `{"jsonrpc":"2.0","id":1,"result":[1]}`, bad, testFilter(t, "1 tools/list")},
		{"tools not array", `{"jsonrpc":"2.0","id":1,"result":{"tools":{"name":"admin.a"}}}`, bad, testFilter(t, "1 tools/list")},
		{"tools missing", `{"jsonrpc":"2.0","id":1,"result":{}}`, bad, testFilter(t, "1 tools/list")},

		{"by shape", `{"jsonrpc":"2.0","id":"old","result":{"resources":[{"uri":"file:///secret"},{"uri":"file:///a"}],"prompts":[{"name":"secret"}]}}`,
			`{"id":"old","jsonrpc":"2.0","result":{"prompts":[],"resources":[{"uri":"file:///a"}]}}`, testFilter(t)},
		{"by shape, templates", `{"jsonrpc":"2.0","id":5,"result":{"resourceTemplates":[{"uriTemplate":"file:///secret/{x}"}]}}`,
			`{"id":5,"jsonrpc":"2.0","result":{"resourceTemplates":[]}}`, testFilter(t)},
		{"by shape, no list", `{"jsonrpc":"2.0","id":5,"result":{"content":[]}}`, "", testFilter(t)},
		{"by shape, result not object", `{"jsonrpc":"2.0","id":5,"result":"x"}`, "", testFilter(t)},
		{"by shape, list not array", `{"jsonrpc":"2.0","id":5,"result":{"tools":5}}`, bad, testFilter(t)},
		{"by shape, case-variant list", `{"jsonrpc":"2.0","id":5,"result":{"TOOLS":[{"name":"admin.a"}]}}`, bad, testFilter(t)},
		{"by shape, unparsable", `data`, bad, testFilter(t)},
	}
	for _, tt := range tests {
		out, changed, err := tt.f.filter([]byte(tt.in))
		switch {
		case tt.want == bad:
			if !errors.Is(err, errUnauthorizable) || out != nil {
				t.Errorf("%s: out %s, err %v; want refused", tt.name, out, err)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want == "" && (changed || string(out) != tt.in):
			t.Errorf("%s: rewritten to %s", tt.name, out)
		case tt.want != "" && (!changed || string(out) != tt.want):
			t.Errorf("%s:\n got %s (changed %v)\nwant %s", tt.name, out, changed, tt.want)
		}
	}
}
