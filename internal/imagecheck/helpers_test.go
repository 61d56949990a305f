package imagecheck

import (
	"archive/tar"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
	"github.com/tollgate-dev/tollgate/internal/secret"
)

// step is one history entry of a test image: a layer of entries, or an
// empty layer when entries is nil and empty is set.
type step struct {
	createdBy string
	entries   []registrytest.Entry
	empty     bool
}

func layer(createdBy string, entries ...registrytest.Entry) step {
	return step{createdBy: createdBy, entries: entries}
}

func meta(createdBy string) step { return step{createdBy: createdBy, empty: true} }

// cleanBase is a small Alpine-like root filesystem that passes every
// check: accounts with locked passwords and unique IDs, no caches, no
// tools, nothing world-writable.
func cleanBase() step {
	return layer("ADD alpine-minirootfs.tar.gz / # buildkit",
		registrytest.Dir("etc/"),
		registrytest.File("etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n"),
		registrytest.File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\napp:x:10001:10001::/home/app:/sbin/nologin\n"),
		registrytest.File("etc/group", "root:x:0:root\nnobody:x:65534:\napp:x:10001:\n"),
		registrytest.Entry{Name: "etc/shadow", Body: "root:*:19000:0:::::\nnobody:!:19000::::::\napp:!:19000::::::\n", Mode: 0o640},
		registrytest.File("lib/apk/db/installed", "P:musl\nV:1.2.5-r0\n\nP:busybox\nV:1.36.1-r29\n"),
		registrytest.Exec("bin/busybox", "\x7fELF\x00binary"),
		registrytest.Entry{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777},
	)
}

// config options of test images.
type imageConfig struct {
	user        string
	healthcheck []string
	volumes     []string
	env         []string
}

func defaultConfig() imageConfig {
	return imageConfig{user: "10001", healthcheck: []string{"CMD", "/app", "-health"}}
}

// buildImage builds the image, writes it as an OCI layout and opens it as
// tollgate does.
func buildImage(t *testing.T, c imageConfig, steps ...step) *image.Image {
	t.Helper()
	img := buildV1(t, c, steps...)
	dir := filepath.Join(t.TempDir(), "layout")
	registrytest.WriteLayout(t, dir, img, "test")
	opened, err := image.OpenLayout(dir, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { opened.Close() })
	return opened
}

// buildV1 builds the image with go-containerregistry.
func buildV1(t *testing.T, c imageConfig, steps ...step) v1.Image {
	t.Helper()
	img := empty.Image
	var adds []mutate.Addendum
	var history []v1.History
	for _, s := range steps {
		h := v1.History{Created: v1.Time{Time: registrytest.Epoch()}, CreatedBy: s.createdBy, EmptyLayer: s.empty}
		if s.empty {
			history = append(history, h)
			continue
		}
		adds = append(adds, mutate.Addendum{Layer: registrytest.Layer(t, s.entries...), History: h})
		history = append(history, h)
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture, cfg.OS = "amd64", "linux"
	cfg.Created = v1.Time{Time: registrytest.Epoch()}
	cfg.History = history
	cfg.Config.User = c.user
	cfg.Config.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, c.env...)
	if c.healthcheck != nil {
		cfg.Config.Healthcheck = &v1.HealthConfig{Test: c.healthcheck}
	}
	if len(c.volumes) > 0 {
		cfg.Config.Volumes = map[string]struct{}{}
		for _, v := range c.volumes {
			cfg.Config.Volumes[v] = struct{}{}
		}
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	return img
}

func secretScanner(t testing.TB) *secret.Scanner {
	t.Helper()
	s, err := secret.New(secret.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// got is a finding reduced to what the tests compare: the check, the
// index of its layer (-1 for none) and the path.
type got struct {
	ID    string
	Layer int
	Path  string
}

func layerIndex(img *image.Image, l *Layer) int {
	if l == nil || l.DiffID == "" {
		return -1
	}
	for i, x := range img.Layers {
		if x.DiffID == l.DiffID {
			return i
		}
	}
	return -2
}

func reduce(img *image.Image, fs []Finding) []got {
	var out []got
	for _, f := range fs {
		out = append(out, got{f.ID, layerIndex(img, f.Layer), f.Path})
	}
	return out
}

// big returns n bytes of text.
func big(n int) string { return strings.Repeat("0123456789abcde\n", n/16+1)[:n] }
