package main

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// TestImageHoldsAWorkingStaticGateway builds the real gateway as `make
// image` does (CGO_ENABLED=0, -trimpath, -s -w, version by -X) for this
// machine's architecture, builds the image from it, takes the binary back
// out of the image's layer and runs its version subcommand.
func TestImageHoldsAWorkingStaticGateway(t *testing.T) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skipf("the image's binaries run on linux/amd64 or linux/arm64, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	dir := t.TempDir()
	const version = "v9.8.7-ociimage-test"
	gw := filepath.Join(dir, "real", "mcp-gateway")
	goBuild(t, []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + runtime.GOARCH},
		"-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", gw, "./cmd/mcp-gateway")
	// The tool runs as its own process, as make image runs it: in this
	// race-instrumented test binary, compressing 15 MB takes ten times as long.
	tool := filepath.Join(dir, "ociimage")
	goBuild(t, nil, "-o", tool, "./tools/ociimage")

	bins := fakeBinaries(t, dir, map[string]string{runtime.GOARCH: gw})
	out := filepath.Join(dir, "image.tar")
	m := testMeta()
	cmd := exec.CommandContext(t.Context(), tool, "build",
		"--binary-arm64", bins["arm64"], "--binary-amd64", bins["amd64"],
		"--version", version, "--revision", m.Revision, "--source", m.Source, "--out", out)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1767323045")
	if got, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ociimage build: %v\n%s", err, got)
	}
	img := platformImages(t, openTar(t, out))[runtime.GOARCH]
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	_, files := layerFiles(t, layers[len(layers)-1])
	f, ok := files[strings.TrimPrefix(BinaryPath, "/")]
	if !ok {
		t.Fatalf("the last layer has no %s", BinaryPath)
	}
	extracted := filepath.Join(dir, "extracted", "mcp-gateway")
	if err := os.MkdirAll(filepath.Dir(extracted), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(extracted, f.data, fileMode(f.hdr.Mode, false)); err != nil {
		t.Fatal(err)
	}

	// Static: no program interpreter and no shared libraries, so it runs
	// in an image without libc.
	ef, err := elf.Open(extracted)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary has a program interpreter: not static")
		}
	}
	if libs, _ := ef.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}

	ctx, cancel := context.WithTimeout(t.Context(), testkit.DefaultTimeout)
	defer cancel()
	run := exec.CommandContext(ctx, extracted, "version")
	run.Env = []string{} // nothing from this machine, like the image
	got, err := run.CombinedOutput()
	if err != nil || string(got) != "mcp-gateway "+version+"\n" {
		t.Errorf("mcp-gateway version: %q, %v; want %q", got, err, "mcp-gateway "+version+"\n")
	}
}

// goBuild runs go build with args in the repository root, env added to
// this process's environment. A cold build cache makes it slow; go test's
// -timeout bounds it.
func goBuild(t *testing.T, env []string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", append([]string{"build"}, args...)...)
	cmd.Dir = testenv.Root(t)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", args, err, out)
	}
}
