package inventory

import (
	"context"
	"os"
	"testing"
)

// The image benchmarks read a generated image (bench/imagegen) named by
// $TOLLGATE_BENCH_IMAGE, an OCI layout directory; bench/image.sh runs the
// whole benchmark, end to end, with the CLI.

func benchImage(b *testing.B) Target {
	b.Helper()
	dir := os.Getenv("TOLLGATE_BENCH_IMAGE")
	if dir == "" {
		b.Skip("set TOLLGATE_BENCH_IMAGE to an OCI layout made by go run ./bench/imagegen")
	}
	return Target{Kind: KindOCIDir, Value: dir}
}

// BenchmarkScanCold analyses every layer (no cache).
func BenchmarkScanCold(b *testing.B) {
	t := benchImage(b)
	for b.Loop() {
		if _, err := Collect(context.Background(), t, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanWarm answers every layer from the cache.
func BenchmarkScanWarm(b *testing.B) {
	t := benchImage(b)
	o := Options{CacheDir: b.TempDir()}
	if _, err := Collect(context.Background(), t, o); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Collect(context.Background(), t, o); err != nil {
			b.Fatal(err)
		}
	}
}
