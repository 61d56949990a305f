package ctxio

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var errStop = errors.New("stopped")

// cancelSoon returns a context cancelled with errStop after a short delay.
func cancelSoon(t *testing.T) context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	t.Cleanup(func() { cancel(nil) })
	time.AfterFunc(50*time.Millisecond, func() { cancel(errStop) })
	return ctx
}

// wait fails the test when fn has not returned within a generous bound (the
// point is that it returns at all: without ctxio these calls block forever).
func wait(t *testing.T, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("still blocked 10 s after the context was cancelled")
		return nil
	}
}

func TestReaderStopsBlockedRead(t *testing.T) {
	pr, pw, err := os.Pipe() // a writer that never writes nor closes
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	defer pr.Close()
	r := Reader(cancelSoon(t), pr)
	err = wait(t, func() error { _, err := io.ReadAll(r); return err })
	if !errors.Is(err, errStop) {
		t.Fatalf("ReadAll = %v, want the context's cause", err)
	}
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, errStop) {
		t.Errorf("Read after cancel = %v, want the cause", err)
	}
}

func TestReaderPassesData(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    func(s string) io.Reader
	}{
		{"pipe", func(s string) io.Reader {
			pr, pw := io.Pipe()
			go func() { io.WriteString(pw, s); pw.Close() }()
			return pr
		}},
		{"strings", func(s string) io.Reader { return strings.NewReader(s) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := strings.Repeat("manifest\n", 100000)
			got, err := io.ReadAll(Reader(context.Background(), tt.r(want)))
			if err != nil || string(got) != want {
				t.Fatalf("ReadAll = %d bytes, %v; want %d bytes", len(got), err, len(want))
			}
		})
	}
	if Reader(context.Background(), nil) != nil {
		t.Error("Reader(nil) is not nil")
	}
}

func TestCheckedReaderStopsBetweenReads(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	r := Reader(ctx, strings.NewReader("abc"))
	cancel(errStop)
	if _, err := r.Read(make([]byte, 3)); !errors.Is(err, errStop) {
		t.Fatalf("Read = %v, want the cause", err)
	}
}

func TestOpenFIFOWithoutWriter(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	err := wait(t, func() error { _, err := ReadFile(cancelSoon(t), fifo); return err })
	if !errors.Is(err, errStop) {
		t.Fatalf("ReadFile = %v, want the context's cause", err)
	}
	// The abandoned open completes once a writer appears, and the file is
	// closed then (the writer's open does not block forever either).
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
}

func TestReadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("kind: Pod\n"), 0o600)
	b, err := ReadFile(context.Background(), p)
	if err != nil || string(b) != "kind: Pod\n" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	if _, err := ReadFile(context.Background(), p+".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}
