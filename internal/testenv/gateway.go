package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// GatewayPackage is the main package BuildGateway builds.
const GatewayPackage = "./cmd/mcp-gateway"

var (
	buildOnce   sync.Once
	buildDir    string
	buildBin    string
	buildErr    error
	buildSkip   string // non-empty: nothing to build yet
	buildOutput string
)

// BuildGateway builds GatewayPackage once per test binary into a package-level
// temporary directory and returns the binary's path. If the package has no Go
// files yet it skips the test (fails it under CI); a build error fails it.
// Call CleanupBuilds from TestMain to remove the directory.
func BuildGateway(t testing.TB) string {
	t.Helper()
	root := Root(t)
	buildOnce.Do(func() {
		matches, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(GatewayPackage), "*.go"))
		if len(matches) == 0 {
			buildSkip = GatewayPackage + " has no Go files yet"
			return
		}
		buildDir, buildErr = os.MkdirTemp("", "mcp-gateway-testenv-")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "mcp-gateway")
		goTool := "go"
		if p, err := exec.LookPath("go"); err == nil {
			goTool = p
		} else if gr := os.Getenv("GOROOT"); gr != "" {
			goTool = filepath.Join(gr, "bin", "go")
		}
		cmd := exec.Command(goTool, "build", "-o", buildBin, GatewayPackage)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		buildOutput = string(out)
		if err != nil {
			buildErr = fmt.Errorf("go build %s: %w\n%s", GatewayPackage, err, out)
		}
	})
	if buildSkip != "" {
		SkipOrFail(t, buildSkip)
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	if strings.TrimSpace(buildOutput) != "" {
		t.Logf("go build %s:\n%s", GatewayPackage, buildOutput)
	}
	return buildBin
}

// CleanupBuilds removes what BuildGateway built. Call it from TestMain after
// m.Run.
func CleanupBuilds() {
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}
