package signature

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tollgate-dev/tollgate/internal/image"
)

// Limits on what a signature lookup reads: signatures are small, SBOM
// attestations can be a few megabytes.
const (
	maxManifest   = 4 << 20
	maxPayload    = 1 << 20
	maxBundle     = 32 << 20
	maxLayers     = 64 // signature layers per manifest
	maxReferrers  = 64 // referrers considered per image
	annSignature  = "dev.cosignproject.cosign/signature"
	mtSimpleSign  = "application/vnd.dev.cosign.simplesigning.v1+json"
	mtDSSE        = "application/vnd.dsse.envelope.v1+json"
	mtBundlePref  = "application/vnd.dev.sigstore.bundle"
	mtEmpty       = "application/vnd.oci.empty.v1+json"
	kindAnnotaton = "kind"
)

// store is where signatures are looked up: a registry or an OCI layout.
type store interface {
	// attached returns the manifest cosign 2 attaches to digest under the
	// tag sha256-<hex>.<suffix> ("sig" or "att"), nil when there is none,
	// and where it was found.
	attached(ctx context.Context, digest v1.Hash, suffix string) (*v1.Manifest, string, error)
	// referrers lists the manifests whose subject is digest.
	referrers(ctx context.Context, digest v1.Hash) ([]v1.Descriptor, error)
	// manifest returns a manifest by digest.
	manifest(ctx context.Context, d v1.Hash) ([]byte, error)
	// blob opens a blob by digest.
	blob(ctx context.Context, d v1.Hash) (io.ReadCloser, error)
	// where names the place of a manifest in messages.
	where(d v1.Hash) string
}

// readBlob reads a blob of at most max bytes and checks its digest.
func readBlob(ctx context.Context, s store, d v1.Hash, max int64) ([]byte, error) {
	if d.Algorithm != "sha256" {
		return nil, fmt.Errorf("blob %s: unsupported digest algorithm", d)
	}
	rc, err := s.blob(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", d, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", d, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("blob %s is larger than %d bytes", d, max)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != d.Hex {
		return nil, fmt.Errorf("blob %s: content does not match its digest", d)
	}
	return b, nil
}

// parseManifest parses an image manifest, bounded in its layer count.
func parseManifest(b []byte) (*v1.Manifest, error) {
	m, err := v1.ParseManifest(strings.NewReader(string(b)))
	if err != nil {
		return nil, errors.New("signature manifest is not a valid image manifest")
	}
	if len(m.Layers) > maxLayers {
		return nil, fmt.Errorf("signature manifest has %d layers (at most %d are read)", len(m.Layers), maxLayers)
	}
	return m, nil
}

// registryStore reads signatures from the image's repository.
type registryStore struct {
	repo name.Repository
	opts []remote.Option
}

// RegistryOptions are the registry settings of a lookup.
type RegistryOptions = image.Options

func newRegistryStore(ctx context.Context, repo name.Repository, o RegistryOptions) *registryStore {
	return &registryStore{repo: repo, opts: image.RemoteOptions(ctx, o)}
}

func isNotFound(err error) bool {
	var te *transport.Error
	if errors.As(err, &te) {
		if te.StatusCode == http.StatusNotFound {
			return true
		}
		for _, d := range te.Errors {
			if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
				return true
			}
		}
	}
	return false
}

func (s *registryStore) attached(ctx context.Context, digest v1.Hash, suffix string) (*v1.Manifest, string, error) {
	tag := s.repo.Tag(digest.Algorithm + "-" + digest.Hex + "." + suffix)
	desc, err := remote.Get(tag, s.opts...)
	if isNotFound(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("fetching %s: %w", tag, err)
	}
	m, err := parseManifest(desc.Manifest)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", tag, err)
	}
	return m, tag.String(), nil
}

func (s *registryStore) referrers(ctx context.Context, digest v1.Hash) ([]v1.Descriptor, error) {
	idx, err := remote.Referrers(s.repo.Digest(digest.String()), s.opts...)
	if err != nil {
		return nil, fmt.Errorf("listing referrers of %s: %w", digest, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("listing referrers of %s: %w", digest, err)
	}
	return im.Manifests, nil
}

func (s *registryStore) manifest(ctx context.Context, d v1.Hash) ([]byte, error) {
	desc, err := remote.Get(s.repo.Digest(d.String()), s.opts...)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", s.where(d), err)
	}
	return desc.Manifest, nil
}

func (s *registryStore) blob(ctx context.Context, d v1.Hash) (io.ReadCloser, error) {
	l, err := remote.Layer(s.repo.Digest(d.String()), s.opts...)
	if err != nil {
		return nil, err
	}
	return l.Compressed()
}

func (s *registryStore) where(d v1.Hash) string { return s.repo.String() + "@" + d.String() }

