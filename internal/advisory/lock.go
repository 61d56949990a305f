package advisory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// lockName is the lock file beside the DB. Builders (update, import)
// hold an exclusive flock on it; the file holds the holder's PID so the
// one that waits can say who it waits for.
const lockName = "tollgate.db.lock"

// lockDir takes the builder lock of dir, waiting while another process
// holds it (it says so on the context's cancellation). It returns the
// unlock function.
func lockDir(ctx context.Context, dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, errors.Unwrap(err))
	}
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the DB lock %s: %w", path, errors.Unwrap(err))
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			holder := readHolder(path)
			f.Close()
			return nil, fmt.Errorf("another tollgate (%s) is updating the DB in %s: %w", holder, dir, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		f.Truncate(0)
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// LockHolder returns who holds the builder lock of dir ("pid N"), or ""
// when nobody does.
func LockHolder(dir string) string {
	path := filepath.Join(dir, lockName)
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB) == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return ""
	}
	return readHolder(path)
}

func readHolder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown process"
	}
	if pid := strings.TrimSpace(string(b)); pid != "" {
		return "pid " + pid
	}
	return "unknown process"
}
