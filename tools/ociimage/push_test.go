package main

import (
	"archive/tar"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// startRegistry is an in-process registry that wants HTTP basic auth
// user:password on every request (as ECR does with user AWS).
func startRegistry(t *testing.T, user, password string) string {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="test registry"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestPushUploadsTheIndexWithBasicAuth(t *testing.T) {
	host := startRegistry(t, "AWS", "s3cret")
	dir := t.TempDir()
	tarPath := filepath.Join(dir, "image.tar")
	buildCLI(t, fakeBinaries(t, dir, nil), testMeta(), tarPath)
	local := openTar(t, tarPath)
	localDigest, err := local.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/mcp-gateway:v1.2.3"
	digestFile := filepath.Join(dir, "image-uri")

	t.Run("wrong password", func(t *testing.T) {
		var stdout, stderr strings.Builder
		err := run(t.Context(), []string{"push", "--layout", tarPath, "--ref", ref, "--username", "AWS", "--password-stdin"},
			strings.NewReader("wrong\n"), &stdout, &stderr, noEnv)
		if err == nil || !strings.Contains(err.Error(), "401") && !strings.Contains(err.Error(), "UNAUTHORIZED") {
			t.Fatalf("push with a wrong password: %v, want a 401", err)
		}
	})

	var stdout, stderr strings.Builder
	err = run(t.Context(), []string{"push", "--layout", tarPath, "--ref", ref, "--username", "AWS", "--password-stdin",
		"--digest-file", digestFile}, strings.NewReader("s3cret\n"), &stdout, &stderr, noEnv)
	if err != nil {
		t.Fatalf("push: %v\n%s", err, stderr.String())
	}
	wantURI := host + "/mcp-gateway@" + localDigest.String()
	if uri, _ := os.ReadFile(digestFile); string(uri) != wantURI+"\n" {
		t.Errorf("digest file %q, want %q", uri, wantURI+"\n")
	}
	if !strings.Contains(stdout.String(), wantURI) {
		t.Errorf("push printed %q, want the pushed %s", stdout.String(), wantURI)
	}

	// Pulled back by tag, the index and every platform's image have the
	// local digests; without credentials the registry refuses.
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	auth := remote.WithAuth(&authn.Basic{Username: "AWS", Password: "s3cret"})
	remoteIdx, err := remote.Index(r, auth, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := remoteIdx.Digest(); d != localDigest {
		t.Errorf("pulled index %s, pushed %s", d, localDigest)
	}
	localImgs, remoteImgs := platformImages(t, local), platformImages(t, remoteIdx)
	if len(remoteImgs) != 2 {
		t.Errorf("pulled %d platforms, want 2", len(remoteImgs))
	}
	for arch, img := range localImgs {
		want, _ := img.Digest()
		got, err := remoteImgs[arch].Digest()
		if err != nil || got != want {
			t.Errorf("%s: pulled %s (%v), pushed %s", arch, got, err, want)
		}
	}
	if _, err := remote.Index(r, remote.WithContext(t.Context())); err == nil {
		t.Error("an anonymous pull succeeded: the test registry does not require auth")
	}
}

func TestPushRefusals(t *testing.T) {
	dir := t.TempDir()
	tarPath := filepath.Join(dir, "image.tar")
	buildCLI(t, fakeBinaries(t, dir, nil), testMeta(), tarPath)
	d, err := openTar(t, tarPath).Digest()
	if err != nil {
		t.Fatal(err)
	}
	other := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		stdin string
		err   string
	}{
		{"no ref", nil, nil, "", "--ref is required"},
		{"bad ref", []string{"--ref", "UPPER/Case:tag"}, nil, "", "--ref"},
		{"user without password", []string{"--ref", "127.0.0.1:1/repo:y", "--username", "AWS"}, nil, "", "needs a password"},
		{"empty password on stdin", []string{"--ref", "127.0.0.1:1/repo:y", "--username", "AWS", "--password-stdin"},
			map[string]string{"REGISTRY_PASSWORD": "ignored"}, "\n", "needs a password"},
		{"digest that is not the layout's", []string{"--ref", "127.0.0.1:1/repo@" + other.String()}, nil, "", d.String()},
		{"missing layout", []string{"--ref", "127.0.0.1:1/repo:y", "--layout", filepath.Join(dir, "none.tar")}, nil, "", "none.tar"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"push", "--layout", tarPath}, tc.args...)
			var stdout, stderr strings.Builder
			err := run(t.Context(), args, strings.NewReader(tc.stdin), &stdout, &stderr, func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want one containing %q", err, tc.err)
			}
		})
	}
}

func TestUntarRefusesEntriesOutsideTheLayout(t *testing.T) {
	tests := []struct {
		name string
		hdr  tar.Header
		err  string
	}{
		{"parent", tar.Header{Name: "../evil", Typeflag: tar.TypeReg}, "leaves the layout"},
		{"nested parent", tar.Header{Name: "blobs/../../evil", Typeflag: tar.TypeReg}, "leaves the layout"},
		{"absolute", tar.Header{Name: "/etc/evil", Typeflag: tar.TypeReg}, "leaves the layout"},
		{"symlink", tar.Header{Name: "blobs/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, "unsupported type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.tar")
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			tw := tar.NewWriter(f)
			if err := tw.WriteHeader(&tc.hdr); err != nil {
				t.Fatal(err)
			}
			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if err := untar(p, t.TempDir()); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want %q", err, tc.err)
			}
		})
	}
}
