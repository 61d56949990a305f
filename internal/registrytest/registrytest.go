// Package registrytest helps tests that need container images: it starts
// go-containerregistry's in-process registry (optionally behind TLS and
// basic authentication), builds layers and images from lists of tar
// entries, and writes images in the formats tollgate reads (docker save
// tars in the classic and the Docker 25+ layouts, OCI layouts and OCI
// archives). Everything it builds is deterministic, so digests can appear
// in golden files.
package registrytest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Epoch is the modification time of every entry and the creation time of
// every image built here.
func Epoch() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }

// Entry is one tar entry. Type defaults to a regular file; Mode to 0644
// for files and 0755 for directories.
type Entry struct {
	Name     string
	Body     string
	Mode     int64
	Type     byte
	Linkname string
	// Size overrides the header size (for truncated or lying entries);
	// 0 means len(Body).
	Size int64
}

// File, Dir, Symlink, Hardlink and Whiteout build entries.
func File(name, body string) Entry { return Entry{Name: name, Body: body} }
func Exec(name, body string) Entry { return Entry{Name: name, Body: body, Mode: 0o755} }
func Dir(name string) Entry        { return Entry{Name: name, Type: tar.TypeDir} }
func Symlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeSymlink, Linkname: target}
}
func Hardlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeLink, Linkname: target}
}
func Whiteout(dir, base string) Entry { return File(filepath.Join(dir, ".wh."+base), "") }
func Opaque(dir string) Entry         { return File(filepath.Join(dir, ".wh..wh..opq"), "") }

// Tar returns an uncompressed tar of the entries, in order.
func Tar(tb testing.TB, entries ...Entry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.Mode
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
		}
		size := int64(0)
		if typ == tar.TypeReg {
			size = int64(len(e.Body))
			if e.Size != 0 {
				size = e.Size
			}
		}
		hdr := &tar.Header{Name: e.Name, Typeflag: typ, Mode: mode, Size: size, Linkname: e.Linkname, ModTime: Epoch(), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			tb.Fatalf("tar header %s: %v", e.Name, err)
		}
		if typ == tar.TypeReg && e.Size == 0 {
			if _, err := io.WriteString(tw, e.Body); err != nil {
				tb.Fatalf("tar body %s: %v", e.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatalf("closing tar: %v", err)
	}
	return buf.Bytes()
}

// Layer returns a gzip-compressed layer holding the entries.
func Layer(tb testing.TB, entries ...Entry) v1.Layer {
	tb.Helper()
	return LayerFromTar(tb, Tar(tb, entries...))
}

// LayerFromTar returns a gzip-compressed layer of an uncompressed tar.
func LayerFromTar(tb testing.TB, tarBytes []byte) v1.Layer {
	tb.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarBytes)), nil
	}, tarball.WithCompressedCaching)
	if err != nil {
		tb.Fatalf("building layer: %v", err)
	}
	return l
}

