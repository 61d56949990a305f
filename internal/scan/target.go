package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/report"
)

// artifact is an inventoried target.
type artifact struct {
	name  string // ArtifactName
	typ   string // ArtifactType
	inv   *inventory.Inventory
	meta  report.Metadata // what the inventory does not say (repository)
	notes []string
	// checks are the secret findings of a directory tree (fs, rootfs,
	// repo), read while the tree is there.
	checks *checkFindings
}

func open(ctx context.Context, o Options) (*artifact, error) {
	switch o.Kind {
	case KindImage:
		return openImage(ctx, o)
	case KindFS, KindRootfs:
		kind := inventory.KindDir
		if o.Kind == KindRootfs {
			kind = inventory.KindRootfs
		}
		fi, err := os.Stat(o.Target)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", o.Target, pathError(err))
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("%s is not a directory", o.Target)
		}
		inv, err := inventory.Collect(ctx, inventory.Target{Kind: kind, Value: o.Target}, o.Inventory)
		if err != nil {
			return nil, err
		}
		checks, err := treeChecks(ctx, o.Target, o)
		if err != nil {
			return nil, err
		}
		return &artifact{name: o.Target, typ: report.ArtifactFilesystem, inv: inv, checks: checks}, nil
	case KindRepo:
		return openRepo(ctx, o)
	case KindSBOM:
		return openSBOM(o.Target)
	}
	return nil, outcome.Usagef("unknown scan kind %q", o.Kind)
}

// pathError drops the Go "stat X:" prefix the os errors carry.
func pathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func openImage(ctx context.Context, o Options) (*artifact, error) {
	if o.Input != "" {
		kind := inventory.KindDockerArchive
		fi, err := os.Stat(o.Input)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", o.Input, pathError(err))
		}
		if fi.IsDir() {
			if _, err := os.Stat(filepath.Join(o.Input, "oci-layout")); err != nil {
				return nil, fmt.Errorf("%s is a directory without an oci-layout file: not an OCI image layout", o.Input)
			}
			kind = inventory.KindOCIDir
		}
		inv, err := inventory.Collect(ctx, inventory.Target{Kind: kind, Value: o.Input}, o.Inventory)
		if err != nil {
			return nil, err
		}
		return &artifact{name: o.Input, typ: report.ArtifactContainerImage, inv: inv}, nil
	}
	ref, note, err := Reference(o.Target)
	if err != nil {
		return nil, err
	}
	a := &artifact{name: o.Target, typ: report.ArtifactContainerImage}
	if note != "" {
		a.notes = append(a.notes, note)
	}
	var mirrorErr error
	if m, ok := mirrorFor(ref, o.Mirrors); ok {
		inv, err := inventory.Collect(ctx, inventory.Target{Kind: inventory.KindRegistry, Value: m}, o.Inventory)
		if err == nil {
			a.inv = inv
			a.notes = append(a.notes, fmt.Sprintf("pulled from the mirror %s", m))
			return a, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		mirrorErr = err
	}
	inv, err := inventory.Collect(ctx, inventory.Target{Kind: inventory.KindRegistry, Value: ref.String()}, o.Inventory)
	if err != nil {
		if mirrorErr != nil {
			return nil, fmt.Errorf("the mirror failed (%v), and so did the registry: %w", mirrorErr, err)
		}
		return nil, err
	}
	if mirrorErr != nil {
		a.notes = append(a.notes, fmt.Sprintf("the mirror failed (%v); pulled from %s", mirrorErr, ref.Context().RegistryStr()))
	}
	a.inv = inv
	return a, nil
}

// Reference parses an image reference. One without a tag or digest is
// read as ":latest", as registries and Trivy do, and note says so (the
// image policy still tells "no tag" from "latest").
func Reference(s string) (ref name.Reference, note string, err error) {
	bare, err := name.ParseReference(s, name.WithDefaultTag(""))
	if err != nil {
		return nil, "", outcome.Usagef("%q is not an image reference: %v", s, err)
	}
	ref, err = name.ParseReference(s)
	if err != nil {
		return nil, "", outcome.Usagef("%q is not an image reference: %v", s, err)
	}
	if t, ok := bare.(name.Tag); ok && t.TagStr() == "" {
		note = fmt.Sprintf("%s has no tag: scanned %s, the tag registries serve for it", s, ref.Name())
	}
	return ref, note, nil
}

// mirrorFor returns the reference rewritten to the mirror of its
// registry, if one is configured. Docker Hub may be named docker.io or
// index.docker.io.
func mirrorFor(ref name.Reference, mirrors map[string]string) (string, bool) {
	reg := ref.Context().RegistryStr()
	m, ok := mirrors[reg]
	if !ok && reg == name.DefaultRegistry {
		m, ok = mirrors["docker.io"]
	}
	if !ok {
		return "", false
	}
	m = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(m, "https://"), "http://"), "/")
	out := m + "/" + ref.Context().RepositoryStr()
	if d, isDigest := ref.(name.Digest); isDigest {
		return out + "@" + d.DigestStr(), true
	}
	return out + ":" + ref.Identifier(), true
}

// ParseMirrors reads --registry-mirror values, HOST=MIRROR each.
func ParseMirrors(values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		host, mirror, ok := strings.Cut(v, "=")
		host, mirror = strings.TrimSpace(host), strings.TrimSpace(mirror)
		if !ok || host == "" || mirror == "" {
			return nil, outcome.Usagef("bad --registry-mirror %q: want HOST=MIRROR, e.g. docker.io=mirror.example.com", v)
		}
		out[host] = mirror
	}
	return out, nil
}
