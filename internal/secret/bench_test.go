package secret

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/benchtest"
)

// BenchmarkScanTextTree scans a text-heavy tree held in memory: by
// default the Go distribution's own source ($GOROOT/src, without its
// testdata directories, whose fixtures the allow rules skip unread), or
// the tree TOLLGATE_SECRET_BENCH_DIR names. Files are read once before
// timing, so the figure is the scanner's (prefilter, rules, masking), not
// the disk's. It reports MB/s of wall time and MB/cpu-s (bytes per second
// of the process's CPU time, from getrusage): run it with -cpu 1 for the
// one-core figure.
func BenchmarkScanTextTree(b *testing.B) {
	root := os.Getenv("TOLLGATE_SECRET_BENCH_DIR")
	if root == "" {
		root = filepath.Join(runtime.GOROOT(), "src")
	}
	type file struct {
		path string
		data []byte
	}
	var files []file
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil || int64(len(data)) > DefaultMaxFileSize || IsBinary(data) {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files = append(files, file{filepath.ToSlash(rel), data})
		total += int64(len(data))
		return nil
	})
	if err != nil {
		b.Skipf("reading the tree %s: %v", root, err)
	}
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d text files, %.1f MB in %s", len(files), float64(total)/1e6, root)
	b.SetBytes(total)
	b.ResetTimer()
	cpu0 := benchtest.CPUTime(b)
	findings := 0
	for b.Loop() {
		findings = 0
		for _, f := range files {
			fs, err := s.ScanFile(f.path, bytes.NewReader(f.data))
			if err != nil {
				b.Fatal(err)
			}
			findings += len(fs)
		}
	}
	cpu := benchtest.CPUTime(b) - cpu0
	b.ReportMetric(float64(findings), "findings")
	if cpu > 0 {
		b.ReportMetric(float64(total)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
}

// BenchmarkScanHostile scans 1 MB inputs made to be slow: keywords on
// every few bytes of one line, tens of thousands of values in one file.
// The scanner must stay linear in them (each case takes about a second of
// CPU or less).
func BenchmarkScanHostile(b *testing.B) {
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, unit string }{
		{"pem-headers", "-----BEGIN PRIVATE KEY-----\n"},
		{"urls-with-passwords", "http://u:pass@h "},
		{"assignments-one-line", "X_PASSWORD=abcd "},
		{"keyword-soup", "aws_secret="},
		{"docker-auths", `"auth": "YTpi" `},
		{"service-accounts", `"type": "service_account" "private_key_id": `},
		{"jwt-prefixes", "eyJaaaaaaaaaaaa."},
	} {
		data := bytes.Repeat([]byte(c.unit), 1<<20/len(c.unit))
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				s.ScanBytes("a/.netrc", data)
			}
		})
	}
}
