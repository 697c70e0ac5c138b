package testkit

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// update is the one -update flag of every test binary that imports testkit.
var update = flag.Bool("update", false, "rewrite golden files (testkit.Golden) instead of comparing with them")

// Update reports whether the test binary runs with -update, for tests that
// maintain golden data in a shape Golden does not cover.
func Update() bool { return *update }

// Golden compares got with the golden file at path (relative to the test's
// package directory, conventionally under testdata/). With -update it
// (re)writes the file, creating its directory, and does not compare. A
// missing file or any difference fails the test, naming the first differing
// line.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("testkit.Golden: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("testkit.Golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("testkit.Golden: %v (run go test -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	t.Errorf("%s differs (go test -update rewrites it): %s\n--- got ---\n%s\n--- want ---\n%s",
		path, firstDiff(got, want), got, want)
}

// GoldenJSON marshals v as two-space indented JSON with a trailing newline
// and compares it with the golden file at path, as Golden does.
func GoldenJSON(t testing.TB, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("testkit.GoldenJSON: %v", err)
	}
	Golden(t, path, append(got, '\n'))
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; i < len(g) || i < len(w); i++ {
		switch {
		case i >= len(g):
			return fmt.Sprintf("line %d: got end of output, want %q", i+1, w[i])
		case i >= len(w):
			return fmt.Sprintf("line %d: got %q, want end of file", i+1, g[i])
		case !bytes.Equal(g[i], w[i]):
			return fmt.Sprintf("line %d: got %q, want %q", i+1, g[i], w[i])
		}
	}
	return "same lines, different bytes"
}
