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
	"slices"
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
// not tried again until they change. Besides its own files, a load may
// name others it read (a policy's key files): they are watched too, from
// that load on.
type fileStore[T any] struct {
	files []string
	load  func() (*T, []string, error)

	mu        sync.Mutex // serialises reloads
	okFiles   []string   // the files of the value in force, with
	sigs      []fileSig  // their signatures when it was loaded
	failFiles []string   // the files of the last failed load, with
	failed    []fileSig  // their signatures then (nil: none failed since)
	cur       atomic.Pointer[T]
}

func newFileStore[T any](files []string, load func() (*T, []string, error)) *fileStore[T] {
	return &fileStore[T]{files: files, load: load, okFiles: files}
}

func (s *fileStore[T]) get() *T { return s.cur.Load() }

// watched is every file a change of which reloads the value.
func (s *fileStore[T]) watched() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, f := range append(slices.Clone(s.okFiles), s.failFiles...) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// reload loads the files when they changed since the last successful load
// (always the first time). changed reports whether a load was attempted.
func (s *fileStore[T]) reload() (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur.Load() != nil && sameSigs(sigsOf(s.okFiles), s.sigs) {
		return false, nil
	}
	if s.failed != nil && sameSigs(sigsOf(s.failFiles), s.failed) {
		return false, nil
	}
	// The signatures are taken before the load, so that a change while it
	// reads is seen at the next check; files the load names for the
	// first time are signed after it.
	prev := s.okFiles
	if s.failed != nil {
		prev = s.failFiles
	}
	before := map[string]fileSig{}
	for i, sig := range sigsOf(prev) {
		before[prev[i]] = sig
	}
	v, extra, err := s.load()
	files := append(slices.Clone(s.files), extra...)
	sigs := make([]fileSig, len(files))
	for i, f := range files {
		sig, ok := before[f]
		if !ok {
			sig = sigOf(f)
		}
		sigs[i] = sig
	}
	if err != nil {
		s.failFiles, s.failed = files, sigs
		return true, err
	}
	s.cur.Store(v)
	s.okFiles, s.sigs = files, sigs
	s.failFiles, s.failed = nil, nil
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
	return newFileStore(files, func() (*tls.Config, []string, error) {
		cfg, err := loadTLS(certFile, keyFile, caFile)
		return cfg, nil, err
	})
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
// reloaded) when file is "". The key files the policy names are watched
// with it: a rotated key takes effect as an edited policy does.
func newPolicyStore(file string) *fileStore[policy.Policy] {
	if file == "" {
		return newFileStore(nil, func() (*policy.Policy, []string, error) { return policy.Default(), nil, nil })
	}
	return newFileStore([]string{file}, func() (*policy.Policy, []string, error) {
		p, read, err := policy.LoadFiles(file)
		if err != nil {
			return nil, read, err
		}
		if err := gate.CheckPolicy(p); err != nil {
			return nil, read, fmt.Errorf("policy %s: %w", file, err)
		}
		return p, read, nil
	})
}

// watch calls check whenever something changes in the directories of
// the files (fsnotify, debounced), and at least every interval as a
// fallback for file systems without notifications. files is asked again
// after every check, so that files a reload names for the first time are
// watched from then on. It returns when ctx is done.
func watch(ctx context.Context, log *slog.Logger, files func() []string, interval time.Duration, check func()) {
	var events <-chan fsnotify.Event
	var errs <-chan error
	addDirs := func() {}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		log.Warn("file notifications unavailable, polling", "interval", interval, "error", err)
	} else {
		defer w.Close()
		dirs := map[string]bool{}
		addDirs = func() {
			for _, f := range files() {
				d := filepath.Dir(f)
				if dirs[d] {
					continue
				}
				dirs[d] = true
				if err := w.Add(d); err != nil {
					log.Warn("cannot watch directory, polling", "dir", d, "interval", interval, "error", err)
				}
			}
		}
		addDirs()
		events, errs = w.Events, w.Errors
	}
	// A change between the first load and the watch is not notified.
	check()
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
			addDirs()
		case <-tick.C:
			check()
			addDirs()
		}
	}
}

// errNoCert is returned when no serving certificate is configured.
var errNoCert = errors.New("no serving certificate and key given")
