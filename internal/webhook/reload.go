package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/tollgate-dev/tollgate/internal/certs"
	"github.com/tollgate-dev/tollgate/internal/gate"
	"github.com/tollgate-dev/tollgate/internal/policy"
)

// fileSig identifies a file's content well enough to notice a change
// without reading it: replaced files (renames, Kubernetes' symlink swaps)
// change the inode, rewritten ones the size or modification time.
type fileSig struct {
	ino   uint64
	size  int64
	mtime time.Time
}

func sigOf(path string) fileSig {
	fi, err := os.Stat(path)
	if err != nil {
		return fileSig{}
	}
	s := fileSig{size: fi.Size(), mtime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = st.Ino
	}
	return s
}

func sigsOf(paths []string) []fileSig {
	out := make([]fileSig, len(paths))
	for i, p := range paths {
		out[i] = sigOf(p)
	}
	return out
}

func sameSigs(a, b []fileSig) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// fileStore holds a value loaded from files and reloads it when they
// change. Readers take the value in force with get, without locking; a
// load that fails keeps the previous value, and the same broken files are
// not tried again until they change.
type fileStore[T any] struct {
	files []string
	load  func() (*T, error)

	mu     sync.Mutex // serialises reloads
	sigs   []fileSig  // of the files in force
	failed []fileSig  // of the files that last failed to load
	cur    atomic.Pointer[T]
}

func newFileStore[T any](files []string, load func() (*T, error)) *fileStore[T] {
	return &fileStore[T]{files: files, load: load}
}

func (s *fileStore[T]) get() *T { return s.cur.Load() }

// reload loads the files when they changed since the last successful load
// (always the first time). changed reports whether a load was attempted.
func (s *fileStore[T]) reload() (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sigs := sigsOf(s.files)
	if s.cur.Load() != nil && (sameSigs(sigs, s.sigs) || sameSigs(sigs, s.failed)) {
		return false, nil
	}
	v, err := s.load()
	if err != nil {
		s.failed = sigs
		return true, err
	}
	s.cur.Store(v)
	s.sigs, s.failed = sigs, nil
	return true, nil
}

// newTLSStore holds the serving certificate and the client CA. Handshakes
// take the current tls.Config (GetConfigForClient), so a new certificate is
// served from the next connection on, without a restart.
func newTLSStore(certFile, keyFile, caFile string) *fileStore[tls.Config] {
	files := []string{certFile, keyFile}
	if caFile != "" {
		files = append(files, caFile)
	}
	return newFileStore(files, func() (*tls.Config, error) { return loadTLS(certFile, keyFile, caFile) })
}

func loadTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	pair, err := certs.LoadPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading serving certificate: %w", err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{pair},
		NextProtos:   []string{"h2", "http/1.1"},
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("client CA %s does not exist", caFile)
			}
			return nil, fmt.Errorf("reading client CA %s: %w", caFile, errors.Unwrap(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA %s holds no PEM certificate", caFile)
		}
		cfg.ClientCAs = pool
		// Verify a certificate when one is sent; the routes that need one
		// check for it, so /healthz, /readyz and /metrics stay open to
		// probes.
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// newPolicyStore holds the policy of file, or the built-in default (never
// reloaded) when file is "".
func newPolicyStore(file string) *fileStore[policy.Policy] {
	if file == "" {
		return newFileStore(nil, func() (*policy.Policy, error) { return policy.Default(), nil })
	}
	return newFileStore([]string{file}, func() (*policy.Policy, error) {
		p, err := policy.Load(file)
		if err != nil {
			return nil, err
		}
		if err := gate.CheckPolicy(p); err != nil {
			return nil, fmt.Errorf("policy %s: %w", file, err)
		}
		return p, nil
	})
}

// watch calls check whenever something changes in the directories of
// files (fsnotify, debounced), and at least every interval as a fallback
// for file systems without notifications. It returns when ctx is done.
func watch(ctx context.Context, log *slog.Logger, files []string, interval time.Duration, check func()) {
	var events <-chan fsnotify.Event
	var errs <-chan error
	w, err := fsnotify.NewWatcher()
	if err != nil {
		log.Warn("file notifications unavailable, polling", "interval", interval, "error", err)
	} else {
		defer w.Close()
		dirs := map[string]bool{}
		for _, f := range files {
			dirs[filepath.Dir(f)] = true
		}
		for d := range dirs {
			if err := w.Add(d); err != nil {
				log.Warn("cannot watch directory, polling", "dir", d, "interval", interval, "error", err)
			}
		}
		events, errs = w.Events, w.Errors
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	// Writers replace files in several steps (key, then certificate);
	// wait for the burst to end before looking.
	const settle = 100 * time.Millisecond
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			debounce.Reset(settle)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			log.Warn("file watch error", "error", err)
		case <-debounce.C:
			check()
		case <-tick.C:
			check()
		}
	}
}

// errNoCert is returned when no serving certificate is configured.
var errNoCert = errors.New("no serving certificate and key given")
