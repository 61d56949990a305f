package image

import (
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// TestPlatformOfSingleImageArchive: a single-platform archive has nothing
// to pick from, so an explicit --platform that it does not match is an
// error, never silently ignored.
func TestPlatformOfSingleImageArchive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	img := registrytest.Image(t, registrytest.Layer(t, registrytest.File("etc/os-release", "ID=debian\n"))) // linux/amd64
	docker := filepath.Join(dir, "docker.tar")
	registrytest.WriteDockerArchive(t, docker, "app:1", img)
	oci := filepath.Join(dir, "oci.tar")
	registrytest.WriteOCIArchive(t, oci, img, "app:1")
	layout := filepath.Join(dir, "layout")
	registrytest.WriteLayout(t, layout, img, "app:1")
	open := map[string]func(Options) (*Image, error){
		"docker archive": func(o Options) (*Image, error) { return OpenArchive(docker, o) },
		"oci archive":    func(o Options) (*Image, error) { return OpenOCIArchive(oci, o) },
		"oci layout":     func(o Options) (*Image, error) { return OpenLayout(layout, o) },
	}
	for name, openFn := range open {
		t.Run(name, func(t *testing.T) {
			for _, tc := range []struct {
				platform *v1.Platform
				ok       bool
			}{
				{nil, true}, // no --platform: the image as it is
				{&v1.Platform{OS: "linux", Architecture: "amd64"}, true},
				{&v1.Platform{OS: "linux", Architecture: "arm64"}, false},
				{&v1.Platform{OS: "windows", Architecture: "amd64"}, false},
			} {
				img, err := openFn(Options{Platform: tc.platform, TempDir: t.TempDir()})
				if img != nil {
					img.Close()
				}
				if tc.ok != (err == nil) {
					t.Errorf("platform %v: err %v, want ok=%v", tc.platform, err, tc.ok)
				}
				if err != nil && !strings.Contains(err.Error(), "linux/amd64, not "+tc.platform.String()) {
					t.Errorf("platform %v: error %q does not name both platforms", tc.platform, err)
				}
			}
		})
	}
}
