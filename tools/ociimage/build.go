package main

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Annotations of the layout's index.json entry: the tag (OCI image-layout
// spec) and the full name `docker load` and containerd tag the image with.
const (
	AnnotationRefName   = "org.opencontainers.image.ref.name"
	AnnotationImageName = "io.containerd.image.name"
)

// binary is one platform's gateway binary: GOARCH and the file's path.
type binary struct {
	arch string
	path string
}

// buildIndex builds the multi-platform image index: for each binary an
// image of a base layer and a binary layer on an empty (scratch) image,
// all in OCI media types. Nothing of the build machine enters it but the
// binaries' bytes.
func buildIndex(bins []binary, m Meta) (v1.ImageIndex, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	if len(bins) == 0 {
		return nil, fmt.Errorf("no binary: give --binary-arm64 and/or --binary-amd64")
	}
	created := m.Created.UTC().Truncate(time.Second)
	base, err := tarLayer(baseEntries(), created)
	if err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, b := range bins {
		img, err := buildImage(base, b, m, created)
		if err != nil {
			return nil, fmt.Errorf("linux/%s: %w", b.arch, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add: plainImage{img},
			Descriptor: v1.Descriptor{
				Platform: &v1.Platform{OS: "linux", Architecture: b.arch},
			},
		})
	}
	return idx, nil
}

// plainImage is an image whose index entry has no artifactType:
// go-containerregistry would copy the config media type there, which marks
// an artifact; docker buildx and ko write image entries without it.
type plainImage struct{ v1.Image }

// Descriptor is the image's media type, size and digest.
func (p plainImage) Descriptor() (*v1.Descriptor, error) {
	mt, err := p.MediaType()
	if err != nil {
		return nil, err
	}
	size, err := p.Size()
	if err != nil {
		return nil, err
	}
	digest, err := p.Digest()
	if err != nil {
		return nil, err
	}
	return &v1.Descriptor{MediaType: mt, Size: size, Digest: digest}, nil
}

// buildImage is one platform's image.
func buildImage(base v1.Layer, b binary, m Meta, created time.Time) (v1.Image, error) {
	data, err := os.ReadFile(b.path)
	if err != nil {
		return nil, err
	}
	bin, err := tarLayer(binaryEntries(data), created)
	if err != nil {
		return nil, fmt.Errorf("binary layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: "ociimage: /etc/passwd, /etc/group, " + CABundlePath + ", /tmp, " + HomeDir,
		}},
		mutate.Addendum{Layer: bin, History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: "ociimage: " + BinaryPath,
		}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = b.arch, "linux"
	cf.Created = v1.Time{Time: created}
	cf.Config = ContainerConfig(m)
	return mutate.ConfigFile(img, cf)
}

// layoutAnnotations name the image in the layout's index.json.
func layoutAnnotations(name, version string) map[string]string {
	return map[string]string{
		AnnotationRefName:   version,
		AnnotationImageName: "docker.io/library/" + name + ":" + version,
	}
}

// writeLayoutTar writes idx as an OCI image layout (oci-layout, index.json,
// blobs/sha256/...) packed in a tar file at out. The tar's entries are
// sorted, owned by root and dated mtime, so equal indexes give equal files.
func writeLayoutTar(out string, idx v1.ImageIndex, annotations map[string]string, mtime time.Time) error {
	dir, err := os.MkdirTemp("", "ociimage-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("OCI layout: %w", err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(annotations)); err != nil {
		return fmt.Errorf("OCI layout: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := tarDir(tmp, dir, mtime.UTC().Truncate(time.Second)); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, out)
}

// tarDir packs the tree under dir into the tar file out, in lexical order.
func tarDir(out, dir string, mtime time.Time) (err error) {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: mtime, Format: tar.FormatPAX}
		if d.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
			return tw.WriteHeader(h)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, info.Size()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err != nil {
		return fmt.Errorf("packing %s: %w", out, err)
	}
	return tw.Close()
}
