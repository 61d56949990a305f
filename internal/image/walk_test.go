package image

import (
	"bytes"
	"io"
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
