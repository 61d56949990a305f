package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Kind is the kind of thing scanned.
type Kind string

const (
	KindRegistry      Kind = "registry"       // an image in a registry
	KindDockerArchive Kind = "docker-archive" // a `docker save` tar
	KindOCIDir        Kind = "oci-dir"        // an OCI image layout directory
	KindOCIArchive    Kind = "oci-archive"    // a tar of an OCI image layout
	KindDir           Kind = "dir"            // a source directory: lock files
	KindRootfs        Kind = "rootfs"         // an unpacked root filesystem: installed packages
	KindGit           Kind = "git"            // a git repository, cloned or local: lock files
)

// IsImage reports whether the kind is a container image.
func (k Kind) IsImage() bool {
	switch k {
	case KindRegistry, KindDockerArchive, KindOCIDir, KindOCIArchive:
		return true
	}
	return false
}

// Target is a parsed scan target.
type Target struct {
	Kind  Kind
	Value string // image reference, path or URL
}

func (t Target) String() string { return string(t.Kind) + ":" + t.Value }

// schemes are the source prefixes understood, in Syft's style.
var schemes = map[string]Kind{
	"registry":       KindRegistry,
	"docker-archive": KindDockerArchive,
	"oci-dir":        KindOCIDir,
	"oci-archive":    KindOCIArchive,
	"dir":            KindDir,
	"rootfs":         KindRootfs,
	"git":            KindGit,
}

// ParseTarget reads a target: "scheme:value" with one of the schemes
// above, or without a scheme an existing path (a directory holding an OCI
// layout is oci-dir, another directory is dir, a file is an image archive)
// or else an image reference.
func ParseTarget(s string) (Target, error) {
	if s == "" {
		return Target{}, fmt.Errorf("empty target")
	}
	if scheme, rest, ok := strings.Cut(s, ":"); ok {
		if k, known := schemes[scheme]; known {
			if rest == "" {
				return Target{}, fmt.Errorf("target %q: nothing after %q", s, scheme+":")
			}
			return Target{Kind: k, Value: rest}, nil
		}
		switch scheme {
		case "docker", "podman", "containerd":
			return Target{}, fmt.Errorf("target %q: tollgate reads images without a daemon; save the image (docker save -o app.tar %s) and use docker-archive:app.tar, or pull from the registry with registry:%s", s, rest, rest)
		}
	}
	if fi, err := os.Stat(s); err == nil {
		if fi.IsDir() {
			if _, err := os.Stat(filepath.Join(s, "oci-layout")); err == nil {
				return Target{Kind: KindOCIDir, Value: s}, nil
			}
			return Target{Kind: KindDir, Value: s}, nil
		}
		return Target{Kind: KindDockerArchive, Value: s}, nil // OpenArchive also reads OCI archives
	}
	return Target{Kind: KindRegistry, Value: s}, nil
}
