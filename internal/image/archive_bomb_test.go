package image

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A gzip-compressed archive that expands far beyond any image tar is
// refused, and its spill file removed.
func TestCompressedArchiveBomb(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tmp := t.TempDir()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := io.CopyN(zw, zeroReader{}, 16<<20); err != nil { // 16 MiB of zeros: ~16 KiB compressed
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "bomb.tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, closeFn, err := openArchiveFile(p, tmp, 1<<20)
	if err == nil {
		closeFn()
		t.Fatal("a 1000:1 archive was accepted")
	}
	if !strings.Contains(err.Error(), "gzip bomb") {
		t.Errorf("error = %v, want it to say why", err)
	}
	if es, _ := os.ReadDir(tmp); len(es) != 0 {
		t.Errorf("spill files left in the temp directory: %v", es)
	}

	// With a higher floor the same bytes are within bounds: decompressed
	// (zeros read as an empty tar) and the spill file removed on close.
	_, closeFn, err = openArchiveFile(p, tmp, 64<<20)
	if err != nil {
		t.Fatalf("within the limit: %v", err)
	}
	if es, _ := os.ReadDir(tmp); len(es) != 1 {
		t.Errorf("want one spill file while open, got %v", es)
	}
	if err := closeFn(); err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir(tmp); len(es) != 0 {
		t.Errorf("spill files left after close: %v", es)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
