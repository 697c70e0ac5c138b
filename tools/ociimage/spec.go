package main

import (
	"fmt"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The image's fixed contents. The Dockerfile at the repository root must say
// the same (TestDockerfileMatchesTool compares them).
const (
	// Title is the image's name and its title label.
	Title = "mcp-gateway"
	// Description is the image's description label.
	Description = "OAuth 2.1 resource-server gateway for the Model Context Protocol (MCP)"
	// BinaryPath is where the static gateway binary lives in the image.
	BinaryPath = "/usr/local/bin/mcp-gateway"
	// CABundlePath is the PEM bundle of trusted roots (also in SSL_CERT_FILE).
	CABundlePath = "/etc/ssl/certs/ca-certificates.crt"
	// UserName, UID and GID name the non-root user the gateway runs as.
	UserName = "nonroot"
	// UID is UserName's user id (the distroless convention).
	UID = 65532
	// GID is UserName's group id.
	GID = 65532
	// HomeDir is UserName's home and the working directory.
	HomeDir = "/home/nonroot"
	// Port is the exposed container port.
	Port = "8080/tcp"
	// ListenEnv is the gateway's listen key as an environment variable
	// (internal/config: prefix MCPGW, key listen).
	ListenEnv = "MCPGW_LISTEN"
	// ListenAddr binds every interface: the gateway's default 127.0.0.1:8080
	// is unreachable from outside a container.
	ListenAddr = "0.0.0.0:8080"
	// DefaultPath is PATH in the image (what Docker sets for FROM scratch).
	DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	// DefaultLicenses is the licenses label when --licenses is not given
	// (SPDX "no assertion").
	DefaultLicenses = "NOASSERTION"
)

// Label keys (OCI image spec, annotations.md "Pre-Defined Annotation Keys").
const (
	LabelTitle       = "org.opencontainers.image.title"
	LabelVersion     = "org.opencontainers.image.version"
	LabelRevision    = "org.opencontainers.image.revision"
	LabelSource      = "org.opencontainers.image.source"
	LabelCreated     = "org.opencontainers.image.created"
	LabelLicenses    = "org.opencontainers.image.licenses"
	LabelDescription = "org.opencontainers.image.description"
)

// Meta is what varies between builds of the image.
type Meta struct {
	Version  string    // the gateway's version (git describe)
	Revision string    // the source commit
	Source   string    // the source repository URL
	Licenses string    // SPDX expression; empty means DefaultLicenses
	Created  time.Time // image creation time and every file's mtime (UTC, whole seconds)
}

// User is the config's User field: numeric, so no passwd lookup is needed.
func User() string { return strconv.Itoa(UID) + ":" + strconv.Itoa(GID) }

// Entrypoint and Cmd make `docker run IMAGE` serve and `docker run IMAGE
// version` print the version.
func Entrypoint() []string { return []string{BinaryPath} }

// Cmd is the default argument list.
func Cmd() []string { return []string{"serve"} }

// Env is the image's environment, in order.
func Env() []string {
	return []string{
		"PATH=" + DefaultPath,
		ListenEnv + "=" + ListenAddr,
		"SSL_CERT_FILE=" + CABundlePath,
	}
}

// Labels are the image's OCI labels for m.
func Labels(m Meta) map[string]string {
	licenses := m.Licenses
	if licenses == "" {
		licenses = DefaultLicenses
	}
	return map[string]string{
		LabelTitle:       Title,
		LabelDescription: Description,
		LabelVersion:     m.Version,
		LabelRevision:    m.Revision,
		LabelSource:      m.Source,
		LabelCreated:     m.Created.UTC().Format(time.RFC3339),
		LabelLicenses:    licenses,
	}
}

// ContainerConfig is the runtime part of the image config for m.
func ContainerConfig(m Meta) v1.Config {
	return v1.Config{
		Entrypoint:   Entrypoint(),
		Cmd:          Cmd(),
		User:         User(),
		WorkingDir:   HomeDir,
		ExposedPorts: map[string]struct{}{Port: {}},
		Env:          Env(),
		Labels:       Labels(m),
	}
}

// check reports what is missing from m.
func (m Meta) check() error {
	if m.Version == "" {
		return fmt.Errorf("--version is required")
	}
	if m.Created.IsZero() {
		return fmt.Errorf("--created (RFC 3339) or SOURCE_DATE_EPOCH is required: a fixed time keeps the image reproducible")
	}
	return nil
}
