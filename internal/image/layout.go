package image

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// blobStore is where an OCI layout keeps index.json and blobs/: a directory
// or an archive.
type blobStore interface {
	open(name string) (io.ReadCloser, int64, error)
	readSmall(name string) ([]byte, error)
}

type archiveStore struct{ idx *tarIndex }

func (s archiveStore) open(name string) (io.ReadCloser, int64, error) {
	sr, err := s.idx.open(name)
	if err != nil {
		return nil, 0, err
	}
	return io.NopCloser(sr), sr.Size(), nil
}

func (s archiveStore) readSmall(name string) ([]byte, error) { return s.idx.readSmall(name) }

// dirStore reads a layout directory through os.Root, so a symlink inside
// the layout cannot make us read a file outside it.
type dirStore struct{ root *os.Root }

func (s dirStore) open(name string) (io.ReadCloser, int64, error) {
	f, err := s.root.Open(name)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s: not a regular file", name)
	}
	return f, fi.Size(), nil
}

func (s dirStore) readSmall(name string) ([]byte, error) {
	rc, _, err := s.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return readLimited(rc, maxMetadataSize, name)
}

// OpenLayout opens an OCI image layout directory.
func OpenLayout(dir string, o Options) (*Image, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	img, err := layoutImage(dirStore{root}, dir, o)
	if err != nil {
		root.Close()
		return nil, err
	}
	img.closers = append(img.closers, root.Close)
	return img, nil
}

func blobPath(d v1.Hash) string { return "blobs/" + d.Algorithm + "/" + d.Hex }

// candidate is an image manifest found through index.json.
type candidate struct {
	desc v1.Descriptor
	name string // ref name annotation, for messages and RepoTags
}

func layoutImage(s blobStore, name string, o Options) (*Image, error) {
	b, err := s.readSmall("index.json")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var index v1.IndexManifest
	if err := json.Unmarshal(b, &index); err != nil {
		return nil, fmt.Errorf("%s: parsing index.json: %w", name, err)
	}
	var cands []candidate
	if err := collectManifests(s, index.Manifests, "", 0, &cands); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c, err := pickManifest(cands, o.platform())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	mb, err := s.readSmall(blobPath(c.desc.Digest))
	if err != nil {
		return nil, fmt.Errorf("%s: reading manifest: %w", name, err)
	}
	if err := checkDigest(mb, c.desc.Digest); err != nil {
		return nil, fmt.Errorf("%s: manifest: %w", name, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(mb))
	if err != nil {
		return nil, fmt.Errorf("%s: parsing manifest: %w", name, err)
	}
	raw, err := s.readSmall(blobPath(m.Config.Digest))
	if err != nil {
		return nil, fmt.Errorf("%s: reading image config: %w", name, err)
	}
	if err := checkDigest(raw, m.Config.Digest); err != nil {
		return nil, fmt.Errorf("%s: image config: %w", name, err)
	}
	img, err := newImage(name, raw)
	if err != nil {
		return nil, err
	}
	if len(imageManifests(cands)) == 1 { // nothing was chosen by platform
		if err := checkPlatform(img, o); err != nil {
			return nil, err
		}
	}
	img.ManifestDigest = c.desc.Digest.String()
	if c.name != "" {
		img.RepoTags = []string{c.name}
	}
	if err := img.setLayers(m, func(d v1.Hash) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) {
			rc, _, err := s.open(blobPath(d))
			return rc, err
		}
	}); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return img, nil
}

// setLayers pairs the manifest's layers with the config's diffIDs.
func (img *Image) setLayers(m *v1.Manifest, opener func(v1.Hash) func() (io.ReadCloser, error)) error {
	diffIDs := img.Config.RootFS.DiffIDs
	if len(m.Layers) != len(diffIDs) {
		return fmt.Errorf("manifest lists %d layers but the config has %d diff_ids", len(m.Layers), len(diffIDs))
	}
	for i, d := range m.Layers {
		img.Layers = append(img.Layers, &Layer{
			Index:     i,
			Digest:    d.Digest.String(),
			DiffID:    diffIDs[i].String(),
			Size:      d.Size,
			MediaType: string(d.MediaType),
			open:      opener(d.Digest),
		})
	}
	return nil
}

func checkDigest(b []byte, want v1.Hash) error {
	got, _, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if want.Algorithm != "sha256" {
		return fmt.Errorf("unsupported digest algorithm %q", want.Algorithm)
	}
	if got != want {
		return fmt.Errorf("content is %s, not %s", got, want)
	}
	return nil
}

// maxIndexDepth bounds nested indexes (an index pointing at itself would
// otherwise loop).
const maxIndexDepth = 4

func collectManifests(s blobStore, descs []v1.Descriptor, refName string, depth int, out *[]candidate) error {
	if depth > maxIndexDepth {
		return fmt.Errorf("image indexes nested deeper than %d", maxIndexDepth)
	}
	for _, d := range descs {
		n := refName
		if v := d.Annotations["io.containerd.image.name"]; v != "" {
			n = v
		} else if v := d.Annotations["org.opencontainers.image.ref.name"]; v != "" && n == "" {
			n = v
		}
		switch d.MediaType {
		case types.OCIImageIndex, types.DockerManifestList:
			b, err := s.readSmall(blobPath(d.Digest))
			if err != nil {
				return fmt.Errorf("reading index %s: %w", d.Digest, err)
			}
			if err := checkDigest(b, d.Digest); err != nil {
				return fmt.Errorf("index %s: %w", d.Digest, err)
			}
			var idx v1.IndexManifest
			if err := json.Unmarshal(b, &idx); err != nil {
				return fmt.Errorf("parsing index %s: %w", d.Digest, err)
			}
			if err := collectManifests(s, idx.Manifests, n, depth+1, out); err != nil {
				return err
			}
		case types.OCIManifestSchema1, types.DockerManifestSchema2:
			*out = append(*out, candidate{desc: d, name: n})
		}
	}
	return nil
}

// imageManifests leaves out the attestation manifests (platform
// unknown/unknown) of cands.
func imageManifests(cands []candidate) []candidate {
	var imgs []candidate
	for _, c := range cands {
		if c.desc.Platform != nil && c.desc.Platform.OS == "unknown" {
			continue
		}
		imgs = append(imgs, c)
	}
	return imgs
}

// pickManifest chooses the image among the manifests of a layout: the only
// one, or the one for the wanted platform. Attestation manifests
// (platform unknown/unknown) are never images.
func pickManifest(cands []candidate, want v1.Platform) (candidate, error) {
	imgs := imageManifests(cands)
	if len(imgs) == 0 {
		return candidate{}, fmt.Errorf("no image manifest in index.json")
	}
	if len(imgs) == 1 {
		return imgs[0], nil
	}
	var match []candidate
	for _, c := range imgs {
		if c.desc.Platform != nil && c.desc.Platform.Satisfies(want) {
			match = append(match, c)
		}
	}
	if len(match) == 1 {
		return match[0], nil
	}
	var names []string
	for _, c := range imgs {
		s := c.desc.Digest.String()
		if c.name != "" {
			s = c.name + " " + s
		}
		if c.desc.Platform != nil {
			s += " " + c.desc.Platform.String()
		}
		names = append(names, s)
	}
	if len(match) == 0 {
		return candidate{}, fmt.Errorf("no image for platform %s among: %s", want.String(), strings.Join(names, "; "))
	}
	return candidate{}, fmt.Errorf("several images match platform %s: %s", want.String(), strings.Join(names, "; "))
}
