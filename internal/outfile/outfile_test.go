package outfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/outcome"
)

func TestRegularFileReplacedAtomically(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "report.json")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A failed write leaves the old report and no temporary file.
	boom := errors.New("boom")
	err := Run(p, func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Run error = %v, want boom", err)
	}
	assertContent(t, p, "old")
	assertEntries(t, dir, 1)

	if err := Run(p, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	assertContent(t, p, "new")
	assertEntries(t, dir, 1)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want the existing 0600 kept", fi.Mode().Perm())
	}
}

func TestNewFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "new.json")
	if err := Run(p, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }); err != nil {
		t.Fatal(err)
	}
	assertContent(t, p, "x")
}

func TestSymlinkWrittenThrough(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := Run(link, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(link)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced by a %v", fi.Mode().Type())
	}
	assertContent(t, target, "new")
}

func TestNamedPipeWrittenThrough(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	if err := Run(fifo, func(w io.Writer) error { _, err := io.WriteString(w, "through"); return err }); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through" {
		t.Errorf("reader got %q", s)
	}
	fi, err := os.Lstat(fifo)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe was replaced by a %v", fi.Mode().Type())
	}
}

func TestDirectoryRefused(t *testing.T) {
	t.Parallel()
	if _, err := Create(t.TempDir()); err == nil {
		t.Fatal("Create of a directory succeeded")
	}
}

func assertContent(t *testing.T, p, want string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("%s = %q, want %q", p, b, want)
	}
}

func assertEntries(t *testing.T, dir string, n int) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != n {
		t.Errorf("%s holds %d entries, want %d (a temporary file left behind?)", dir, len(es), n)
	}
}

// TestFinishKeepsOnlyFindings pins the one rule for every -o report: a run
// that ends well or with findings replaces the old report; any other end
// leaves it.
func TestFinishKeepsOnlyFindings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		keep bool
	}{
		{"success", nil, true},
		{"findings", outcome.ErrFindings, true},
		{"findings with exit code", outcome.WithCode(fmt.Errorf("3 reports failed: %w", outcome.ErrFindings), 7), true},
		{"invalid input", outcome.Invalid(errors.New("line 3: unknown instruction")), true},
		{"usage", outcome.Usagef("bad flag"), false},
		{"unreadable", outcome.Unreadable(errors.New("missing: no such file")), false},
		{"findings and an unreadable input", errors.Join(outcome.ErrFindings, outcome.Unreadable(errors.New("x"))), false},
		{"interrupted", outcome.ErrInterrupted, false},
		{"cancelled context", fmt.Errorf("reading: %w", context.Canceled), false},
		{"plain error", errors.New("disk full"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Keeps(tc.err); got != tc.keep {
				t.Errorf("Keeps(%v) = %v, want %v", tc.err, got, tc.keep)
			}
			p := filepath.Join(t.TempDir(), "r.json")
			if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			err := Run(p, func(w io.Writer) error {
				io.WriteString(w, "new")
				return tc.err
			})
			if !errors.Is(err, tc.err) {
				t.Errorf("Run returned %v, want the run's error %v", err, tc.err)
			}
			want := "old"
			if tc.keep {
				want = "new"
			}
			assertContent(t, p, want)
		})
	}
}

func TestRunCreateErrorIsUnreadable(t *testing.T) {
	t.Parallel()
	err := Run(filepath.Join(t.TempDir(), "no", "such", "dir", "r.json"), func(io.Writer) error { return nil })
	if !errors.Is(err, outcome.ErrUnreadable) {
		t.Errorf("Run into a missing directory = %v, want ErrUnreadable", err)
	}
}
