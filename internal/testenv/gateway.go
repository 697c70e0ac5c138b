package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// GatewayPackage and DCRPackage are the main packages tests build.
const (
	GatewayPackage = "./cmd/mcp-gateway"
	DCRPackage     = "./cmd/mcp-dcr"
)

// build is one package's build, done once per test binary.
type build struct {
	once   sync.Once
	bin    string
	err    error
	skip   string // non-empty: nothing to build yet
	output string
}

var (
	buildMu  sync.Mutex
	builds   = map[string]*build{}
	buildDir string
)

// BuildGateway builds GatewayPackage (see Build).
func BuildGateway(t testing.TB) string { return Build(t, GatewayPackage) }

// BuildDCR builds DCRPackage (see Build).
func BuildDCR(t testing.TB) string { return Build(t, DCRPackage) }

// Build builds the main package pkg (relative to the repository root) once
// per test binary into a package-level temporary directory and returns the
// binary's path. If the package has no Go files yet it skips the test (fails
// it under CI); a build error fails it. Call CleanupBuilds from TestMain to
// remove the directory.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	root := Root(t)
	buildMu.Lock()
	b, ok := builds[pkg]
	if !ok {
		b = &build{}
		builds[pkg] = b
	}
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "mcp-gateway-testenv-")
		if err != nil {
			buildMu.Unlock()
			t.Fatal(err)
		}
		buildDir = dir
	}
	dir := buildDir
	buildMu.Unlock()
	b.once.Do(func() {
		matches, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(pkg), "*.go"))
		if len(matches) == 0 {
			b.skip = pkg + " has no Go files yet"
			return
		}
		b.bin = filepath.Join(dir, path.Base(pkg))
		goTool := "go"
		if p, err := exec.LookPath("go"); err == nil {
			goTool = p
		} else if gr := os.Getenv("GOROOT"); gr != "" {
			goTool = filepath.Join(gr, "bin", "go")
		}
		cmd := exec.Command(goTool, "build", "-o", b.bin, pkg)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		b.output = string(out)
		if err != nil {
			b.err = fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
		}
	})
	if b.skip != "" {
		SkipOrFail(t, b.skip)
	}
	if b.err != nil {
		t.Fatal(b.err)
	}
	if strings.TrimSpace(b.output) != "" {
		t.Logf("go build %s:\n%s", pkg, b.output)
	}
	return b.bin
}

// CleanupBuilds removes what Build built. Call it from TestMain after m.Run.
func CleanupBuilds() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}
