package advisory

import (
	"bytes"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/sharedtest"
)

// BenchmarkImportShared builds a DB from the five shared all.zip files
// (acceptance: ≤ 3 s; the RSS half is measured by bench/advisory/run.sh).
func BenchmarkImportShared(b *testing.B) {
	root := sharedtest.Data(b, "vulndata")
	dir := b.TempDir()
	for b.Loop() {
		bl := NewBuilder()
		for _, z := range sharedZips {
			if _, err := bl.AddPath(filepath.Join(root, z)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := bl.Write(filepath.Join(dir, FileName)); err != nil {
			b.Fatal(err)
		}
	}
}

// lookupCases are typical packages: a Debian source package with a few
// advisories per release, an npm package, a PyPI package, a Go module.
var lookupCases = []struct{ eco, name string }{
	{"Debian:11", "curl"},
	{"npm", "lodash"},
	{"PyPI", "requests"},
	{"Go", "golang.org/x/net"},
	{"Alpine:v3.10", "musl"},
}

// BenchmarkLookup: one (ecosystem, package) → decoded advisories on an
// open DB (acceptance: ≤ 2 µs median for a typical package). It reports
// the median of per-call times besides the mean. The last case looks up
// every package of the DB in turn: its median is the typical package's.
func BenchmarkLookup(b *testing.B) {
	db, _, _ := buildShared(b)
	for _, c := range lookupCases {
		b.Run(c.eco+"/"+c.name, func(b *testing.B) {
			advs, err := db.Lookup(c.eco, c.name)
			if err != nil || len(advs) == 0 {
				b.Fatalf("Lookup(%s, %s) = %d advisories, %v", c.eco, c.name, len(advs), err)
			}
			benchLookups(b, db, func(int) (string, string) { return c.eco, c.name })
			b.ReportMetric(float64(len(advs)), "advisories") // after the loop, which resets metrics
		})
	}
	b.Run("every-package", func(b *testing.B) {
		type pkg struct{ eco, name string }
		var pkgs []pkg
		total := 0
		err := db.view(func(r *reader) error {
			return r.pkg.ForEach(func(k, _ []byte) error {
				eco, name, _ := bytes.Cut(k, []byte{0})
				pkgs = append(pkgs, pkg{string(eco), string(name)})
				advs, err := db.Lookup(string(eco), string(name))
				total += len(advs)
				return err
			})
		})
		if err != nil || len(pkgs) == 0 {
			b.Fatalf("listing the packages: %d, %v", len(pkgs), err)
		}
		benchLookups(b, db, func(i int) (string, string) { p := pkgs[i%len(pkgs)]; return p.eco, p.name })
		b.ReportMetric(float64(total)/float64(len(pkgs)), "advisories")
		b.ReportMetric(float64(len(pkgs)), "packages")
	})
}

// benchLookups times b.N lookups of the packages next gives, reporting
// the CPU time per lookup and the median wall time of one.
func benchLookups(b *testing.B, db *DB, next func(i int) (eco, name string)) {
	samples := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		eco, name := next(i)
		t0 := time.Now()
		if _, err := db.Lookup(eco, name); err != nil {
			b.Fatal(err)
		}
		if len(samples) < cap(samples) {
			samples = append(samples, time.Since(t0))
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "median-ns")
}

// cpuTime is the process's user+system CPU time (getrusage): on a
// machine others load, it counts only our own work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
