package inventory

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// The hostile-input suite. Each case scans an image built to attack a tar
// reader and checks the outcome (a clear error or a safe result), then
// that nothing was written anywhere but the cache directory: the temp
// directory (TMPDIR too, for libraries that use it) is empty again, the
// working directory is untouched, and the files the tar entries aim at
// outside the image do not exist.
//
// These tests set TMPDIR and the working directory, so they are not
// parallel.

type sandbox struct {
	root, work, tmp, cache string
	escape                 string // where traversal entries point
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	root := t.TempDir()
	s := &sandbox{
		root:   root,
		work:   filepath.Join(root, "work"),
		tmp:    filepath.Join(root, "tmp"),
		cache:  filepath.Join(root, "cache"),
		escape: filepath.Join(root, "escape"),
	}
	for _, d := range []string{s.work, s.tmp, s.cache, s.escape} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TMPDIR", s.tmp)
	t.Chdir(s.work)
	return s
}

// files lists the regular files and symlinks under dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// check verifies that the scan wrote only cache entries.
func (s *sandbox) check(t *testing.T) {
	t.Helper()
	if f := files(t, s.tmp); len(f) != 0 {
		t.Errorf("temp directory not cleaned up: %v", f)
	}
	if f := files(t, s.work); len(f) != 0 {
		t.Errorf("files written to the working directory: %v", f)
	}
	if f := files(t, s.escape); len(f) != 0 {
		t.Errorf("files written outside the image: %v", f)
	}
	for _, f := range files(t, s.cache) {
		if !strings.HasPrefix(f, "layers/") || !strings.HasSuffix(f, ".json") {
			t.Errorf("unexpected file in the cache directory: %s", f)
		}
	}
	allowed := map[string]bool{"cache": true, "escape": true, "layout": true, "tmp": true, "work": true, "archive.tar": true}
	entries, _ := os.ReadDir(s.root)
	for _, e := range entries {
		if !allowed[e.Name()] {
			t.Errorf("unexpected file in the sandbox: %s", e.Name())
		}
	}
}

func (s *sandbox) scan(t *testing.T, img v1.Image) (*Inventory, error) {
	t.Helper()
	layout := filepath.Join(s.root, "layout")
	os.RemoveAll(layout)
	registrytest.WriteLayout(t, layout, img, "")
	return Collect(context.Background(), Target{KindOCIDir, layout}, Options{CacheDir: s.cache, TempDir: s.tmp})
}

// escapeRel is a relative path from the image root to the sandbox's escape
// directory, deep enough in ".." to leave any extraction directory.
func (s *sandbox) escapeRel(name string) string {
	return strings.Repeat("../", 32) + strings.TrimPrefix(filepath.Join(s.escape, name), "/")
}

func TestHostilePathTraversal(t *testing.T) {
	s := newSandbox(t)
	img := registrytest.Image(t, registrytest.Layer(t,
		registrytest.File(s.escapeRel("evil"), "written outside"),
		registrytest.File("var/lib/../../../../"+strings.TrimPrefix(s.escape, "/")+"/evil2", "also outside"),
		registrytest.File("../var/lib/dpkg/status", "Package: smuggled\nStatus: install ok installed\nVersion: 1\n"),
		registrytest.Hardlink("etc/passwd-link", s.escapeRel("target")),
		registrytest.File("./var/lib/dpkg/status", "Package: real\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n"),
	))
	inv, err := s.scan(t, img)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"real@1.0 all"}, summary(inv.Packages)); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
	// Every entry that leaves the root is reported.
	if n := countContaining(inv.Warnings, "leaves the image root"); n != 4 {
		t.Errorf("%d warnings about escaping names, want 4: %q", n, inv.Warnings)
	}
	s.check(t)
}

