package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
)

func TestBuildWritesIndexOfBothPlatforms(t *testing.T) {
	dir := t.TempDir()
	bins := fakeBinaries(t, dir, nil)
	out := filepath.Join(dir, "dist", "image.tar")
	printed := buildCLI(t, bins, testMeta(), out)
	idx := openTar(t, out)

	digest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(printed, "index digest: "+digest.String()+"\n") {
		t.Errorf("build printed %q, want it to end with the index digest %s", printed, digest)
	}
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("index media type %s, want %s", mt, types.OCIImageIndex)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, d := range im.Manifests {
		platforms = append(platforms, d.Platform.String())
		if d.MediaType != types.OCIManifestSchema1 || d.ArtifactType != "" {
			t.Errorf("%s: entry media type %s, artifactType %q; want %s and none", d.Platform, d.MediaType, d.ArtifactType, types.OCIManifestSchema1)
		}
	}
	if want := []string{"linux/arm64", "linux/amd64"}; !slices.Equal(platforms, want) {
		t.Errorf("platforms %v, want %v", platforms, want)
	}

	m := testMeta()
	for arch, img := range platformImages(t, idx) {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.OS != "linux" || cf.Architecture != arch || !cf.Created.Time.Equal(testCreated) {
			t.Errorf("%s: config os/arch/created %s/%s/%s", arch, cf.OS, cf.Architecture, cf.Created.Time)
		}
		c := cf.Config
		checks := []struct {
			what      string
			got, want any
		}{
			{"Entrypoint", c.Entrypoint, []string{"/usr/local/bin/mcp-gateway"}},
			{"Cmd", c.Cmd, []string{"serve"}},
			{"User", c.User, "65532:65532"},
			{"WorkingDir", c.WorkingDir, "/home/nonroot"},
			{"ExposedPorts", slices.Sorted(maps.Keys(c.ExposedPorts)), []string{"8080/tcp"}},
			{"Env", c.Env, []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"MCPGW_LISTEN=0.0.0.0:8080",
				"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
			}},
			{"Labels", c.Labels, map[string]string{
				"org.opencontainers.image.title":       "mcp-gateway",
				"org.opencontainers.image.description": Description,
				"org.opencontainers.image.version":     m.Version,
				"org.opencontainers.image.revision":    m.Revision,
				"org.opencontainers.image.source":      m.Source,
				"org.opencontainers.image.created":     "2026-01-02T03:04:05Z",
				"org.opencontainers.image.licenses":    "Apache-2.0",
			}},
		}
		for _, ch := range checks {
			if !equalJSON(t, ch.got, ch.want) {
				t.Errorf("%s: config %s = %v, want %v", arch, ch.what, ch.got, ch.want)
			}
		}
		if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
			t.Errorf("%s: manifest media type %s", arch, mt)
		}
		mf, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if mf.Config.MediaType != types.OCIConfigJSON || len(mf.Layers) != 2 {
			t.Fatalf("%s: config %s, %d layers; want %s and 2", arch, mf.Config.MediaType, len(mf.Layers), types.OCIConfigJSON)
		}
		for _, l := range mf.Layers {
			if l.MediaType != types.OCILayer {
				t.Errorf("%s: layer media type %s, want %s", arch, l.MediaType, types.OCILayer)
			}
		}
	}
}

