//go:build linux

package secret

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestScanTreeStaysOnOneFileSystem mounts a tmpfs below the scanned tree
// (as /proc is below /): its files are not read.
func TestScanTreeStaysOnOneFileSystem(t *testing.T) {
	dir := t.TempDir()
	mnt := filepath.Join(dir, "proc")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, 0) })
	token := "ghp_" + "XdevMadeUpTokenForTheTests00000000000007"
	for _, p := range []string{filepath.Join(dir, "top.env"), filepath.Join(mnt, "below.env")} {
		if err := os.WriteFile(p, []byte("GITHUB_TOKEN="+token+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs, _, err := s.ScanTree(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range fs {
		paths = append(paths, f.Path)
	}
	if len(paths) != 1 || paths[0] != "top.env" {
		t.Errorf("found %v, want only top.env (proc/ is another file system)", paths)
	}
}