func TestHostileAbsoluteLinks(t *testing.T) {
	s := newSandbox(t)
	// Symlinks to the host's own package database and os-release. A reader
	// that followed them would report this machine's packages.
	img := registrytest.Image(t, registrytest.Layer(t,
		registrytest.Symlink("etc/os-release", "/etc/os-release"),
		registrytest.Symlink("usr/lib/os-release", "/usr/lib/os-release"),
		registrytest.Symlink("var/lib/dpkg", "/var/lib/dpkg"),
		registrytest.Symlink("var/lib/rpm/rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite"),
		registrytest.Hardlink("lib/apk/db/installed", "/etc/passwd"),
		registrytest.Symlink("escape", s.escape),
		registrytest.File("escape/evil", "through the link"),
	))
	inv, err := s.scan(t, img)
	if err != nil {
		t.Fatal(err)
	}
	if inv.OS != nil || len(inv.Packages) != 0 {
		t.Errorf("links were followed out of the image: OS %+v, packages %v", inv.OS, summary(inv.Packages))
	}
	s.check(t)
}

func TestHostileLinkLoops(t *testing.T) {
	s := newSandbox(t)
	img := registrytest.Image(t, registrytest.Layer(t,
		registrytest.Symlink("a", "b"),
		registrytest.Symlink("b", "a"),
		registrytest.Symlink("etc/os-release", "os-release"),
		registrytest.Symlink("var/lib/dpkg/status", "../dpkg/status"),
		registrytest.Hardlink("loop", "loop"),
		registrytest.File("etc/alpine-release", "3.19.0\n"),
	))
	inv, err := s.scan(t, img)
	if err != nil {
		t.Fatal(err)
	}
	if inv.OS == nil || inv.OS.Family != "alpine" || len(inv.Packages) != 0 {
		t.Errorf("OS %+v, packages %v", inv.OS, summary(inv.Packages))
	}
	s.check(t)

	// The same in an image archive's own metadata: manifest.json is a
	// symlink loop, and a layer path is an absolute link to a host file.
	for name, entries := range map[string][]registrytest.Entry{
		"manifest loop": {
			registrytest.Symlink("manifest.json", "m2.json"),
			registrytest.Symlink("m2.json", "manifest.json"),
		},
		"manifest pointing at the host": {
			registrytest.Symlink("manifest.json", "/etc/passwd"),
		},
		"manifest climbing out": {
			registrytest.Symlink("manifest.json", "../../../../etc/passwd"),
		},
		"layer pointing at the host": {
			registrytest.File("manifest.json", `[{"Config":"c.json","RepoTags":["x:1"],"Layers":["l/layer.tar"]}]`),
			registrytest.File("c.json", `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}}`),
			registrytest.Symlink("l/layer.tar", "/etc/passwd"),
		},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(s.root, "archive.tar")
			os.WriteFile(p, registrytest.Tar(t, entries...), 0o644)
			defer os.Remove(p)
			_, err := Collect(context.Background(), Target{KindDockerArchive, p}, Options{CacheDir: s.cache, TempDir: s.tmp})
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			// Absolute links are resolved inside the archive, never on the host.
			if !strings.Contains(err.Error(), "a link to etc/passwd, which the archive does not hold") &&
				!strings.Contains(err.Error(), "outside the archive: not followed") &&
				!strings.Contains(err.Error(), "too many levels of links") {
				t.Errorf("unclear error: %v", err)
			}
			s.check(t)
		})
	}
}

// zeroReader yields n zero bytes.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	m := min(int64(len(p)), z.n)
	clear(p[:m])
	z.n -= m
	return int(m), nil
}

