// Command ociimage builds the mcp-gateway container image without a Docker
// daemon and pushes it to a registry.
//
//	ociimage build --binary-arm64 P --binary-amd64 P --version V [--revision R] [--source URL]
//	               [--created RFC3339 | SOURCE_DATE_EPOCH=N] [--licenses SPDX] [--out FILE]
//	ociimage push  --ref REGISTRY/REPO:TAG [--layout FILE] [--username U] [--password-stdin]
//	               [--digest-file FILE] [--timeout D]
//	ociimage rootfs --out DIR [--owners]
//
// build writes an OCI image layout tarball (oci-layout, index.json, blobs/)
// holding one image index with a linux image per binary, each FROM scratch:
// a base layer (passwd, group, CA bundle, /tmp, the non-root home) and the
// static binary at BinaryPath. Equal inputs give byte-identical tarballs.
// `docker load` (Docker 25+), skopeo and crane read the tarball.
//
// push uploads that index with HTTP basic auth (--username or
// REGISTRY_USERNAME; password on stdin with --password-stdin, or
// REGISTRY_PASSWORD), e.g. for ECR: username AWS, password from
// `aws ecr get-login-password`. It reads no docker config file.
//
// rootfs writes the base layer's files into a directory; the Dockerfile
// copies them, so both builds ship the same files.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}

// run is the command line: subcommand and flags in args.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: ociimage build|push|rootfs [flags] (ociimage CMD -h for flags)")
		return flag.ErrHelp
	}
	switch args[0] {
	case "build":
		return runBuild(args[1:], stdout, stderr, getenv)
	case "push":
		return runPush(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "rootfs":
		fs := flag.NewFlagSet("rootfs", flag.ContinueOnError)
		fs.SetOutput(stderr)
		out := fs.String("out", "", "directory to write the base layer's files into (required)")
		owners := fs.Bool("owners", false, "also set the layer's file owners (needs root)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *out == "" {
			return errors.New("rootfs: --out is required")
		}
		return writeRootFS(*out, *owners)
	default:
		return fmt.Errorf("unknown command %q (build, push or rootfs)", args[0])
	}
}

func runBuild(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	arm64 := fs.String("binary-arm64", "", "static linux/arm64 mcp-gateway binary")
	amd64 := fs.String("binary-amd64", "", "static linux/amd64 mcp-gateway binary")
	var m Meta
	fs.StringVar(&m.Version, "version", "", "the gateway's version: label and tag (required)")
	fs.StringVar(&m.Revision, "revision", "", "source commit (label)")
	fs.StringVar(&m.Source, "source", "", "source repository URL (label)")
	fs.StringVar(&m.Licenses, "licenses", DefaultLicenses, "SPDX license expression (label)")
	created := fs.String("created", "", "creation time, RFC 3339 (default: SOURCE_DATE_EPOCH)")
	imageName := fs.String("name", Title, "image name docker load tags the image with (NAME:VERSION)")
	out := fs.String("out", "dist/mcp-gateway-image.tar", "OCI layout tarball to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	t, err := creationTime(*created, getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return err
	}
	m.Created = t
	var bins []binary
	for _, b := range []binary{{"arm64", *arm64}, {"amd64", *amd64}} {
		if b.path != "" {
			bins = append(bins, b)
		}
	}
	idx, err := buildIndex(bins, m)
	if err != nil {
		return err
	}
	if err := writeLayoutTar(*out, idx, layoutAnnotations(*imageName, m.Version), m.Created); err != nil {
		return err
	}
	return summarize(stdout, *out, idx)
}

// creationTime is --created, else SOURCE_DATE_EPOCH (seconds since 1970),
// in UTC to the second; zero if neither is set.
func creationTime(created, epoch string) (time.Time, error) {
	switch {
	case created != "":
		t, err := time.Parse(time.RFC3339, created)
		if err != nil {
			return time.Time{}, fmt.Errorf("--created: %w", err)
		}
		return t.UTC().Truncate(time.Second), nil
	case epoch != "":
		n, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, nil
}

// summarize prints the tarball's size, each platform's manifest digest and
// compressed size (config plus layers, what a registry stores), and the
// index digest last.
func summarize(w io.Writer, out string, idx v1.ImageIndex) error {
	info, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: %d bytes\n", out, info.Size())
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			return err
		}
		size, err := compressedSize(img)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %s/%s %s %d bytes compressed\n", d.Platform.OS, d.Platform.Architecture, d.Digest, size)
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "index digest: %s\n", digest)
	return nil
}

// compressedSize is the size of img's config and compressed layers.
func compressedSize(img v1.Image) (int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	n := m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	return n, nil
}

func runPush(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tarPath := fs.String("layout", "dist/mcp-gateway-image.tar", "OCI layout tarball written by build")
	ref := fs.String("ref", "", "where to push: REGISTRY/REPOSITORY:TAG (required)")
	username := fs.String("username", getenv("REGISTRY_USERNAME"), "registry user name (default $REGISTRY_USERNAME); none means anonymous")
	passwordStdin := fs.Bool("password-stdin", false, "read the password from stdin (default: $REGISTRY_PASSWORD)")
	digestFile := fs.String("digest-file", "", "write the pushed REPOSITORY@DIGEST to this file")
	timeout := fs.Duration("timeout", 10*time.Minute, "bound on the whole push")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ref == "" {
		return errors.New("push: --ref is required")
	}
	password := getenv("REGISTRY_PASSWORD")
	if *passwordStdin {
		b, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
		if err != nil {
			return fmt.Errorf("reading the password from stdin: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	auth := authn.Anonymous
	if *username != "" {
		if password == "" {
			return errors.New("push: --username needs a password (--password-stdin or REGISTRY_PASSWORD)")
		}
		auth = &authn.Basic{Username: *username, Password: password}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	pushed, err := push(ctx, *tarPath, *ref, auth)
	if err != nil {
		return err
	}
	if *digestFile != "" {
		if err := os.WriteFile(*digestFile, []byte(pushed.String()+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "pushed %s\n%s\n", *ref, pushed)
	return nil
}
