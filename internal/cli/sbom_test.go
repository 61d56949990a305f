package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// TestSBOMOutputTargets checks that -o replaces regular files atomically
// but writes through special files and symlinks instead of replacing them
// (replacing /dev/null with a regular file would break the machine).
func TestSBOMOutputTargets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "requirements.txt"), []byte("flask==2.0.1\n"), 0o644)

	t.Run("regular file", func(t *testing.T) {
		out := filepath.Join(dir, "out.json")
		os.WriteFile(out, []byte("old"), 0o644)
		if _, stderr, code := runTollgate(t, "sbom", "--no-cache", "-o", out, "dir:"+src); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, _ := os.ReadFile(out)
		if !strings.Contains(string(b), "pkg:pypi/flask@2.0.1") {
			t.Errorf("output %.200s", b)
		}
	})
	t.Run("symlink", func(t *testing.T) {
		target := filepath.Join(dir, "target.json")
		link := filepath.Join(dir, "link.json")
		os.WriteFile(target, []byte("old"), 0o644)
		os.Symlink(target, link)
		if _, stderr, code := runTollgate(t, "sbom", "--no-cache", "-o", link, "dir:"+src); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the symlink was replaced: %v %v", fi.Mode(), err)
		}
		if b, _ := os.ReadFile(target); !strings.Contains(string(b), "pkg:pypi/flask@2.0.1") {
			t.Errorf("the link target was not written: %.100s", b)
		}
	})
	t.Run("fifo", func(t *testing.T) {
		fifo := filepath.Join(dir, "fifo")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		got := make(chan string)
		go func() {
			b, _ := os.ReadFile(fifo)
			got <- string(b)
		}()
		if _, stderr, code := runTollgate(t, "sbom", "--no-cache", "-o", fifo, "dir:"+src); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Fatalf("the pipe was replaced: %v %v", fi.Mode(), err)
		}
		select {
		case s := <-got:
			if !strings.Contains(s, "pkg:pypi/flask@2.0.1") {
				t.Errorf("read from the pipe: %.100s", s)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("nothing was written to the pipe")
		}
	})
}

// openPTY opens a pseudo-terminal pair (Linux /dev/ptmx).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0)
	}
	if err != nil {
		m.Close()
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// readPTY collects what a terminal shows, from its master side, until
// the text holds until ("" reads to the end: the reader sees EIO once the
// slave side is closed and everything written is read), and sends it once.
func readPTY(master *os.File, until string) <-chan string {
	seen := make(chan string, 1)
	go func() {
		var all strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			all.Write(buf[:n])
			if err != nil || (until != "" && strings.Contains(all.String(), until)) {
				seen <- all.String()
				return
			}
		}
	}()
	return seen
}

// TestSBOMProgressOnTerminal checks that a progress bar appears on stderr
// when it is a terminal (and, in testdata/script/sbom.txtar, that nothing
// does when it is not).
func TestSBOMProgressOnTerminal(t *testing.T) {
	t.Parallel()
	layout := t.TempDir()
	registrytest.WriteLayout(t, layout, registrytest.DebianImage(t), "")
	master, slave := openPTY(t)
	seen := readPTY(master, "reading layers")
	var out strings.Builder
	code := Run(context.Background(), []string{"sbom", "--cache-dir", t.TempDir(), "oci-dir:" + layout}, strings.NewReader(""), &out, slave)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	slave.Close() // the reader sees EIO once everything written is read
	select {
	case s := <-seen:
		if !strings.Contains(s, "reading layers") {
			t.Errorf("no progress bar on the terminal: %q", s)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no progress bar on the terminal")
	}
	if !strings.Contains(out.String(), "pkg:npm/lodash@4.17.20") {
		t.Errorf("SBOM missing on stdout")
	}
}
