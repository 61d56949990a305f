package scancache

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/tollgate-dev/tollgate/internal/certs"
	"github.com/tollgate-dev/tollgate/internal/scancache/redistest"
)

func newTestRedis(t *testing.T, o RedisOptions) *Redis {
	t.Helper()
	if o.RetryAfter == 0 {
		o.RetryAfter = 200 * time.Millisecond
	}
	r, err := NewRedis(context.Background(), o)
	if err != nil {
		t.Fatalf("NewRedis: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// countingCompute is a "scan": slow enough for the replicas to overlap, and
// counted across them.
func countingCompute(n *atomic.Int32, d time.Duration, value string) func(context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		n.Add(1)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return []byte(value), nil
	}
}

// replicasDo runs Do for key on every cache from several goroutines each
// and returns the errors and the values that were not want.
func replicasDo(caches []Cache, key, want string, compute func(context.Context) ([]byte, error)) []error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i, c := range caches {
		for g := range 4 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				v, err := c.Do(ctx, key, time.Minute, compute)
				if err == nil && string(v) != want {
					err = fmt.Errorf("replica %d goroutine %d: value %q, want %q", i, g, v, want)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return errs
}

// TestRedisReplicas: two caches on one Redis (two replicas of tollgate
// serve) compute a key once; with Redis killed they keep answering from
// their own caches and say so; with Redis back they share again.
func TestRedisReplicas(t *testing.T) {
	srv := redistest.Start(t)
	// The log goes to a file: writes to an *os.File are safe from any
	// goroutine.
	logFile, err := os.Create(filepath.Join(t.TempDir(), "replica-a.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	logs := fileText(logFile.Name())
	a := newTestRedis(t, RedisOptions{URL: srv.URL(3), Logger: slog.New(slog.NewTextHandler(logFile, nil))})
	b := newTestRedis(t, RedisOptions{URL: srv.URL(3)})
	replicas := []Cache{a, b}
	for _, c := range []*Redis{a, b} {
		if st := c.Status(); !st.Shared || st.Backend != "redis" {
			t.Fatalf("status before use: %+v", st)
		}
	}

	var scans atomic.Int32
	key := ScanKey("sha256:"+strings.Repeat("a", 64), "db1")
	if errs := replicasDo(replicas, key, "report-1", countingCompute(&scans, 300*time.Millisecond, "report-1")); len(errs) > 0 {
		t.Fatal(errs)
	}
	if n := scans.Load(); n != 1 {
		t.Fatalf("two replicas × 4 callers scanned the digest %d times, want 1", n)
	}
	sa, sb := a.Status(), b.Status()
	if sa.Computes+sb.Computes != 1 || sa.Waits+sb.Waits == 0 {
		t.Errorf("statuses %+v %+v: want one compute and a wait", sa, sb)
	}

	// Redis crashes: decisions go on, each replica on its own.
	srv.Kill()
	scans.Store(0)
	key2 := ScanKey("sha256:"+strings.Repeat("b", 64), "db1")
	if errs := replicasDo(replicas, key2, "report-2", countingCompute(&scans, 50*time.Millisecond, "report-2")); len(errs) > 0 {
		t.Fatalf("errors with Redis down: %v", errs)
	}
	if n := scans.Load(); n < 1 || n > 2 {
		t.Errorf("with Redis down the digest was scanned %d times, want once per replica at most", n)
	}
	for i, c := range []*Redis{a, b} {
		st := c.Status()
		if st.Shared || st.Fallbacks == 0 || !strings.Contains(st.LastError, "cannot reach Redis") {
			t.Errorf("replica %d with Redis down: status %+v, want the fallback shown", i, st)
		}
	}
	// What the log and /metrics show of it.
	if l := logs.String(); !strings.Contains(l, `level=WARN msg="scan cache: Redis unreachable, using the in-process cache" error="cannot reach Redis: `) {
		t.Errorf("no warning in the log:\n%s", l)
	}
	if err := testutil.CollectAndCompare(NewCollector(a), strings.NewReader(`
# HELP tollgate_scan_cache_shared 1 while scan results are shared with the other replicas through Redis; 0 when only this process has them (no Redis, or Redis unreachable).
# TYPE tollgate_scan_cache_shared gauge
tollgate_scan_cache_shared{backend="redis"} 0
`), "tollgate_scan_cache_shared"); err != nil {
		t.Error(err)
	}
	// Already known values are still served.
	for _, c := range replicas {
		v, err := c.Do(context.Background(), key, time.Minute, countingCompute(&scans, 0, "recomputed"))
		if err != nil || string(v) != "report-1" {
			t.Errorf("known value with Redis down: %q %v", v, err)
		}
	}

	// Redis back (empty: it kept nothing): once RetryAfter has passed the
	// replicas share again.
	srv.Restart()
	time.Sleep(300 * time.Millisecond)
	scans.Store(0)
	key3 := ScanKey("sha256:"+strings.Repeat("c", 64), "db1")
	if errs := replicasDo(replicas, key3, "report-3", countingCompute(&scans, 300*time.Millisecond, "report-3")); len(errs) > 0 {
		t.Fatal(errs)
	}
	if n := scans.Load(); n != 1 {
		t.Errorf("after Redis came back the digest was scanned %d times, want 1", n)
	}
	for i, c := range []*Redis{a, b} {
		if st := c.Status(); !st.Shared {
			t.Errorf("replica %d after Redis came back: %+v", i, st)
		}
	}
	if l := logs.String(); strings.Count(l, `msg="scan cache: using Redis"`) != 2 {
		t.Errorf("want one line at the start and one when Redis came back:\n%s", l)
	}
}

// fileText reads a file when called.
type fileText string

func (f fileText) String() string {
	b, _ := os.ReadFile(string(f))
	return string(b)
}

// TestRedisLeaseTakeover: a holder that died with the lock leaves it to
// its lease; a waiter takes over when it runs out, without polling in a
// loop, and a waiter whose deadline is shorter gives up in time.
func TestRedisLeaseTakeover(t *testing.T) {
	srv := redistest.Start(t)
	c := newTestRedis(t, RedisOptions{URL: srv.URL(3), Lease: 2 * time.Second})
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr(), DB: 3})
	defer raw.Close()
	key := ScanKey("sha256:"+strings.Repeat("d", 64), "db1")
	// A replica that crashed while scanning: its lock, 400 ms of lease left.
	if err := raw.Set(context.Background(), "tollgate:lock:"+key, "dead-replica", 400*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}

	// A caller with 100 ms left gives up while the lock is held; its
	// flight goes on and takes over when the dead holder's lease ends.
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var scans atomic.Int32
	start := time.Now()
	if v, err := c.Do(short, key, time.Minute, countingCompute(&scans, 0, "report")); err == nil {
		t.Fatalf("a caller with 100 ms left got %q while another replica held the lock", v)
	}
	// The next caller gets that flight's result: one scan in all.
	v, err := c.Do(context.Background(), key, time.Minute, countingCompute(&scans, 0, "second"))
	if err != nil || string(v) != "report" {
		t.Fatalf("Do after the dead holder: %q %v, want the abandoned flight's report", v, err)
	}
	if took := time.Since(start); took < 300*time.Millisecond || took > 2*time.Second {
		t.Errorf("took over after %v; the lease had 400 ms left", took)
	}
	if n := scans.Load(); n != 1 {
		t.Errorf("scanned %d times, want 1", n)
	}
	if got, _ := raw.Get(context.Background(), "tollgate:v:"+key).Result(); got != "report" {
		t.Errorf("value in Redis = %q", got)
	}
	if n, _ := raw.Exists(context.Background(), "tollgate:lock:"+key).Result(); n != 0 {
		t.Error("the lock was not released")
	}
	// The lock of someone else is never released by us.
	key2 := key + "-2"
	raw.Set(context.Background(), "tollgate:lock:"+key2, "other", time.Minute)
	if n, _ := releaseScript.Run(context.Background(), raw, []string{"tollgate:lock:" + key2}, "not-ours").Int(); n != 0 {
		t.Error("release with a wrong token deleted the lock")
	}
}

// TestRedisLeaseRenewed: a computation longer than the lease keeps its
// lock; a second replica waits instead of computing again.
func TestRedisLeaseRenewed(t *testing.T) {
	srv := redistest.Start(t)
	o := RedisOptions{URL: srv.URL(3), Lease: 300 * time.Millisecond}
	a, b := newTestRedis(t, o), newTestRedis(t, o)
	var scans atomic.Int32
	key := ScanKey("sha256:"+strings.Repeat("e", 64), "db1")
	if errs := replicasDo([]Cache{a, b}, key, "slow", countingCompute(&scans, time.Second, "slow")); len(errs) > 0 {
		t.Fatal(errs)
	}
	if n := scans.Load(); n != 1 {
		t.Errorf("a scan 3× longer than the lease ran %d times, want 1", n)
	}
}

// TestRedisPasswordFile: the password comes from a file, and a wrong one
// leaves the cache in process with a clear status.
func TestRedisPasswordFile(t *testing.T) {
	srv := redistest.Start(t, "--requirepass", "s3cret-pw")
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	os.WriteFile(good, []byte("s3cret-pw\n"), 0o600)
	os.WriteFile(bad, []byte("nope\n"), 0o600)

	c := newTestRedis(t, RedisOptions{URL: srv.URL(3), PasswordFile: good})
	if st := c.Status(); !st.Shared {
		t.Fatalf("with the password file: %+v", st)
	}
	var scans atomic.Int32
	if _, err := c.Do(context.Background(), "k", time.Minute, countingCompute(&scans, 0, "v")); err != nil {
		t.Fatal(err)
	}
	w := newTestRedis(t, RedisOptions{URL: srv.URL(3), PasswordFile: bad})
	if st := w.Status(); st.Shared || !strings.Contains(st.LastError, "WRONGPASS") {
		t.Errorf("with a wrong password: %+v", st)
	}
	if v, err := w.Do(context.Background(), "k", time.Minute, countingCompute(&scans, 0, "local")); err != nil || string(v) != "local" {
		t.Errorf("Do with a wrong password = %q %v, want the in-process fallback", v, err)
	}
}

func TestNewRedisOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    RedisOptions
		want string
	}{
		{"not a URL", RedisOptions{URL: "http://user:hunter2@host:6379"}, `redis URL "http://***@host:6379"`},
		{"password file missing", RedisOptions{URL: "redis://127.0.0.1:1/0", PasswordFile: "/nonexistent/pw"}, "reading the Redis password"},
		{"CA without TLS", RedisOptions{URL: "redis://127.0.0.1:1/0", CAFile: "cache.go"}, "a CA file is for rediss:// URLs"},
		{"CA not PEM", RedisOptions{URL: "rediss://127.0.0.1:1/0", CAFile: "cache.go"}, "holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRedis(context.Background(), tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewRedis error = %v, want %q", err, tc.want)
			}
			if strings.Contains(fmt.Sprint(err), "hunter2") {
				t.Errorf("the password leaked: %v", err)
			}
		})
	}
	// Nothing listening is not an error: the cache starts in process.
	c, err := NewRedis(context.Background(), RedisOptions{URL: "redis://127.0.0.1:1/0", Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st := c.Status(); st.Shared || st.LastError == "" {
		t.Errorf("status with nothing listening: %+v", st)
	}
}

// TestRedisTLS: rediss:// with the server verified against a CA file (the
// CA and server pair from tollgate certs' code).
func TestRedisTLS(t *testing.T) {
	dir := t.TempDir()
	if _, err := certs.Generate(certs.Options{Dir: dir, Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	tlsPort := redistest.FreePort(t)
	redistest.Start(t, "--tls-port", strconv.Itoa(tlsPort),
		"--tls-cert-file", filepath.Join(dir, certs.ServerFile), "--tls-key-file", filepath.Join(dir, certs.ServerKeyFile),
		"--tls-ca-cert-file", filepath.Join(dir, certs.CAFile), "--tls-auth-clients", "no")
	url := fmt.Sprintf("rediss://127.0.0.1:%d/0", tlsPort)
	c := newTestRedis(t, RedisOptions{URL: url, CAFile: filepath.Join(dir, certs.CAFile)})
	if st := c.Status(); !st.Shared {
		t.Fatalf("over TLS with the CA: %+v", st)
	}
	// Without the CA the server's certificate is not trusted.
	u := newTestRedis(t, RedisOptions{URL: url, Timeout: 3 * time.Second})
	// (The message is the verification failure, or a timeout when the
	// machine is loaded: go-redis dials in the background.)
	if st := u.Status(); st.Shared || st.LastError == "" {
		t.Errorf("over TLS without the CA: %+v", st)
	}
}
