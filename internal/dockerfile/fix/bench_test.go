package fix

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/sharedtest"
)

// BenchmarkFixCorpus fixes every Dockerfile of the shared corpus once per
// iteration.
func BenchmarkFixCorpus(b *testing.B) {
	paths, _ := filepath.Glob(filepath.Join(sharedtest.Data(b, "dockerfiles"), "*", "*"))
	var srcs [][]byte
	for _, p := range paths {
		if filepath.Base(p) == "SOURCES.md" {
			continue
		}
		if src, err := os.ReadFile(p); err == nil {
			srcs = append(srcs, src)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		for _, src := range srcs {
			_, _ = Fix("Dockerfile", src, Options{})
		}
	}
}
