package advisory

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tollgate-dev/tollgate/internal/image"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types of the DB as an OCI artifact (our own; documented in the
// README). The artifact is an OCI image manifest whose config is the DB's
// Metadata as JSON and whose one layer is the bbolt file, gzip-compressed.
// The schema version is in the names, so a tollgate that reads another
// schema refuses the artifact before downloading the layer.
const (
	ArtifactType    = "application/vnd.tollgate.advisory-db.v1"
	ConfigMediaType = "application/vnd.tollgate.advisory-db.config.v1+json"
	LayerMediaType  = "application/vnd.tollgate.advisory-db.layer.v1.bbolt+gzip"
)

// maxDBSize bounds the DB file an artifact may expand to.
const maxDBSize = 4 << 30

// RegistryOptions configures registry access for Push and for Update
// with a Repository.
type RegistryOptions struct {
	// Keychain supplies credentials; nil means anonymous. The CLI passes
	// authn.DefaultKeychain.
	Keychain authn.Keychain
	// Insecure allows plain HTTP and unverified TLS (local registries).
	// Loopback registries are reached over plain HTTP without it.
	Insecure bool
	// Transport overrides the HTTP transport (tests).
	Transport http.RoundTripper
}

func (o RegistryOptions) remote(ctx context.Context) []remote.Option {
	return image.RemoteOptions(ctx, o.image())
}

// image gives o as the registry options of internal/image, where all
// registry access is set up.
func (o RegistryOptions) image() image.Options {
	return image.Options{Keychain: o.Keychain, InsecureSkipTLSVerify: o.Insecure, Transport: o.Transport}
}

func (o RegistryOptions) parse(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref, image.NameOptions(o.image())...)
	if err != nil {
		return nil, fmt.Errorf("parsing repository reference %q: %w", ref, err)
	}
	return r, nil
}

// ErrNotArtifact: the reference names something that is not a tollgate
// advisory DB of this schema.
var ErrNotArtifact = errors.New("not a tollgate advisory DB artifact")

// Push stores the DB file at path in a registry as an OCI artifact
// (ArtifactType, ConfigMediaType, LayerMediaType) under ref, and returns
// the manifest digest.
func Push(ctx context.Context, path, ref string, o RegistryOptions) (string, error) {
	db, err := Open(path)
	if err != nil {
		return "", err
	}
	meta := db.Metadata()
	db.Close()
	r, err := o.parse(ref)
	if err != nil {
		return "", err
	}
	gz, err := gzipToTemp(path)
	if err != nil {
		return "", err
	}
	defer os.Remove(gz.path)
	layer, err := partial.CompressedToLayer(gz)
	if err != nil {
		return "", err
	}
	cfg, err := json.Marshal(meta)
	if err != nil {
		return "", err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, ConfigMediaType)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, MediaType: LayerMediaType})
	if err != nil {
		return "", err
	}
	img = mutate.Annotations(img, map[string]string{
		"org.opencontainers.image.created": meta.Built.Format("2006-01-02T15:04:05Z"),
		"org.opencontainers.image.title":   FileName,
	}).(v1.Image)
	img = &configImage{Image: img, raw: cfg}
	if err := remote.Write(r, img, o.remote(ctx)...); err != nil {
		return "", fmt.Errorf("pushing the DB to %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// configImage replaces the image config blob with the DB's metadata.
type configImage struct {
	v1.Image
	raw []byte
}

func (c *configImage) RawConfigFile() ([]byte, error) { return c.raw, nil }
func (c *configImage) ConfigName() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(c.raw))
	return h, err
}
func (c *configImage) Manifest() (*v1.Manifest, error) {
	m, err := c.Image.Manifest()
	if err != nil {
		return nil, err
	}
	m = m.DeepCopy()
	h, err := c.ConfigName()
	if err != nil {
		return nil, err
	}
	m.Config = v1.Descriptor{MediaType: ConfigMediaType, Size: int64(len(c.raw)), Digest: h}
	m.ArtifactType = ArtifactType
	return m, nil
}
func (c *configImage) RawManifest() ([]byte, error) { return partial.RawManifest(c) }
func (c *configImage) Digest() (v1.Hash, error)     { return partial.Digest(c) }
func (c *configImage) Size() (int64, error)         { return partial.Size(c) }

