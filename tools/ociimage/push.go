package main

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// userAgent names this tool to registries.
const userAgent = "mcp-gateway-ociimage"

// maxLayoutFile bounds one file unpacked from a layout tarball.
const maxLayoutFile = 1 << 30

// openLayoutTar unpacks the OCI layout tarball at tarPath into dir and
// returns the one image index it names. Only regular files and directories
// inside dir are accepted.
func openLayoutTar(tarPath, dir string) (v1.ImageIndex, error) {
	if err := untar(tarPath, dir); err != nil {
		return nil, err
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tarPath, err)
	}
	outer, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tarPath, err)
	}
	im, err := outer.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tarPath, err)
	}
	if len(im.Manifests) != 1 || !im.Manifests[0].MediaType.IsIndex() {
		return nil, fmt.Errorf("%s: index.json must name exactly one image index, it names %d entries", tarPath, len(im.Manifests))
	}
	return outer.ImageIndex(im.Manifests[0].Digest)
}

// untar unpacks tarPath into dir.
func untar(tarPath, dir string) error {
	f, err := os.Open(tarPath)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", tarPath, err)
		}
		clean := path.Clean(h.Name)
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("%s: entry %q leaves the layout", tarPath, h.Name)
		}
		dst := filepath.Join(dir, filepath.FromSlash(clean))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if h.Size > maxLayoutFile {
				return fmt.Errorf("%s: entry %s is larger than %d bytes", tarPath, h.Name, maxLayoutFile)
			}
			if err := writeFile(dst, tr); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: entry %s has unsupported type %q", tarPath, h.Name, h.Typeflag)
		}
	}
}

// writeFile copies r to a new file dst, creating its directory.
func writeFile(dst string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// push uploads the image index of the layout tarball tarPath (with every
// image and blob it references) to ref, a tag or repository reference, and
// returns the pushed digest reference (repository@sha256:...). auth is the
// registry credential (authn.Anonymous for none); ctx bounds the whole push.
// Registries are reached over HTTPS except on loopback and private addresses
// (go-containerregistry's name rules); docker config files and credential
// helpers are not read.
func push(ctx context.Context, tarPath, ref string, auth authn.Authenticator) (name.Digest, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return name.Digest{}, fmt.Errorf("--ref: %w", err)
	}
	dir, err := os.MkdirTemp("", "ociimage-push-")
	if err != nil {
		return name.Digest{}, err
	}
	defer os.RemoveAll(dir)
	idx, err := openLayoutTar(tarPath, dir)
	if err != nil {
		return name.Digest{}, err
	}
	digest, err := idx.Digest()
	if err != nil {
		return name.Digest{}, err
	}
	if d, ok := r.(name.Digest); ok && d.DigestStr() != digest.String() {
		return name.Digest{}, fmt.Errorf("--ref names digest %s, the layout holds %s", d.DigestStr(), digest)
	}
	err = remote.WriteIndex(r, idx,
		remote.WithContext(ctx), remote.WithAuth(auth), remote.WithUserAgent(userAgent))
	if err != nil {
		return name.Digest{}, fmt.Errorf("pushing %s: %w", r, err)
	}
	return r.Context().Digest(digest.String()), nil
}
