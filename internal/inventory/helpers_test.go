package inventory

import (
	"bytes"
	"compress/gzip"
	"os"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withConfig replaces an image's config, keeping its layers.
func withConfig(t testing.TB, img v1.Image, cfg *v1.ConfigFile) v1.Image {
	t.Helper()
	out, err := mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMain(m *testing.M) {
	if arg := os.Getenv("TOLLGATE_CACHE_HELPER"); arg != "" {
		os.Exit(cacheHelper(arg))
	}
	os.Exit(m.Run())
}
