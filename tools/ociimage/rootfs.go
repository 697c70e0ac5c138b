package main

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// entry is one file or directory of a layer. Paths are relative to / with
// no leading slash ("etc/passwd"); directories have dir set and no data.
type entry struct {
	name     string
	mode     int64 // permission bits plus setuid/setgid/sticky (0o1777)
	uid, gid int
	dir      bool
	data     []byte
}

// passwd and group hold root, nobody and the non-root user the gateway runs
// as (the distroless "static" image has the same three).
var (
	passwd = fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n"+
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"+
		"%s:x:%d:%d:%s:%s:/sbin/nologin\n", UserName, UID, GID, UserName, HomeDir)
	group = fmt.Sprintf("root:x:0:\nnobody:x:65534:\n%s:x:%d:\n", UserName, GID)
)

// caBundle is the PEM bundle of the Mozilla NSS roots that the pinned module
// golang.org/x/crypto/x509roots/fallback embeds. It is taken from the module,
// not from the build machine's /etc/ssl/certs, because go.sum pins it: every
// machine and every rebuild gets the same bytes, which a reproducible image
// needs. Roots that carry a constraint PEM cannot express (a distrust-after
// date) are left out, so they are not trusted without it.
func caBundle() []byte {
	var b bytes.Buffer
	for root := range bundle.Roots() {
		if root.Constraint != nil {
			continue
		}
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate})
	}
	return b.Bytes()
}

// baseEntries is the base layer: users, groups, the CA bundle, /tmp and the
// non-root user's home. The binary is a layer of its own.
func baseEntries() []entry {
	return []entry{
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: strings.TrimPrefix(CABundlePath, "/"), mode: 0o644, data: caBundle()},
		{name: "tmp", mode: 0o1777, dir: true},
		{name: strings.TrimPrefix(HomeDir, "/"), mode: 0o700, uid: UID, gid: GID, dir: true},
	}
}

// binaryEntries is the layer holding the gateway binary bin.
func binaryEntries(bin []byte) []entry {
	return []entry{{name: strings.TrimPrefix(BinaryPath, "/"), mode: 0o755, data: bin}}
}

// withParents adds the missing parent directories of entries (0755, root)
// and returns every entry sorted by name, each name once.
func withParents(entries []entry) ([]entry, error) {
	byName := map[string]entry{}
	for _, e := range entries {
		if _, dup := byName[e.name]; dup {
			return nil, fmt.Errorf("layer entry %s twice", e.name)
		}
		byName[e.name] = e
	}
	for _, e := range entries {
		for dir := path.Dir(e.name); dir != "."; dir = path.Dir(dir) {
			if _, ok := byName[dir]; !ok {
				byName[dir] = entry{name: dir, mode: 0o755, dir: true}
			}
		}
	}
	out := make([]entry, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	sortEntries(out)
	return out, nil
}

// writeRootFS writes the base layer's files under dir, for the Dockerfile,
// which copies them into its scratch stage (COPY --from keeps modes and
// owners). Modes are set explicitly, so the umask does not matter; with
// owners set (needs root) the layer's owners are set too.
func writeRootFS(dir string, owners bool) error {
	entries, err := withParents(baseEntries())
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(dir, filepath.FromSlash(e.name))
		if e.dir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		} else if err := os.WriteFile(p, e.data, 0o644); err != nil {
			return err
		}
		if owners {
			if err := os.Lchown(p, e.uid, e.gid); err != nil {
				return err
			}
		}
		if err := os.Chmod(p, fileMode(e.mode, e.dir)); err != nil {
			return err
		}
	}
	return nil
}

// fileMode converts tar mode bits to an os.FileMode.
func fileMode(mode int64, dir bool) os.FileMode {
	m := os.FileMode(mode & 0o777)
	if mode&0o1000 != 0 {
		m |= os.ModeSticky
	}
	if mode&0o2000 != 0 {
		m |= os.ModeSetgid
	}
	if mode&0o4000 != 0 {
		m |= os.ModeSetuid
	}
	if dir {
		m |= os.ModeDir
	}
	return m
}
