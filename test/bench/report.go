//go:build bench

// Package bench is `make bench`: the gateway measured side by side with
// the alternatives a platform team would otherwise deploy, each behind its
// own authentication and verifying the same tokens, plus the memory and
// scaling figures. Its tests run only with the build tag "bench" (never in
// `make test`) and write their results into generated blocks of
// docs/PERFORMANCE.md.
package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// PerformanceDoc is the document the benchmarks write into, relative to
// this package's directory (where `go test` runs).
const PerformanceDoc = "../../docs/PERFORMANCE.md"

// WriteSection replaces the generated block name of PerformanceDoc, the
// lines between "<!-- bench:name:begin -->" and "<!-- bench:name:end -->",
// with markdown; a block not yet in the document is appended at its end.
// The file is replaced atomically, so an interrupted run leaves the last
// complete document.
func WriteSection(t testing.TB, name, markdown string) {
	t.Helper()
	doc, err := os.ReadFile(PerformanceDoc)
	if err != nil && !os.IsNotExist(err) {
		t.Fatalf("read %s: %v", PerformanceDoc, err)
	}
	begin := []byte("<!-- bench:" + name + ":begin -->\n")
	end := []byte("<!-- bench:" + name + ":end -->")
	body := append(append([]byte{}, begin...), []byte(markdown)...)
	if len(markdown) > 0 && markdown[len(markdown)-1] != '\n' {
		body = append(body, '\n')
	}
	body = append(body, end...)
	i := bytes.Index(doc, begin)
	j := bytes.Index(doc, end)
	switch {
	case i >= 0 && j > i:
		doc = append(append(append([]byte{}, doc[:i]...), body...), doc[j+len(end):]...)
	default:
		if len(doc) > 0 && doc[len(doc)-1] != '\n' {
			doc = append(doc, '\n')
		}
		doc = append(append(doc, '\n'), append(body, '\n')...)
	}
	tmp := filepath.Join(filepath.Dir(PerformanceDoc), ".PERFORMANCE.md.tmp")
	if err := os.WriteFile(tmp, doc, 0o644); err != nil {
		t.Fatalf("write %s: %v", tmp, err)
	}
	if err := os.Rename(tmp, PerformanceDoc); err != nil {
		t.Fatalf("rename %s: %v", tmp, err)
	}
}

// Machine describes where the figures were measured, for the generated
// blocks: OS/arch, CPU count and model, Go version.
func Machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			if k, v, ok := bytes.Cut(line, []byte(":")); ok && string(bytes.TrimSpace(k)) == "model name" {
				model = string(bytes.TrimSpace(v))
				break
			}
		}
	}
	return runtime.GOOS + "/" + runtime.GOARCH + ", " + strconv.Itoa(runtime.NumCPU()) + " CPUs (" + model + "), " + runtime.Version()
}
