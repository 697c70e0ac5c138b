package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// testCreated is the creation time of the test images.
var testCreated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testMeta is the metadata of the test images.
func testMeta() Meta {
	return Meta{
		Version:  "v1.2.3",
		Revision: "0123456789abcdef0123456789abcdef01234567",
		Source:   "https://github.com/mcp-gateway/mcp-gateway",
		Licenses: "Apache-2.0",
		Created:  testCreated,
	}
}

// fakeBinaries writes one small stand-in binary per architecture into dir
// and returns their paths by GOARCH; real holds binaries to use instead.
func fakeBinaries(t *testing.T, dir string, real map[string]string) map[string]string {
	t.Helper()
	paths := map[string]string{}
	for _, arch := range []string{"arm64", "amd64"} {
		if p, ok := real[arch]; ok {
			paths[arch] = p
			continue
		}
		p := filepath.Join(dir, arch, "mcp-gateway")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("fake "+arch+" gateway\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		paths[arch] = p
	}
	return paths
}

// buildCLI runs `ociimage build` for bins and m into out and returns what it
// printed.
func buildCLI(t *testing.T, bins map[string]string, m Meta, out string) string {
	t.Helper()
	args := []string{"build",
		"--binary-arm64", bins["arm64"], "--binary-amd64", bins["amd64"],
		"--version", m.Version, "--revision", m.Revision, "--source", m.Source,
		"--licenses", m.Licenses, "--created", m.Created.Format(time.RFC3339), "--out", out}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, noEnv); err != nil {
		t.Fatalf("ociimage build: %v\n%s", err, stderr.String())
	}
	return stdout.String()
}

// noEnv is an empty environment.
func noEnv(string) string { return "" }

// openTar opens a layout tarball the way push does.
func openTar(t *testing.T, tarPath string) v1.ImageIndex {
	t.Helper()
	idx, err := openLayoutTar(tarPath, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// platformImages maps each GOARCH of idx to its image.
func platformImages(t *testing.T, idx v1.ImageIndex) map[string]v1.Image {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]v1.Image{}
	for _, d := range im.Manifests {
		if d.Platform == nil {
			t.Fatalf("index entry %s has no platform", d.Digest)
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		out[d.Platform.Architecture] = img
	}
	return out
}

// file is one tar entry of a layer.
type file struct {
	hdr  *tar.Header
	data []byte
}

// layerFiles reads layer's tar entries in order.
func layerFiles(t *testing.T, l v1.Layer) ([]string, map[string]file) {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var names []string
	files := map[string]file{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		files[h.Name] = file{hdr: h, data: data}
	}
}

// equalJSON compares got and want by their JSON encodings.
func equalJSON(t *testing.T, got, want any) bool {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(g, w)
}

// fileOwner is info's numeric owner.
func fileOwner(info os.FileInfo) (uid, gid int) {
	st := info.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}
