package dockerfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/sharedtest"
)

// BenchmarkLintCorpus lints the shared corpus (207 real Dockerfiles) in
// process: parse, shell parse of every RUN, every default rule, pragmas.
// It reports Dockerfiles per second; run it on one core with -cpu 1.
func BenchmarkLintCorpus(b *testing.B) {
	root := sharedtest.Data(b, "dockerfiles")
	type file struct {
		name string
		src  []byte
	}
	var files []file
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "SOURCES.md" {
			return err
		}
		src, err := os.ReadFile(p)
		files = append(files, file{p, src})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	l := NewLinter(DefaultConfig())
	n := 0
	for b.Loop() {
		for _, f := range files {
			l.Lint(f.name, f.src)
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "files/s")
}
