package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

func cacheEntries(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "layers", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// removeBlobs deletes the layer blobs of an OCI layout, so only the cache
// can answer for them.
func removeBlobs(t *testing.T, dir string, img v1.Image) {
	t.Helper()
	ls, _ := img.Layers()
	for _, l := range ls {
		d, _ := l.Digest()
		if err := os.Remove(filepath.Join(dir, "blobs", d.Algorithm, d.Hex)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCacheReuse(t *testing.T) {
	t.Parallel()
	img := registrytest.DebianImage(t)
	layout := t.TempDir()
	registrytest.WriteLayout(t, layout, img, "")
	cacheDir := t.TempDir()
	target := Target{KindOCIDir, layout}
	first, err := Collect(context.Background(), target, Options{CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cacheEntries(t, cacheDir)); n != 4 {
		t.Fatalf("%d cache entries after the first scan, want one per layer (4)", n)
	}

	// With the layer blobs gone, a scan can only succeed from the cache.
	removeBlobs(t, layout, img)
	second, err := Collect(context.Background(), target, Options{CacheDir: cacheDir})
	if err != nil {
		t.Fatalf("scan from cache: %v", err)
	}
	if d := cmp.Diff(first.Packages, second.Packages); d != "" {
		t.Errorf("cached result differs (-first +second):\n%s", d)
	}
	// Without the cache the same scan fails: the layers are really gone.
	if _, err := Collect(context.Background(), target, Options{}); err == nil {
		t.Fatal("scan without cache succeeded with the layer blobs removed")
	}
}

func TestCacheCorruptEntryIsRewritten(t *testing.T) {
	t.Parallel()
	img := registrytest.AlpineImage(t)
	layout := t.TempDir()
	registrytest.WriteLayout(t, layout, img, "")
	cacheDir := t.TempDir()
	target := Target{KindOCIDir, layout}
	want, err := Collect(context.Background(), target, Options{CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	entries := cacheEntries(t, cacheDir)
	good, _ := os.ReadFile(entries[0])
	for name, damage := range map[string]func([]byte) []byte{
		"truncated":    func(b []byte) []byte { return b[:len(b)/2] },
		"empty":        func([]byte) []byte { return nil },
		"flipped byte": func(b []byte) []byte { c := append([]byte{}, b...); c[len(c)-10] ^= 0x20; return c },
		"not ours":     func([]byte) []byte { return []byte("{}\n") },
		// A well-formed entry of another layer (a renamed file) must not be used.
		"valid but wrong key": func([]byte) []byte {
			ob, _ := os.ReadFile(entries[1])
			return ob
		},
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(entries[0], damage(good), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := Collect(context.Background(), target, Options{CacheDir: cacheDir})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want.Packages, got.Packages); d != "" {
				t.Errorf("result with a damaged entry (-want +got):\n%s", d)
			}
			after, _ := os.ReadFile(entries[0])
			if string(after) != string(good) {
				t.Errorf("damaged entry was not rewritten")
			}
		})
	}
}

func TestCacheUnwritableDirWarns(t *testing.T) {
	t.Parallel()
	// A file where the cache directory should be: unlike a read-only
	// directory, this stops root too.
	layout := t.TempDir()
	registrytest.WriteLayout(t, layout, registrytest.AlpineImage(t), "")
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o644)
	inv, err := Collect(context.Background(), Target{KindOCIDir, layout}, Options{CacheDir: notDir})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Packages) != 4 || len(inv.Warnings) != 1 || !strings.Contains(inv.Warnings[0], "cache disabled") {
		t.Errorf("packages %d, warnings %q", len(inv.Packages), inv.Warnings)
	}
}

// TestCacheSharedByProcesses runs several processes (this test binary,
// re-executed) that scan the same image into one cache directory at the
// same time. Each must succeed with the same result, and the cache must
// end up with one valid entry per layer.
func TestCacheSharedByProcesses(t *testing.T) {
	t.Parallel()
	img := registrytest.DebianImage(t)
	layout := t.TempDir()
	registrytest.WriteLayout(t, layout, img, "")
	cacheDir := t.TempDir()
	const procs = 4
	cmds := make([]*exec.Cmd, procs)
	outs := make([]*strings.Builder, procs)
	for i := range cmds {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "TOLLGATE_CACHE_HELPER="+layout+"|"+cacheDir)
		outs[i] = &strings.Builder{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	var results []string
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, outs[i])
		}
		out := outs[i].String()
		start := strings.Index(out, "RESULT:")
		if start < 0 {
			t.Fatalf("process %d printed no result:\n%s", i, out)
		}
		results = append(results, strings.SplitN(out[start:], "\n", 2)[0])
	}
	for i := 1; i < procs; i++ {
		if results[i] != results[0] {
			t.Errorf("process %d result differs:\n%s\nvs\n%s", i, results[i], results[0])
		}
	}
	entries := cacheEntries(t, cacheDir)
	if len(entries) != 4 {
		t.Errorf("%d cache entries, want 4", len(entries))
	}
	c := &layerCache{dir: filepath.Join(cacheDir, "layers")}
	for _, e := range entries {
		key := strings.TrimSuffix(filepath.Base(e), ".json")
		if _, ok := c.get(key); !ok {
			t.Errorf("cache entry %s is not valid", e)
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(cacheDir, "layers", ".*")); len(tmps) != 0 {
		t.Errorf("temporary files left in the cache: %v", tmps)
	}
}

// cacheHelper is the child process of TestCacheSharedByProcesses (see
// TestMain): it scans the layout into the cache and prints the result.
func cacheHelper(arg string) int {
	layout, cacheDir, _ := strings.Cut(arg, "|")
	inv, err := Collect(context.Background(), Target{KindOCIDir, layout}, Options{CacheDir: cacheDir})
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	b, _ := json.Marshal(layered(inv.Packages))
	os.Stdout.WriteString("RESULT:" + string(b) + "\n")
	return 0
}

func TestDiffIDMismatchIsRefusedAndNotCached(t *testing.T) {
	t.Parallel()
	good := registrytest.AlpineImage(t)
	// An image whose config claims the first layer's diffID for different
	// content: were it cached, a later scan of the real image would be
	// answered with this layer's packages.
	evilLayer := registrytest.Layer(t, registrytest.File("lib/apk/db/installed", "P:evil\nV:1.0-r0\n"))
	goodCfg, _ := good.ConfigFile()
	evil := registrytest.Image(t, evilLayer)
	cfg, _ := evil.ConfigFile()
	cfg = cfg.DeepCopy()
	cfg.RootFS.DiffIDs[0] = goodCfg.RootFS.DiffIDs[0]
	layout := t.TempDir()
	registrytest.WriteLayout(t, layout, withConfig(t, evil, cfg), "")
	cacheDir := t.TempDir()
	_, err := Collect(context.Background(), Target{KindOCIDir, layout}, Options{CacheDir: cacheDir})
	if !errors.Is(err, image.ErrDiffIDMismatch) {
		t.Fatalf("err = %v, want a diffID mismatch", err)
	}
	if !strings.Contains(err.Error(), "layer 1 (sha256:") {
		t.Errorf("error does not name the layer: %v", err)
	}
	if n := len(cacheEntries(t, cacheDir)); n != 0 {
		t.Errorf("%d cache entries written for a lying layer", n)
	}
}