func TestLayersHoldFilesWithModesAndOwners(t *testing.T) {
	dir := t.TempDir()
	bins := fakeBinaries(t, dir, nil)
	out := filepath.Join(dir, "image.tar")
	buildCLI(t, bins, testMeta(), out)

	for arch, img := range platformImages(t, openTar(t, out)) {
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		baseNames, base := layerFiles(t, layers[0])
		binNames, bin := layerFiles(t, layers[1])
		if want := []string{"etc/", "etc/group", "etc/passwd", "etc/ssl/", "etc/ssl/certs/",
			"etc/ssl/certs/ca-certificates.crt", "home/", "home/nonroot/", "tmp/"}; !slices.Equal(baseNames, want) {
			t.Errorf("%s: base layer entries %v, want (sorted) %v", arch, baseNames, want)
		}
		if want := []string{"usr/", "usr/local/", "usr/local/bin/", "usr/local/bin/mcp-gateway"}; !slices.Equal(binNames, want) {
			t.Errorf("%s: binary layer entries %v, want %v", arch, binNames, want)
		}
		wantBin, err := os.ReadFile(bins[arch])
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			files    map[string]file
			name     string
			mode     int64
			uid, gid int
			contains string
		}{
			{bin, "usr/local/bin/mcp-gateway", 0o755, 0, 0, string(wantBin)},
			{base, "tmp/", 0o1777, 0, 0, ""},
			{base, "home/nonroot/", 0o700, 65532, 65532, ""},
			{base, "etc/passwd", 0o644, 0, 0, "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"},
			{base, "etc/group", 0o644, 0, 0, "nonroot:x:65532:\n"},
			{base, "etc/ssl/certs/ca-certificates.crt", 0o644, 0, 0, "-----BEGIN CERTIFICATE-----"},
			{base, "etc/", 0o755, 0, 0, ""},
			{bin, "usr/local/bin/", 0o755, 0, 0, ""},
		}
		for _, tc := range tests {
			f, ok := tc.files[tc.name]
			if !ok {
				t.Errorf("%s: no %s", arch, tc.name)
				continue
			}
			h := f.hdr
			if h.Mode != tc.mode || h.Uid != tc.uid || h.Gid != tc.gid || h.Uname != "" || h.Gname != "" {
				t.Errorf("%s: %s mode %o owner %d:%d (%q:%q), want %o %d:%d and numeric owners only",
					arch, tc.name, h.Mode, h.Uid, h.Gid, h.Uname, h.Gname, tc.mode, tc.uid, tc.gid)
			}
			if !strings.Contains(string(f.data), tc.contains) {
				t.Errorf("%s: %s does not hold %q", arch, tc.name, tc.contains)
			}
		}
		for name, f := range mergeFiles(base, bin) {
			if !f.hdr.ModTime.Equal(testCreated) {
				t.Errorf("%s: %s mtime %s, want the creation time %s", arch, name, f.hdr.ModTime, testCreated)
			}
		}
		if !strings.HasPrefix(string(base["etc/passwd"].data), "root:x:0:0:") {
			t.Errorf("%s: passwd lacks root first:\n%s", arch, base["etc/passwd"].data)
		}
	}
}

// mergeFiles joins layers' file maps.
func mergeFiles(ms ...map[string]file) map[string]file {
	out := map[string]file{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

func TestBuildIsReproducible(t *testing.T) {
	// Two builds of the same inputs from different directories, with the
	// binaries' file times differing, give the same bytes; only a change of
	// input (here the creation time) changes the digest.
	build := func(mtime time.Time, m Meta) (sum [32]byte, digest v1.Hash) {
		dir := t.TempDir()
		bins := fakeBinaries(t, dir, nil)
		for _, p := range bins {
			if err := os.Chtimes(p, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
		out := filepath.Join(dir, "image.tar")
		buildCLI(t, bins, m, out)
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		d, err := openTar(t, out).Digest()
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(data), d
	}
	sum1, d1 := build(time.Unix(1, 0), testMeta())
	sum2, d2 := build(time.Now(), testMeta())
	if sum1 != sum2 || d1 != d2 {
		t.Errorf("two builds of the same inputs differ: index %s vs %s, tarball sha256 %x vs %x", d1, d2, sum1, sum2)
	}
	later := testMeta()
	later.Created = later.Created.Add(time.Hour)
	if _, d3 := build(time.Unix(1, 0), later); d3 == d1 {
		t.Errorf("a different creation time gave the same index %s", d3)
	}
}

func TestCreationTime(t *testing.T) {
	tests := []struct {
		name, created, epoch string
		want                 time.Time
		err                  string
	}{
		{"flag", "2026-01-02T04:04:05.9+01:00", "", testCreated, ""},
		{"flag wins over SOURCE_DATE_EPOCH", "2026-01-02T03:04:05Z", "5", testCreated, ""},
		{"SOURCE_DATE_EPOCH", "", "1767323045", testCreated, ""},
		{"neither", "", "", time.Time{}, ""},
		{"bad flag", "yesterday", "", time.Time{}, "--created"},
		{"bad epoch", "", "soon", time.Time{}, "SOURCE_DATE_EPOCH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := creationTime(tc.created, tc.epoch)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Fatalf("got %v, %v; want %v UTC", got, err, tc.want)
			}
		})
	}
}

func TestBuildRefusesMissingInputs(t *testing.T) {
	bins := fakeBinaries(t, t.TempDir(), nil)
	out := filepath.Join(t.TempDir(), "image.tar")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		err  string
	}{
		{"no creation time", []string{"--binary-amd64", bins["amd64"], "--version", "v1"}, nil, "SOURCE_DATE_EPOCH"},
		{"no version", []string{"--binary-amd64", bins["amd64"]}, map[string]string{"SOURCE_DATE_EPOCH": "0"}, "--version"},
		{"no binary", []string{"--version", "v1"}, map[string]string{"SOURCE_DATE_EPOCH": "0"}, "no binary"},
		{"missing binary", []string{"--binary-arm64", "/nonexistent/mcp-gateway", "--version", "v1"}, map[string]string{"SOURCE_DATE_EPOCH": "0"}, "linux/arm64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"build", "--out", out}, tc.args...)
			var stdout, stderr strings.Builder
			err := run(t.Context(), args, strings.NewReader(""), &stdout, &stderr, func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want one naming %q", err, tc.err)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a failed build left %s", out)
			}
		})
	}
}

