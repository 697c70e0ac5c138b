package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// instruction is one Dockerfile instruction: its keyword (upper case) and
// the rest of its (joined) line.
type instruction struct {
	cmd, args string
}

// parseDockerfile splits a Dockerfile into stages (each starting at FROM).
// It handles what the repository's Dockerfile uses: comments, parser
// directives and backslash continuations; not heredocs or another escape
// character.
func parseDockerfile(t *testing.T, text string) [][]instruction {
	t.Helper()
	var stages [][]instruction
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %s before FROM", in.cmd)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return stages
}

// keyValues splits `k1=v1 k2="v 2"` into a map, unquoting double quotes.
func keyValues(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`([^\s=]+)=("[^"]*"|\S*)`).FindAllStringSubmatch(s, -1) {
		out[m[1]] = strings.Trim(m[2], `"`)
	}
	if len(out) == 0 {
		t.Fatalf("Dockerfile: no key=value pairs in %q (the legacy `ENV key value` form is not used here)", s)
	}
	return out
}

// all returns the arguments of every cmd instruction of stage.
func all(stage []instruction, cmd string) []string {
	var out []string
	for _, in := range stage {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// TestDockerfileMatchesTool keeps the Dockerfile's final stage equal to the
// image the tool writes: entrypoint, command, user, working directory,
// port, environment, label keys (and the values that are not build
// arguments), the files it copies, and the build stage's go build flags,
// which must be the Makefile's.
func TestDockerfileMatchesTool(t *testing.T) {
	root := testenv.Root(t)
	text, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages := parseDockerfile(t, string(text))
	if len(stages) < 2 || stages[len(stages)-1][0].args != "scratch" {
		t.Fatalf("Dockerfile: want a build stage and a final FROM scratch, got %d stages", len(stages))
	}
	build, final := stages[len(stages)-2], stages[len(stages)-1]

	// The config the tool writes, read back from a built image.
	dir := t.TempDir()
	out := filepath.Join(dir, "image.tar")
	buildCLI(t, fakeBinaries(t, dir, nil), testMeta(), out)
	cf, err := platformImages(t, openTar(t, out))["amd64"].ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config

	one := func(cmd string) string {
		t.Helper()
		v := all(final, cmd)
		if len(v) != 1 {
			t.Fatalf("Dockerfile final stage: %d %s instructions, want 1", len(v), cmd)
		}
		return v[0]
	}
	jsonList := func(cmd string) []string {
		t.Helper()
		var v []string
		if err := json.Unmarshal([]byte(one(cmd)), &v); err != nil {
			t.Fatalf("Dockerfile %s is not in JSON (exec) form: %v", cmd, err)
		}
		return v
	}
	if got := jsonList("ENTRYPOINT"); !slices.Equal(got, c.Entrypoint) {
		t.Errorf("ENTRYPOINT %q, the tool writes %q", got, c.Entrypoint)
	}
	if got := jsonList("CMD"); !slices.Equal(got, c.Cmd) {
		t.Errorf("CMD %q, the tool writes %q", got, c.Cmd)
	}
	if got := one("USER"); got != c.User {
		t.Errorf("USER %s, the tool writes %s", got, c.User)
	}
	if got := one("WORKDIR"); got != c.WorkingDir {
		t.Errorf("WORKDIR %s, the tool writes %s", got, c.WorkingDir)
	}
	if got, want := strings.Fields(one("EXPOSE")), slices.Sorted(maps.Keys(c.ExposedPorts)); !slices.Equal(got, want) {
		t.Errorf("EXPOSE %v, the tool writes %v", got, want)
	}

	env := map[string]string{}
	for _, e := range all(final, "ENV") {
		maps.Copy(env, keyValues(t, e))
	}
	wantEnv := map[string]string{}
	for _, e := range c.Env {
		k, v, _ := strings.Cut(e, "=")
		wantEnv[k] = v
	}
	if !maps.Equal(env, wantEnv) {
		t.Errorf("ENV %v, the tool writes %v", env, wantEnv)
	}

	args := map[string]string{}
	for _, a := range all(final, "ARG") {
		k, v, _ := strings.Cut(a, "=")
		args[k] = v
	}
	labels := map[string]string{}
	for _, l := range all(final, "LABEL") {
		maps.Copy(labels, keyValues(t, l))
	}
	if got, want := slices.Sorted(maps.Keys(labels)), slices.Sorted(maps.Keys(c.Labels)); !slices.Equal(got, want) {
		t.Errorf("LABEL keys %v, the tool writes %v", got, want)
	}
	argRef := regexp.MustCompile(`^\$\{(\w+)\}$`)
	for k, v := range labels {
		if m := argRef.FindStringSubmatch(v); m != nil {
			if _, ok := args[m[1]]; !ok {
				t.Errorf("LABEL %s uses ${%s}, not an ARG of the final stage", k, m[1])
			}
		} else if v != c.Labels[k] {
			t.Errorf("LABEL %s=%q, the tool writes %q", k, v, c.Labels[k])
		}
	}
	if args["LICENSES"] != DefaultLicenses {
		t.Errorf("ARG LICENSES default %q, the tool's default %q", args["LICENSES"], DefaultLicenses)
	}

	copies := all(final, "COPY")
	for _, want := range []string{"--from=build /rootfs/ /", "--from=build /out/mcp-gateway " + BinaryPath} {
		if !slices.Contains(copies, want) {
			t.Errorf("final stage lacks COPY %s (has %q)", want, copies)
		}
	}
	if len(copies) != 2 {
		t.Errorf("final stage copies %q, want only the base files and the binary", copies)
	}

	// The build stage: the rootfs the tool writes, and go build with the
	// Makefile's flags.
	runs := strings.Join(all(build, "RUN"), "\n")
	if !strings.Contains(runs, "go run ./tools/ociimage rootfs --owners --out /rootfs") {
		t.Errorf("build stage does not write /rootfs with the tool:\n%s", runs)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^LDFLAGS\s*:?=\s*(.+)$`).FindSubmatch(makefile)
	if m == nil {
		t.Fatal("Makefile has no LDFLAGS")
	}
	ldflags := strings.ReplaceAll(strings.TrimSpace(string(m[1])), "$(VERSION)", "${VERSION}")
	for _, want := range []string{"CGO_ENABLED=0", "GOARCH=$TARGETARCH", "go build -trimpath", `-ldflags "` + ldflags + `"`, "./cmd/mcp-gateway"} {
		if !strings.Contains(runs, want) {
			t.Errorf("build stage's go build lacks %s:\n%s", want, runs)
		}
	}
}