// gzFile is a gzip-compressed copy of the DB, as a compressed layer.
type gzFile struct {
	path   string
	digest v1.Hash
	size   int64
}

func (g *gzFile) Digest() (v1.Hash, error)            { return g.digest, nil }
func (g *gzFile) Size() (int64, error)                { return g.size, nil }
func (g *gzFile) MediaType() (types.MediaType, error) { return LayerMediaType, nil }
func (g *gzFile) Compressed() (io.ReadCloser, error)  { return os.Open(g.path) }

func gzipToTemp(path string) (*gzFile, error) {
	in, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, errors.Unwrap(err))
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(path), ".tollgate-db-push-*.gz")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary file beside %s: %w", path, errors.Unwrap(err))
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(out, h)}
	zw := gzip.NewWriter(cw)
	_, err = io.Copy(zw, in)
	if err == nil {
		err = zw.Close()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return nil, fmt.Errorf("compressing %s: %w", path, err)
	}
	d, _ := v1.NewHash("sha256:" + hex.EncodeToString(h.Sum(nil)))
	return &gzFile{path: out.Name(), digest: d, size: cw.n}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// pull fetches a DB artifact (Update with a Repository), checks it opens
// with this schema, and renames it into place.
func pull(ctx context.Context, opts UpdateOptions) (UpdateResult, error) {
	o := opts.Registry
	r, err := o.parse(opts.Repository)
	if err != nil {
		return UpdateResult{}, err
	}
	img, err := remote.Image(r, o.remote(ctx)...)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%w: fetching %s: %w", ErrDownload, opts.Repository, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%w: fetching %s: %w", ErrDownload, opts.Repository, err)
	}
	if m.Config.MediaType != ConfigMediaType || len(m.Layers) != 1 || m.Layers[0].MediaType != LayerMediaType {
		return UpdateResult{}, fmt.Errorf("%w: %s has config %s (want %s); push it with `tollgate db push` of this version", ErrNotArtifact, opts.Repository, m.Config.MediaType, ConfigMediaType)
	}
	layers, err := img.Layers()
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%w: fetching %s: %w", ErrDownload, opts.Repository, err)
	}
	rc, err := layers[0].Compressed() // verified against its digest as it is read
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%w: fetching %s: %w", ErrDownload, opts.Repository, err)
	}
	defer rc.Close()
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return UpdateResult{}, fmt.Errorf("creating %s: %w", opts.Dir, errors.Unwrap(err))
	}
	tmp, err := os.CreateTemp(opts.Dir, ".tollgate-db-pull-*.tmp")
	if err != nil {
		return UpdateResult{}, fmt.Errorf("creating the new DB in %s: %w", opts.Dir, errors.Unwrap(err))
	}
	defer os.Remove(tmp.Name())
	zr, err := gzip.NewReader(rc)
	var n int64
	if err == nil {
		n, err = io.Copy(tmp, io.LimitReader(zr, maxDBSize+1))
	}
	if err == nil && n > maxDBSize {
		err = fmt.Errorf("it expands to more than %d GiB", maxDBSize>>30)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%w: fetching %s: %v", ErrDownload, opts.Repository, err)
	}
	db, err := Open(tmp.Name())
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%w: the DB in %s: %w", ErrDownload, opts.Repository, err)
	}
	meta := db.Metadata()
	db.Close()
	if err := os.Rename(tmp.Name(), filepath.Join(opts.Dir, FileName)); err != nil {
		return UpdateResult{}, fmt.Errorf("replacing the DB in %s: %w", opts.Dir, errors.Unwrap(err))
	}
	return UpdateResult{Metadata: meta, Downloaded: []string{opts.Repository}, Bytes: n, Rebuilt: true}, nil
}