func TestCABundleIsThePinnedRootsWithoutConstraints(t *testing.T) {
	var want, constrained int
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			constrained++
		} else {
			want++
		}
	}
	rest := caBundle()
	var got int
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			t.Fatalf("certificate %d: %v", got, err)
		}
		got++
	}
	if len(strings.TrimSpace(string(rest))) != 0 || got != want || want < 100 {
		t.Errorf("bundle has %d certificates (+%d bytes left over), want the %d unconstrained roots (%d constrained left out)",
			got, len(rest), want, constrained)
	}
}

func TestRootFSWritesTheBaseLayerFiles(t *testing.T) {
	dir := t.TempDir()
	owners := os.Geteuid() == 0
	if err := run(t.Context(), []string{"rootfs", "--out", dir, "--owners=" + boolString(owners)},
		nil, os.Stdout, os.Stderr, noEnv); err != nil {
		t.Fatal(err)
	}
	entries, err := withParents(baseEntries())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		n++
		return nil
	})
	if err != nil || n != len(entries) {
		t.Fatalf("rootfs wrote %d entries (%v), the base layer has %d", n, err, len(entries))
	}
	for _, e := range entries {
		p := filepath.Join(dir, filepath.FromSlash(e.name))
		info, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if want := fileMode(e.mode, e.dir); info.Mode() != want {
			t.Errorf("%s: mode %s, want %s", e.name, info.Mode(), want)
		}
		if owners {
			if uid, gid := fileOwner(info); uid != e.uid || gid != e.gid {
				t.Errorf("%s: owner %d:%d, want %d:%d", e.name, uid, gid, e.uid, e.gid)
			}
		}
		if !e.dir {
			data, err := os.ReadFile(p)
			if err != nil || string(data) != string(e.data) {
				t.Errorf("%s: content differs from the base layer (%v)", e.name, err)
			}
		}
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestListenEnvIsTheGatewayListenKey(t *testing.T) {
	if !slices.Contains(config.Keys(), "listen") || ListenEnv != config.EnvPrefix+"_LISTEN" {
		t.Errorf("ListenEnv %s is not the gateway's listen key (prefix %s, keys %v)", ListenEnv, config.EnvPrefix, config.Keys())
	}
	if ListenAddr == config.DefaultListen || !strings.HasSuffix(ListenAddr, ":"+strings.TrimSuffix(Port, "/tcp")) {
		t.Errorf("ListenAddr %s must differ from the loopback default %s and use the exposed port %s", ListenAddr, config.DefaultListen, Port)
	}
}