// layoutStore reads an OCI image layout as `cosign save` writes it: the
// image, and beside it in index.json the signature and attestation images
// marked with a "kind" annotation.
type layoutStore struct {
	dir   string
	path  layout.Path
	index *v1.IndexManifest
}

const (
	kindImage      = "dev.cosignproject.cosign/image"
	kindImageIndex = "dev.cosignproject.cosign/imageIndex"
	kindSigs       = "dev.cosignproject.cosign/sigs"
	kindAtts       = "dev.cosignproject.cosign/atts"
)

func openLayout(dir string) (*layoutStore, v1.Hash, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("%s is not an OCI image layout: %w", dir, err)
	}
	ii, err := p.ImageIndex()
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("reading %s: %w", dir, err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("reading %s/index.json: %w", dir, err)
	}
	s := &layoutStore{dir: dir, path: p, index: im}
	var found []v1.Hash
	var plain []v1.Hash
	for _, d := range im.Manifests {
		switch d.Annotations[kindAnnotaton] {
		case kindImage, kindImageIndex:
			found = append(found, d.Digest)
		case kindSigs, kindAtts:
		default:
			if d.ArtifactType == "" && d.MediaType.IsImage() || d.MediaType.IsIndex() {
				plain = append(plain, d.Digest)
			}
		}
	}
	if len(found) == 0 {
		found = plain
	}
	switch len(found) {
	case 0:
		return nil, v1.Hash{}, fmt.Errorf("%s holds no image", dir)
	case 1:
		return s, found[0], nil
	}
	return nil, v1.Hash{}, fmt.Errorf("%s holds %d images; verify needs a layout of one image, as cosign save writes", dir, len(found))
}

func (s *layoutStore) attached(ctx context.Context, digest v1.Hash, suffix string) (*v1.Manifest, string, error) {
	kind := kindSigs
	if suffix == "att" {
		kind = kindAtts
	}
	for _, d := range s.index.Manifests {
		if d.Annotations[kindAnnotaton] != kind {
			continue
		}
		b, err := s.manifest(ctx, d.Digest)
		if err != nil {
			return nil, "", err
		}
		m, err := parseManifest(b)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", s.where(d.Digest), err)
		}
		return m, s.where(d.Digest), nil
	}
	return nil, "", nil
}

// maxOrphans bounds how many small unlisted blobs of a layout are looked
// at for referrer manifests, and maxOrphanSize how large one may be.
const (
	maxOrphans    = 4096
	maxOrphanSize = 64 << 10
)

// referrers lists the manifests of the layout whose subject is digest:
// those index.json lists, and — because `cosign save` of cosign 3.1
// rewrites index.json for every referrer it saves, so that only the image
// stays listed while the bundles' manifests stay in blobs/ — small blobs
// that index.json does not list. Each is read through readBlob, so its
// content must match the digest its name claims.
func (s *layoutStore) referrers(ctx context.Context, digest v1.Hash) ([]v1.Descriptor, error) {
	cands := slices.Clone(s.index.Manifests)
	listed := map[v1.Hash]bool{}
	for _, d := range cands {
		listed[d.Digest] = true
	}
	if entries, err := os.ReadDir(filepath.Join(s.dir, "blobs", "sha256")); err == nil {
		n := 0
		for _, e := range entries {
			h, err := v1.NewHash("sha256:" + e.Name())
			if err != nil || listed[h] || !e.Type().IsRegular() {
				continue
			}
			if fi, err := e.Info(); err != nil || fi.Size() > maxOrphanSize {
				continue
			}
			if n++; n > maxOrphans {
				break
			}
			cands = append(cands, v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: h})
		}
	}
	var out []v1.Descriptor
	for _, d := range cands {
		if !d.MediaType.IsImage() || d.Annotations[kindAnnotaton] != "" {
			continue
		}
		b, err := s.manifest(ctx, d.Digest)
		if err != nil {
			if listed[d.Digest] {
				return nil, err
			}
			continue
		}
		var m struct {
			ArtifactType string         `json:"artifactType"`
			Config       v1.Descriptor  `json:"config"`
			Subject      *v1.Descriptor `json:"subject"`
		}
		if json.Unmarshal(b, &m) != nil || m.Subject == nil || m.Subject.Digest != digest {
			continue
		}
		d.ArtifactType = m.ArtifactType
		if d.ArtifactType == "" {
			d.ArtifactType = string(m.Config.MediaType)
		}
		out = append(out, d)
	}
	return out, nil
}

func (s *layoutStore) manifest(ctx context.Context, d v1.Hash) ([]byte, error) {
	b, err := readBlob(ctx, s, d, maxManifest)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (s *layoutStore) blob(ctx context.Context, d v1.Hash) (io.ReadCloser, error) {
	return s.path.Blob(d)
}

func (s *layoutStore) where(d v1.Hash) string { return s.dir + "@" + d.String() }