// bombLayer streams a gzip layer of huge zero-filled files to disk
// (without holding it in memory) and returns it.
func bombLayer(t *testing.T, dir string, files map[string]int64) v1.Layer {
	t.Helper()
	p := filepath.Join(dir, "bomb.tar.gz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		size := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o755, Size: size, Typeflag: tar.TypeReg, ModTime: registrytest.Epoch()}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, &zeroReader{size}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	f.Close()
	l, err := tarball.LayerFromFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestHostileGzipBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses about 1 GiB; skipped with -short")
	}
	s := newSandbox(t)
	const mib = 1 << 20
	// Compressed, this layer is about 1 MiB; uncompressed it is 700 MiB:
	// a database past the dpkg analyzer's limit, one the analyzer reads
	// (through a spill file, not memory) and a big file nobody wants.
	layer := bombLayer(t, t.TempDir(), map[string]int64{
		"var/lib/dpkg/status":      300 * mib,
		"lib/apk/db/installed":     100 * mib,
		"usr/share/zeros/blob.bin": 300 * mib,
	})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	inv, err := s.scan(t, registrytest.Image(t, layer))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Packages) != 0 {
		t.Errorf("packages from zeros: %v", summary(inv.Packages))
	}
	if n := countContaining(inv.Warnings, "var/lib/dpkg/status: 314572800 bytes, larger than the dpkg analyzer reads"); n != 1 {
		t.Errorf("no warning about the oversized database: %q", inv.Warnings)
	}
	// Allocation, not just the heap at the end: reading 700 MiB must not
	// have allocated anything near that.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d MiB while reading 700 MiB", alloc/mib)
	if alloc > 64*mib {
		t.Errorf("scanning allocated %d MiB; the layer's files must be streamed or spilled, not buffered", alloc/mib)
	}
	s.check(t)
}

func TestHostileTruncatedLayer(t *testing.T) {
	s := newSandbox(t)
	img := registrytest.Image(t,
		registrytest.Layer(t, registrytest.File("etc/alpine-release", "3.19.0\n")),
		registrytest.Layer(t, registrytest.File("lib/apk/db/installed", strings.Repeat("P:pkg\nV:1.0-r0\n\n", 2000))),
	)
	layout := filepath.Join(s.root, "layout")
	registrytest.WriteLayout(t, layout, img, "")
	ls, _ := img.Layers()
	d, _ := ls[1].Digest()
	blob := filepath.Join(layout, "blobs", d.Algorithm, d.Hex)
	b, _ := os.ReadFile(blob)
	os.WriteFile(blob, b[:len(b)*6/10], 0o644)
	_, err := Collect(context.Background(), Target{KindOCIDir, layout}, Options{CacheDir: s.cache, TempDir: s.tmp})
	if err == nil {
		t.Fatal("a truncated layer was accepted")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "layer 2 ("+d.String()+")") || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error does not name the layer and the cause: %v", err)
	}
	// The good first layer may be cached; the broken one must not be.
	if n := len(cacheEntries(t, s.cache)); n > 1 {
		t.Errorf("%d cache entries; the truncated layer was cached", n)
	}
	s.check(t)
}

func TestHostileDuplicateEntries(t *testing.T) {
	s := newSandbox(t)
	img := registrytest.Image(t, registrytest.Layer(t,
		registrytest.File("var/lib/dpkg/status", "Package: first\nStatus: install ok installed\nVersion: 1\n"),
		registrytest.File("etc/os-release", "ID=alpine\nVERSION_ID=3.18.0\n"),
		registrytest.File("var/lib/dpkg/status", "Package: second\nStatus: install ok installed\nVersion: 2\n"),
		registrytest.File("etc/os-release", "ID=debian\nVERSION_ID=12\n"),
		// A file replaced by a symlink in the same layer is gone.
		registrytest.File("lib/apk/db/installed", "P:gone\nV:1-r0\n"),
		registrytest.Symlink("lib/apk/db/installed", "/dev/null"),
	))
	inv, err := s.scan(t, img)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"second@2"}, summary(inv.Packages)); d != "" {
		t.Errorf("later entry must win (-want +got):\n%s", d)
	}
	if inv.OS == nil || inv.OS.Family != "debian" {
		t.Errorf("OS %+v, want the later os-release (debian)", inv.OS)
	}
	s.check(t)
}

func countContaining(list []string, sub string) int {
	n := 0
	for _, s := range list {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}
