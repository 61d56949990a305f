package main

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/tollgate-dev/tollgate/internal/match/matchtest"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
	"github.com/tollgate-dev/tollgate/internal/scan/scantest"
	"github.com/tollgate-dev/tollgate/internal/scancache/redistest"
)

// sharedCVE is the CRITICAL finding of scantest.BullseyeImage (libssl1.1)
// that the policy below denies.
const sharedCVE = "CVE-2023-50002"

// TestSharedScanCacheRedis is issue #14's acceptance 4: two `tollgate
// serve` processes sharing a real redis-server (`--cache redis://…`) take
// one ImageReview load, alternating between them, for images pushed to
// Debian's docker-registry on loopback. A fresh digest is scanned once in
// total; with Redis killed the decisions go on (every answer a 200
// ImageReview with the right denial) from each process's own cache, and
// /metrics and the logs say so; with Redis back on the same port it is
// used again: the next fresh digest is again scanned once in total.
func TestSharedScanCacheRedis(t *testing.T) {
	rds := redistest.Start(t)
	reg := registrytest.StartDistribution(t)
	bin := tollgateBinary(t)
	dir := t.TempDir()

	// Three images with the same findings and their own digests: A for
	// the first load (a little heavy, so that the replicas overlap), B
	// while Redis is down, C once it is back.
	base := scantest.BullseyeImage(t, nil)
	filler := make([]byte, 4<<20)
	rand.Read(filler)
	images := map[string]string{} // name → reference by digest
	for _, n := range []string{"a", "b", "c"} {
		entries := []registrytest.Entry{registrytest.File("etc/variant", n)}
		if n == "a" {
			entries = append(entries, registrytest.File("opt/filler.bin", string(filler)))
		}
		img, err := mutate.AppendLayers(base, registrytest.Layer(t, entries...))
		if err != nil {
			t.Fatal(err)
		}
		registrytest.Push(t, reg.Addr+"/team/app:"+n, img)
		images[n] = reg.Addr + "/team/app@" + digestOf(t, img)
	}

	if out, err := exec.Command(bin, "certs", "--dir", dir, "--hosts", "127.0.0.1").CombinedOutput(); err != nil {
		t.Fatalf("tollgate certs: %v\n%s", err, out)
	}
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte("apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nmetadata: {name: shared-cache}\n"+
		"spec:\n  vulnerabilities:\n    mode: enforce\n    onError: deny\n    maxSeverity: HIGH\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Two replicas, each with its own layer cache and a copy of one DB
	// (as two pods whose init containers fetched the same published DB:
	// results are keyed by its build ID), sharing Redis.
	dbPath := matchtest.Write(t, filepath.Join(dir, "db"), matchtest.FixtureDir())
	db, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var replicas []*replica
	for i := range 2 {
		cacheDir := filepath.Join(dir, fmt.Sprintf("cache%d", i))
		if err := os.MkdirAll(filepath.Join(cacheDir, "db"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cacheDir, "db", filepath.Base(dbPath)), db, 0o644); err != nil {
			t.Fatal(err)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
		p := start(t, dir, nil, "serve", "--addr", addr, "--tls-cert", filepath.Join(dir, "webhook.pem"),
			"--tls-key", filepath.Join(dir, "webhook-key.pem"), "--client-ca", filepath.Join(dir, "ca.pem"),
			"--policy", policy, "--cache-dir", cacheDir, "--cache", rds.URL(0),
			"--scan-budget", "20s", "--log-level", "info")
		replicas = append(replicas, &replica{name: fmt.Sprintf("replica %d", i), base: "https://" + addr, proc: p})
	}
	client := apiserverClient(t, dir)
	for _, r := range replicas {
		r.client = client
		r.waitReady(t)
	}

	// 1. A fresh digest under concurrent load on both: one scan in all.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() { errs <- replicas[i%2].decide(images["a"]) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := sumMetric(t, replicas, "tollgate_scan_cache_computes_total", ""); n != 1 {
		t.Errorf("image A scanned %v times over both replicas (tollgate_scan_cache_computes_total), want 1", n)
	}
	if n := sumMetric(t, replicas, "tollgate_scans_total", `result="started"`); n != 1 {
		t.Errorf(`tollgate_scans_total{result="started"} over both replicas = %v, want 1`, n)
	}
	// The replica that did not scan took the other's result: it waited
	// for the scan in progress, or found it in Redis.
	waits, hits := sumMetric(t, replicas, "tollgate_scan_cache_waits_total", ""), sumMetric(t, replicas, "tollgate_scan_cache_hits_total", "")
	t.Logf("image A: waits %v, hits %v over both replicas", waits, hits)
	for _, r := range replicas {
		if r.metric(t, "tollgate_scan_cache_computes_total", "") == 0 &&
			r.metric(t, "tollgate_scan_cache_waits_total", "")+r.metric(t, "tollgate_scan_cache_hits_total", "") == 0 {
			t.Errorf("%s neither scanned image A nor waited for or found the other's scan", r.name)
		}
	}
	for _, r := range replicas {
		if v := r.metric(t, "tollgate_scan_cache_shared", ""); v != 1 {
			t.Errorf("%s: tollgate_scan_cache_shared %v before Redis is killed, want 1", r.name, v)
		}
	}

	// 2. Steady load on both replicas, alternating, for A and the image
	// of the moment; Redis is killed under it.
	var current atomic.Value
	current.Store(images["a"])
	l := &loader{replicas: replicas, images: []func() string{
		func() string { return images["a"] }, func() string { return current.Load().(string) },
	}}
	l.start(4)
	defer l.stop()
	time.Sleep(500 * time.Millisecond)
	logMark := make([]int, len(replicas))
	for i, r := range replicas {
		logMark[i] = len(r.proc.stderr.String())
	}
	rds.Kill()
	current.Store(images["b"]) // in neither replica's own cache: they must go to Redis, fail and fall back
	ok, detail := waitFor(20*time.Second, func() (bool, string) {
		var d []string
		done := true
		for _, r := range replicas {
			shared, fb := r.metric(t, "tollgate_scan_cache_shared", ""), r.metric(t, "tollgate_scan_cache_fallbacks_total", "")
			d = append(d, fmt.Sprintf("%s: shared %v, fallbacks %v", r.name, shared, fb))
			done = done && shared == 0 && fb > 0
		}
		return done && l.decidedCount(images["b"]) >= 4, strings.Join(d, "; ")
	})
	if !ok {
		t.Fatalf("with Redis killed, the replicas never reported the fallback: %s; %d decisions for B", detail, l.decidedCount(images["b"]))
	}
	t.Logf("Redis killed: %s; %d decisions for B", detail, l.decidedCount(images["b"]))
	for i, r := range replicas {
		if logs := r.proc.stderr.String()[logMark[i]:]; !strings.Contains(logs, "Redis unreachable") {
			t.Errorf("%s logged nothing about Redis being unreachable:\n%s", r.name, logs)
		}
	}

	// 3. Redis back on the same port (empty: nothing on disk). Once the
	// replicas' retry delay has passed, a new fresh digest takes them to
	// Redis again: shared again, and one scan in all.
	rds.Restart()
	time.Sleep(3 * time.Second)
	computes := sumMetric(t, replicas, "tollgate_scan_cache_computes_total", "")
	current.Store(images["c"])
	ok, detail = waitFor(20*time.Second, func() (bool, string) {
		var d []string
		done := true
		for _, r := range replicas {
			shared := r.metric(t, "tollgate_scan_cache_shared", "")
			d = append(d, fmt.Sprintf("%s: shared %v", r.name, shared))
			done = done && shared == 1
		}
		return done && l.decidedCount(images["c"]) >= 8, strings.Join(d, "; ")
	})
	if !ok {
		t.Fatalf("with Redis back, the replicas did not share again: %s; %d decisions for C", detail, l.decidedCount(images["c"]))
	}
	l.stop()
	if n := sumMetric(t, replicas, "tollgate_scan_cache_computes_total", "") - computes; n != 1 {
		t.Errorf("image C scanned %v times over both replicas with Redis back, want 1", n)
	}
	for i, r := range replicas {
		if logs := r.proc.stderr.String()[logMark[i]:]; !strings.Contains(logs, "using Redis") {
			t.Errorf("%s logged nothing about using Redis again:\n%s", r.name, logs)
		}
	}

	// Every answer of the whole run: a 200 ImageReview denying on the CVE.
	total, failed, first := l.results()
	t.Logf("load: %d decisions, %d errors", total, failed)
	if failed > 0 {
		t.Errorf("%d of %d decisions failed; first: %s", failed, total, first)
	}
	for _, r := range replicas {
		select {
		case <-r.proc.done:
			t.Errorf("%s exited: %s", r.name, r.proc.stderr)
		default:
		}
	}
}

func digestOf(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// replica is one tollgate serve under test.
type replica struct {
	name, base string
	proc       *proc
	client     *http.Client
}

// apiserverClient speaks to the replicas as the apiserver does: TLS with
// the client certificate `tollgate certs` made.
func apiserverClient(t *testing.T, dir string) *http.Client {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "apiserver-client.pem"), filepath.Join(dir, "apiserver-client-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func (r *replica) waitReady(t *testing.T) {
	t.Helper()
	ok, detail := waitFor(20*time.Second, func() (bool, string) {
		select {
		case <-r.proc.done:
			return true, "exited"
		default:
		}
		resp, err := r.client.Get(r.base + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
	if !ok || detail == "exited" {
		t.Fatalf("%s not ready: %s\n%s", r.name, detail, r.proc.stderr)
	}
}

// decide sends an ImageReview for image and checks the answer: status 200,
// a well-formed ImageReview denying the image on sharedCVE.
func (r *replica) decide(image string) error {
	body := fmt.Sprintf(`{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","spec":{"containers":[{"image":%q}],"namespace":"default"}}`, image)
	resp, err := r.client.Post(r.base+"/image_policy", "application/json", strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %v", r.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %v", r.name, err)
	}
	var review struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Status     *struct {
			Allowed bool   `json:"allowed"`
			Reason  string `json:"reason"`
		} `json:"status"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &review) != nil || review.Kind != "ImageReview" ||
		review.APIVersion != "imagepolicy.k8s.io/v1alpha1" || review.Status == nil {
		return fmt.Errorf("%s: %s: status %d, not an ImageReview: %s", r.name, image, resp.StatusCode, b)
	}
	if review.Status.Allowed || !strings.Contains(review.Status.Reason, sharedCVE) {
		return fmt.Errorf("%s: %s: allowed %v, reason %q; want a denial naming %s", r.name, image, review.Status.Allowed, review.Status.Reason, sharedCVE)
	}
	return nil
}

// metric is the sum of the samples of name whose labels contain label
// ("" for any) on the replica's /metrics.
func (r *replica) metric(t *testing.T, name, label string) float64 {
	t.Helper()
	resp, err := r.client.Get(r.base + "/metrics")
	if err != nil {
		t.Fatalf("%s /metrics: %v", r.name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	sum, found := 0.0, false
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') || !strings.Contains(rest, label) {
			continue
		}
		f := strings.Fields(rest)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("%s /metrics: %q: %v", r.name, line, err)
		}
		sum, found = sum+v, true
	}
	if !found {
		t.Fatalf("%s /metrics has no %s%s", r.name, name, label)
	}
	return sum
}

func sumMetric(t *testing.T, rs []*replica, name, label string) float64 {
	t.Helper()
	sum := 0.0
	for _, r := range rs {
		sum += r.metric(t, name, label)
	}
	return sum
}

// loader keeps ImageReviews going to the replicas in turn from a few
// goroutines, cycling through the images, and keeps every outcome.
type loader struct {
	replicas []*replica
	images   []func() string
	n        atomic.Int64
	quit     chan struct{}
	wg       sync.WaitGroup

	mu      sync.Mutex
	total   int
	errs    []string
	decided map[string]int
}

func (l *loader) start(workers int) {
	l.quit = make(chan struct{})
	l.decided = map[string]int{}
	for range workers {
		l.wg.Go(func() {
			for {
				select {
				case <-l.quit:
					return
				default:
				}
				i := l.n.Add(1)
				// Every replica gets every image: replica i mod R, image
				// (i / R) mod N.
				r := l.replicas[i%int64(len(l.replicas))]
				image := l.images[(i/int64(len(l.replicas)))%int64(len(l.images))]()
				err := r.decide(image)
				l.mu.Lock()
				l.total++
				if err != nil {
					l.errs = append(l.errs, err.Error())
				} else {
					l.decided[image]++
				}
				l.mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// stop ends the load (once) and waits for the requests in flight.
func (l *loader) stop() {
	l.mu.Lock()
	select {
	case <-l.quit:
	default:
		close(l.quit)
	}
	l.mu.Unlock()
	l.wg.Wait()
}

func (l *loader) results() (total, failed int, first string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) > 0 {
		first = l.errs[0]
	}
	return l.total, len(l.errs), first
}

// decidedCount is how many correct decisions image got.
func (l *loader) decidedCount(image string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.decided[image]
}

// waitFor polls ok every 100 ms until it holds or timeout passes, and
// returns the last detail.
func waitFor(timeout time.Duration, ok func() (bool, string)) (bool, string) {
	deadline := time.Now().Add(timeout)
	for {
		done, detail := ok()
		if done || time.Now().After(deadline) {
			return done, detail
		}
		time.Sleep(100 * time.Millisecond)
	}
}
