package imagecheck

import (
	"os"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/benchtest"
	"github.com/tollgate-dev/tollgate/internal/image"
)

// BenchmarkCheckImage runs every check with secret scanning on the OCI
// layout TOLLGATE_IMAGECHECK_BENCH_IMAGE names (make one with
// go run ./bench/imagegen -o DIR -size 90MB -layers 8); it skips without
// one. It reports the CPU seconds one check of the image takes (from
// getrusage: the figure that holds while other jobs share the machine).
func BenchmarkCheckImage(b *testing.B) {
	dir := os.Getenv("TOLLGATE_IMAGECHECK_BENCH_IMAGE")
	if dir == "" {
		b.Skip("TOLLGATE_IMAGECHECK_BENCH_IMAGE is not set")
	}
	img, err := image.OpenLayout(dir, image.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer img.Close()
	o := Options{Secrets: secretScanner(b)}
	cpu0 := benchtest.CPUTime(b)
	var res *Result
	for b.Loop() {
		if res, err = Check(b.Context(), img, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((benchtest.CPUTime(b)-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(res.SecretStats.Bytes)/1e6, "MB-scanned")
	b.ReportMetric(float64(len(res.Misconfigurations)), "findings")
}
