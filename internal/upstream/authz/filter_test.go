package authz

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.* files")

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got %q\nwant %q", name, got, want)
	}
}

// testLister allows names without "admin." / "secret" in them.
func testLister(byID map[string]listKind) *lister {
	return &lister{
		allowed: func(_ kind, name string) bool {
			return !strings.HasPrefix(name, "admin.") && !strings.Contains(name, "secret")
		},
		byID:  byID,
		shape: listKinds,
	}
}

func mustKey(raw string) string {
	k, _ := idKey([]byte(raw))
	return k
}

// TestFilterGoldenJSON: a tools/list result keeps its other members
// (nextCursor, _meta) and the allowed entries byte for byte; entries that
// are not objects go (their name counts as "", which testLister allows,
// so here it stays).
func TestFilterGoldenJSON(t *testing.T) {
	in, err := os.ReadFile("testdata/tools_list.json")
	if err != nil {
		t.Fatal(err)
	}
	tools, _ := listKindOf("tools/list")
	out, changed := testLister(map[string]listKind{mustKey("3"): tools}).filter(bytes.TrimSpace(in))
	if !changed {
		t.Fatal("not filtered")
	}
	golden(t, "tools_list.golden.json", append(out, '\n'))

	for name, l := range map[string]*lister{
		"other id":         testLister(map[string]listKind{mustKey("4"): tools}),
		"string id":        testLister(map[string]listKind{mustKey(`"3"`): tools}),
		"kind not present": testLister(map[string]listKind{mustKey("3"): listKinds[3]}),
	} {
		if out, changed := l.filter(in); changed || !bytes.Equal(out, in) {
			t.Errorf("%s: rewritten", name)
		}
	}
}

func TestFilterCases(t *testing.T) {
	tools, _ := listKindOf("tools/list")
	byID := map[string]listKind{mustKey("1"): tools}
	tests := []struct {
		name, in, want string
		l              *lister
	}{
		{"request untouched", `{"jsonrpc":"2.0","id":1,"method":"x","result":{"tools":[{"name":"admin.a"}]}}`, "", testLister(byID)},
		{"error untouched", `{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m"}}`, "", testLister(byID)},
		{"result not object", `{"jsonrpc":"2.0","id":1,"result":[1]}`, "", testLister(byID)},
		{"tools not array", `{"jsonrpc":"2.0","id":1,"result":{"tools":{"name":"admin.a"}}}`, "", testLister(byID)},
		{"nothing to drop", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a"}]}}`, "", testLister(byID)},
		{"id 1.0", `{"jsonrpc":"2.0","id":1.0,"result":{"tools":[{"name":"admin.a"},{"name":"b"}]}}`,
			`{"id":1.0,"jsonrpc":"2.0","result":{"tools":[{"name":"b"}]}}`, testLister(byID)},
		{"batch", `[{"jsonrpc":"2.0","id":2,"result":{}},{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"admin.a"}]}}]`,
			`[{"jsonrpc":"2.0","id":2,"result":{}},{"id":1,"jsonrpc":"2.0","result":{"tools":[]}}]`, testLister(byID)},
		{"by shape", `{"jsonrpc":"2.0","id":"old","result":{"resources":[{"uri":"file:///secret"},{"uri":"file:///a"}],"prompts":[{"name":"secret"}]}}`,
			`{"id":"old","jsonrpc":"2.0","result":{"prompts":[],"resources":[{"uri":"file:///a"}]}}`, testLister(nil)},
		{"by shape, templates", `{"jsonrpc":"2.0","id":5,"result":{"resourceTemplates":[{"uriTemplate":"file:///secret/{x}"}]}}`,
			`{"id":5,"jsonrpc":"2.0","result":{"resourceTemplates":[]}}`, testLister(nil)},
	}
	for _, tt := range tests {
		out, changed := tt.l.filter([]byte(tt.in))
		want := tt.want
		if want == "" {
			want = tt.in
		}
		if changed != (tt.want != "") || string(out) != want {
			t.Errorf("%s:\n got %s (changed %v)\nwant %s", tt.name, out, changed, want)
		}
	}
}
