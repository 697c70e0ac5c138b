package helm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// helmModule is the pinned helm. `go run` builds it outside this module
// (the @version form leaves go.mod alone) and keeps the executable in the
// build cache; the tests run that executable, since every further `go run`
// costs seconds of module and cache checks.
const helmModule = "helm.sh/helm/v3/cmd/helm@v3.22.0"

// Time limits. The first `go run` downloads and compiles helm: 7m38s cold
// on a 2-core machine, about 5 s once the build cache holds it.
const (
	buildTimeout = 20 * time.Minute
	runTimeout   = 2 * time.Minute
	// deadlineMargin is left of the test binary's -timeout so that a
	// build still running ends with a message, not a panic.
	deadlineMargin = 30 * time.Second
)

// helm runs the pinned helm with its own cache and configuration
// directories and no cluster.
type helm struct {
	bin string
	env []string
}

var (
	helmOnce sync.Once
	helmRun  *helm
	helmErr  error
)

// newHelm builds helm (once per test binary) and returns a runner. When go
// cannot build it (no network and no module cache, or the time runs out)
// the test is skipped with the reason, and fails under CI=true.
func newHelm(t *testing.T) *helm {
	t.Helper()
	helmOnce.Do(func() { helmRun, helmErr = buildHelm(t) })
	if helmErr != nil {
		testenv.SkipOrFail(t, helmErr.Error())
	}
	return helmRun
}

func buildHelm(t *testing.T) (*helm, error) {
	dir, err := os.MkdirTemp("", "mcp-gateway-helm-")
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"GOWORK=off",
		"HELM_CACHE_HOME="+filepath.Join(dir, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(dir, "config"),
		"HELM_DATA_HOME="+filepath.Join(dir, "data"),
		"KUBECONFIG="+filepath.Join(dir, "no-kubeconfig"),
	)
	echo, err := exec.LookPath("echo")
	if err != nil {
		return nil, fmt.Errorf("no echo to learn where go run keeps helm: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit(t, buildTimeout))
	defer cancel()
	start := time.Now()
	// -exec echo: go run builds (or finds in its cache) and prints the
	// executable's path instead of running it.
	cmd := exec.CommandContext(ctx, goTool(), "run", "-exec", echo, helmModule)
	cmd.Dir = os.TempDir() // outside the module: go.mod is not consulted
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", err, ctx.Err())
		}
		return nil, fmt.Errorf("cannot build %s after %s (offline, or a cold build slower than the time left; `go run %s version` once fills the build cache): %w\n%s",
			helmModule, time.Since(start).Round(time.Second), helmModule, err, out)
	}
	h := &helm{bin: strings.TrimSuffix(string(out), "\n"), env: env}
	version, err := h.run(t, "version", "--short")
	if err != nil {
		return nil, fmt.Errorf("go run %s left no usable executable at %q: %w", helmModule, h.bin, err)
	}
	t.Logf("helm %s ready in %s", bytes.TrimSpace(version), time.Since(start).Round(time.Second))
	return h, nil
}

// limit is d, or less when the test binary's deadline comes sooner.
func limit(t *testing.T, d time.Duration) time.Duration {
	if dl, ok := t.Deadline(); ok {
		if left := time.Until(dl) - deadlineMargin; left < d {
			return max(left, time.Second)
		}
	}
	return d
}

// run runs helm with args and returns its standard output; an error
// carries standard error.
func (h *helm) run(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit(t, runTimeout))
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Env = h.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("helm %v: %w\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// goTool is the go command: on PATH, else under GOROOT.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if gr := os.Getenv("GOROOT"); gr != "" {
		return filepath.Join(gr, "bin", "go")
	}
	return "go"
}

// object is one rendered Kubernetes object: its head, and the document to
// decode into a kind's shape.
type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	doc yaml.Node
}

// decode reads the object into v (a kind's shape).
func (o object) decode(t *testing.T, v any) {
	t.Helper()
	if err := o.doc.Decode(v); err != nil {
		t.Fatalf("%s %s: %v", o.Kind, o.Metadata.Name, err)
	}
}

// rendered is helm template's output, by kind (one object each).
type rendered map[string]object

// parseManifests decodes a multi-document YAML stream; every kind must
// appear at most once.
func parseManifests(t *testing.T, out []byte) rendered {
	t.Helper()
	objs := rendered{}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rendered YAML: %v\n%s", err, out)
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue // an empty document
		}
		var o object
		if err := doc.Decode(&o); err != nil {
			t.Fatalf("rendered object: %v", err)
		}
		o.doc = doc
		if o.Kind == "" || o.APIVersion == "" || o.Metadata.Name == "" {
			t.Fatalf("object without kind, apiVersion or name: %+v", o)
		}
		if _, dup := objs[o.Kind]; dup {
			t.Fatalf("two objects of kind %s", o.Kind)
		}
		objs[o.Kind] = o
	}
	return objs
}

// TestMakefilePinsTheSameHelm: `make test` builds helm before the tests
// (helm-build) so that its first build stays out of their deadlines; it
// must build the version these tests run.
func TestMakefilePinsTheSameHelm(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mk), "HELM_MODULE := "+helmModule+"\n") {
		t.Fatalf("the Makefile's HELM_MODULE is not %s", helmModule)
	}
}