// Image builds a linux/amd64 image of the layers, bottom first, with one
// history entry per layer.
func Image(tb testing.TB, layers ...v1.Layer) v1.Image {
	tb.Helper()
	adds := make([]mutate.Addendum, len(layers))
	for i, l := range layers {
		adds[i] = mutate.Addendum{Layer: l, History: v1.History{Created: v1.Time{Time: Epoch()}, CreatedBy: "layer " + string(rune('1'+i))}}
	}
	img, err := mutate.Append(empty.Image, adds...)
	if err != nil {
		tb.Fatalf("building image: %v", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		tb.Fatalf("building image: %v", err)
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture = "amd64"
	cfg.OS = "linux"
	cfg.Created = v1.Time{Time: Epoch()}
	cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		tb.Fatalf("building image: %v", err)
	}
	return img
}

// Registry is a running in-process registry.
type Registry struct {
	// Host is "127.0.0.1:PORT", for image references.
	Host string
	// Transport trusts the registry's certificate (TLS registries).
	Transport http.RoundTripper
}

type registryConfig struct {
	tls        bool
	user, pass string
	referrers  bool
}

// RegistryOption configures StartRegistry.
type RegistryOption func(*registryConfig)

// WithTLS serves the registry over TLS with a certificate of its own.
func WithTLS() RegistryOption { return func(c *registryConfig) { c.tls = true } }

// WithBasicAuth requires HTTP basic authentication.
func WithBasicAuth(user, pass string) RegistryOption {
	return func(c *registryConfig) { c.user, c.pass = user, pass }
}

// WithReferrers serves the OCI 1.1 referrers API (without it, clients
// fall back to the referrers tag scheme, as with Debian's docker-registry).
func WithReferrers() RegistryOption { return func(c *registryConfig) { c.referrers = true } }

// StartRegistry starts go-containerregistry's in-process registry on a
// loopback port; it stops when the test ends.
func StartRegistry(tb testing.TB, opts ...RegistryOption) *Registry {
	tb.Helper()
	var cfg registryConfig
	for _, o := range opts {
		o(&cfg)
	}
	ropts := []registry.Option{registry.Logger(log.New(io.Discard, "", 0))}
	if cfg.referrers {
		ropts = append(ropts, registry.WithReferrersSupport(true))
	}
	var h http.Handler = registry.New(ropts...)
	if cfg.user != "" {
		h = basicAuth(h, cfg.user, cfg.pass)
	}
	s := httptest.NewUnstartedServer(h)
	// Tests provoke TLS failures on purpose; keep the server quiet about them.
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	if cfg.tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	tb.Cleanup(s.Close)
	u, err := url.Parse(s.URL)
	if err != nil {
		tb.Fatal(err)
	}
	return &Registry{Host: u.Host, Transport: s.Client().Transport}
}

func basicAuth(h http.Handler, user, pass string) http.Handler {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			w.Header().Set("WWW-Authenticate", `Basic realm="registrytest"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Push writes img to ref ("HOST/repo:tag"), using t for the connection
// (nil: the default transport).
func Push(tb testing.TB, ref string, img v1.Image, opts ...remote.Option) {
	tb.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		tb.Fatalf("parsing %s: %v", ref, err)
	}
	if err := remote.Write(r, img, opts...); err != nil {
		tb.Fatalf("pushing %s: %v", ref, err)
	}
}

// PushIndex writes a multi-platform index to ref.
func PushIndex(tb testing.TB, ref string, idx v1.ImageIndex, opts ...remote.Option) {
	tb.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		tb.Fatalf("parsing %s: %v", ref, err)
	}
	if err := remote.WriteIndex(r, idx, opts...); err != nil {
		tb.Fatalf("pushing %s: %v", ref, err)
	}
}

// Index builds an image index of images for the given platforms.
func Index(tb testing.TB, imgs map[string]v1.Image) v1.ImageIndex {
	tb.Helper()
	keys := make([]string, 0, len(imgs))
	for k := range imgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var adds []mutate.IndexAddendum
	for _, k := range keys {
		p, err := v1.ParsePlatform(k)
		if err != nil {
			tb.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: imgs[k], Descriptor: v1.Descriptor{Platform: p}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

// WriteLayout writes img as an OCI image layout in dir.
func WriteLayout(tb testing.TB, dir string, img v1.Image, refName string) {
	tb.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		tb.Fatalf("writing layout: %v", err)
	}
	var opts []layout.Option
	if refName != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": refName}))
	}
	if err := p.AppendImage(img, opts...); err != nil {
		tb.Fatalf("writing layout: %v", err)
	}
}

// WriteLayoutIndex writes an index as an OCI image layout in dir.
func WriteLayoutIndex(tb testing.TB, dir string, idx v1.ImageIndex) {
	tb.Helper()
	if _, err := layout.Write(dir, idx); err != nil {
		tb.Fatalf("writing layout: %v", err)
	}
}

// WriteOCIArchive writes img as a tar of an OCI image layout.
func WriteOCIArchive(tb testing.TB, path string, img v1.Image, refName string) {
	tb.Helper()
	dir := tb.TempDir()
	WriteLayout(tb, dir, img, refName)
	TarDir(tb, dir, path)
}

// TarDir writes the files under dir to a tar at path, names relative to dir.
func TarDir(tb testing.TB, dir, path string) {
	tb.Helper()
	out, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	tw := tar.NewWriter(out)
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(b)), ModTime: Epoch(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		tb.Fatalf("writing %s: %v", path, err)
	}
}

// archiveWriter writes tar entries of an image archive.
type archiveWriter struct {
	tb testing.TB
	tw *tar.Writer
}

func (a archiveWriter) add(name string, b []byte) {
	a.tb.Helper()
	if err := a.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: Epoch(), Typeflag: tar.TypeReg}); err != nil {
		a.tb.Fatal(err)
	}
	if _, err := a.tw.Write(b); err != nil {
		a.tb.Fatal(err)
	}
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func uncompressedLayers(tb testing.TB, img v1.Image) [][]byte {
	tb.Helper()
	ls, err := img.Layers()
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			tb.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// WriteDockerArchive writes img the way `docker save` did before Docker
// 25: <id>/layer.tar (uncompressed), <id>/json, <id>/VERSION, the config
// as <hex>.json, manifest.json and repositories.
func WriteDockerArchive(tb testing.TB, path, tag string, img v1.Image) {
	tb.Helper()
	writeArchive(tb, path, img, func(a archiveWriter, raw []byte, layers [][]byte) {
		cfgName := sha(raw) + ".json"
		var layerPaths []string
		parent := ""
		for _, b := range layers {
			id := sha([]byte(parent + sha(b)))
			a.add(id+"/VERSION", []byte("1.0"))
			a.add(id+"/json", mustJSON(tb, map[string]string{"id": id, "parent": parent}))
			a.add(id+"/layer.tar", b)
			layerPaths = append(layerPaths, id+"/layer.tar")
			parent = id
		}
		a.add(cfgName, raw)
		a.add("manifest.json", mustJSON(tb, []map[string]any{{"Config": cfgName, "RepoTags": []string{tag}, "Layers": layerPaths}}))
		repo, t, _ := strings.Cut(tag, ":")
		a.add("repositories", mustJSON(tb, map[string]map[string]string{repo: {t: parent}}))
	})
}

// writeArchive creates the tar at path and hands fill img's raw config and
// uncompressed layers to write into it.
func writeArchive(tb testing.TB, path string, img v1.Image, fill func(a archiveWriter, raw []byte, layers [][]byte)) {
	tb.Helper()
	out, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	raw, err := img.RawConfigFile()
	if err != nil {
		tb.Fatal(err)
	}
	a := archiveWriter{tb, tar.NewWriter(out)}
	fill(a, raw, uncompressedLayers(tb, img))
	if err := a.tw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
}

// WriteDocker25Archive writes img the way `docker save` does since Docker
// 25: an OCI layout (uncompressed layer blobs, index.json, oci-layout)
// plus manifest.json and repositories pointing into blobs/.
func WriteDocker25Archive(tb testing.TB, path, tag string, img v1.Image) {
	tb.Helper()
	writeArchive(tb, path, img, func(a archiveWriter, raw []byte, layers [][]byte) {
		a.add("blobs/sha256/"+sha(raw), raw)
		type desc struct {
			MediaType   string            `json:"mediaType"`
			Digest      string            `json:"digest"`
			Size        int               `json:"size"`
			Annotations map[string]string `json:"annotations,omitempty"`
		}
		var layerPaths []string
		var layerDescs []desc
		for _, b := range layers {
			h := sha(b)
			a.add("blobs/sha256/"+h, b)
			layerPaths = append(layerPaths, "blobs/sha256/"+h)
			layerDescs = append(layerDescs, desc{MediaType: string(types.OCIUncompressedLayer), Digest: "sha256:" + h, Size: len(b)})
		}
		manifest := mustJSON(tb, map[string]any{
			"schemaVersion": 2,
			"mediaType":     types.OCIManifestSchema1,
			"config":        desc{MediaType: string(types.OCIConfigJSON), Digest: "sha256:" + sha(raw), Size: len(raw)},
			"layers":        layerDescs,
		})
		a.add("blobs/sha256/"+sha(manifest), manifest)
		repo, t, _ := strings.Cut(tag, ":")
		a.add("index.json", mustJSON(tb, map[string]any{
			"schemaVersion": 2,
			"mediaType":     types.OCIImageIndex,
			"manifests": []desc{{MediaType: string(types.OCIManifestSchema1), Digest: "sha256:" + sha(manifest), Size: len(manifest),
				Annotations: map[string]string{"io.containerd.image.name": "docker.io/library/" + tag, "org.opencontainers.image.ref.name": t}}},
		}))
		a.add("manifest.json", mustJSON(tb, []map[string]any{{"Config": "blobs/sha256/" + sha(raw), "RepoTags": []string{tag}, "Layers": layerPaths}}))
		a.add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
		a.add("repositories", mustJSON(tb, map[string]map[string]string{repo: {t: sha(raw)}}))
	})
}
