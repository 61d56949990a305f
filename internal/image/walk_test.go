package image

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

func TestSafePath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"etc/passwd":         "etc/passwd",
		"/etc/passwd":        "etc/passwd",
		"./etc//passwd":      "etc/passwd",
		"a/b/../c":           "a/c",
		"a/../../etc/passwd": "",
		"../etc/passwd":      "",
		"..":                 "",
		"/":                  "",
		".":                  "",
		"//../etc":           "",
	} {
		got, ok := SafePath(in)
		if !ok {
			got = ""
		}
		if got != want {
			t.Errorf("SafePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWalkWhiteouts(t *testing.T) {
	t.Parallel()
	tarBytes := registrytest.Tar(t,
		registrytest.Dir("etc/"),
		registrytest.File("etc/.wh.passwd", ""),
		registrytest.File("var/lib/.wh..wh..opq", ""),
		registrytest.File(".wh..wh..opq", ""),
		registrytest.File(".wh..wh.plnk/123", ""),
		registrytest.Symlink("bin", "usr/bin"),
		registrytest.Hardlink("usr/bin/b", "/usr/bin/a"),
		registrytest.File("../escape", "x"),
		registrytest.File(".wh...", ""),
		registrytest.File("app/.wh..", ""),
		registrytest.File("app/.wh.", ""),
		registrytest.File("app/data", "hello"),
	)
	var got, warnings []string
	err := Walk(bytes.NewReader(tarBytes), func(e *Entry, r io.Reader) error {
		s := []string{"file", "dir", "symlink", "hardlink", "other", "whiteout", "opaque"}[e.Type] + " " + e.Path
		if e.Linkname != "" {
			s += " -> " + e.Linkname
		}
		if r != nil {
			b, _ := io.ReadAll(r)
			s += " " + string(b)
		}
		got = append(got, s)
		return nil
	}, func(w string) { warnings = append(warnings, w) })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"dir etc",
		"whiteout etc/passwd",
		"opaque var/lib",
		"opaque .",
		"symlink bin -> usr/bin",
		"hardlink usr/bin/b -> usr/bin/a",
		"file app/data hello",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	wantWarnings := []string{`"../escape"`, `".wh..."`, `"app/.wh.."`, `"app/.wh."`}
	if len(warnings) != len(wantWarnings) {
		t.Fatalf("warnings %q, want one each for %q", warnings, wantWarnings)
	}
	for i, w := range wantWarnings {
		if !strings.Contains(warnings[i], w) {
			t.Errorf("warning %d = %q, want it to name %s", i, warnings[i], w)
		}
	}
}

// FuzzWalk checks the layer walker on arbitrary bytes: no panic, every
// entry path safe.
func FuzzWalk(f *testing.F) {
	f.Add(registrytest.Tar(f,
		registrytest.File("etc/os-release", "ID=debian\n"),
		registrytest.File("a/.wh.b", ""),
		registrytest.File("a/.wh..wh..opq", ""),
		registrytest.Symlink("l", "/etc/passwd"),
		registrytest.Hardlink("h", "etc/os-release"),
		registrytest.File("../x", "y"),
		registrytest.File("a/.wh...", ""),
	))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = Walk(bytes.NewReader(b), func(e *Entry, r io.Reader) error {
			if e.Path == "" || strings.HasPrefix(e.Path, "/") || e.Path == ".." || strings.HasPrefix(e.Path, "../") || strings.Contains(e.Path, "/../") {
				t.Fatalf("unsafe path %q", e.Path)
			}
			if e.Path == "." && e.Type != TypeOpaque {
				t.Fatalf("%v entry for the root itself", e.Type)
			}
			if r != nil {
				n, _ := io.Copy(io.Discard, r)
				if n > e.Size {
					t.Fatalf("read %d bytes from an entry of %d", n, e.Size)
				}
			}
			return nil
		}, nil)
	})
}

// TestWalkTruncatedAtBlockBoundary: a layer cut at a 512-byte boundary
// parses as a shorter archive with archive/tar; Walk must refuse it, or an
// SBOM would silently miss the files after the cut.
func TestWalkTruncatedAtBlockBoundary(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{"etc/os-release", "var/lib/dpkg/status"} {
		body := strings.Repeat("x", 600) // two blocks of data each
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	whole := buf.Bytes()
	count := func(data []byte) (int, error) {
		n := 0
		err := Walk(bytes.NewReader(data), func(*Entry, io.Reader) error { n++; return nil }, func(string) {})
		return n, err
	}
	if n, err := count(whole); err != nil || n != 2 {
		t.Fatalf("whole archive: %d entries, %v", n, err)
	}
	// header(512) + data(1024) of the first file: the second header is gone.
	for _, cut := range []int{512 + 1024, 2 * (512 + 1024), len(whole) - 1024} {
		if _, err := count(whole[:cut]); err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("cut at %d of %d: err %v, want a truncation error", cut, len(whole), err)
		}
	}
	// One zero block of the two is enough (some writers stop there).
	if n, err := count(whole[:len(whole)-512]); err != nil || n != 2 {
		t.Errorf("one end block: %d entries, %v", n, err)
	}
	// Cut inside an entry's data, and garbage: in our words, no archive/tar.
	for _, data := range [][]byte{whole[:700], bytes.Repeat([]byte("garbage!"), 200)} {
		_, err := count(data)
		if err == nil || strings.Contains(err.Error(), "archive/tar") {
			t.Errorf("%d bytes: err %v, want one in our words", len(data), err)
		}
	}
}

// TestGarbageArchiveInOurWords: a file given as an image archive that is
// not a tar is refused in our words (the index of the archive, not only
// the layer walk, goes through tarError).
func TestGarbageArchiveInOurWords(t *testing.T) {
	p := filepath.Join(t.TempDir(), "g.tar")
	garbage := bytes.Repeat([]byte("not a tar header, only text. "), 100)
	if err := os.WriteFile(p, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := OpenArchive(p, Options{TempDir: t.TempDir()})
	if err == nil || strings.Contains(err.Error(), "archive/tar") || !strings.Contains(err.Error(), "bad entry header") {
		t.Errorf("err = %v, want our words for a bad header", err)
	}
}
