// Command pressure is the memory-pressure load test behind the "servers
// under pressure" table of BENCHMARKS.md. It starts the real tollgate binary
// on 127.0.0.1 — `serve` (HTTPS, HTTP/2) or `kube http` — and keeps
// -conc large requests in flight for -duration (each client sends its next
// request as soon as the last is answered; after a 429 it waits 50 ms),
// while a probe sends a small request every 200 ms. It reports the status
// codes, the probe's slowest answer, the server's peak RSS (VmHWM) and its
// RSS once idle again.
//
//	go run ./bench/pressure -tollgate bin/tollgate -mode serve -conc 50 -size 6000000
//	go run ./bench/pressure -tollgate bin/tollgate -mode kube -conc 40 -size 2000000 -body tiny
//
// Everything stays on loopback, and the run is bounded by -duration.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pressure:", err)
		os.Exit(1)
	}
}

type options struct {
	tollgate, mode, body string
	conc, size           int
	duration             time.Duration
	extra                string
}

func run() error {
	var o options
	flag.StringVar(&o.tollgate, "tollgate", "bin/tollgate", "tollgate binary")
	flag.StringVar(&o.mode, "mode", "serve", `"serve" (POST /validate AdmissionReviews over HTTPS) or "kube" (POST /scan to kube http)`)
	flag.StringVar(&o.body, "body", "big", `kube mode: "big" (one Deployment with a large annotation) or "tiny" (as many tiny Pods as fit)`)
	flag.IntVar(&o.conc, "conc", 50, "large requests in flight")
	flag.IntVar(&o.size, "size", 6_000_000, "bytes of each large request")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "load duration")
	flag.StringVar(&o.extra, "flags", "", "extra server flags, space-separated")
	flag.Parse()

	dir, err := os.MkdirTemp("", "tollgate-pressure-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var args []string
	// The probe has a connection of its own: on the large requests' HTTP/2
	// connection it would wait behind their bytes in TCP, not in tollgate.
	client, probe := &http.Client{Timeout: 60 * time.Second}, &http.Client{Timeout: 60 * time.Second}
	scheme, path, ctype := "http", "/scan", "application/yaml"
	if o.mode == "serve" {
		if out, err := exec.Command(o.tollgate, "certs", "--dir", dir, "--hosts", "127.0.0.1").CombinedOutput(); err != nil {
			return fmt.Errorf("certs: %v: %s", err, out)
		}
		caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
		probe.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
		args = []string{"serve", "--addr", "127.0.0.1:0", "--tls-cert", filepath.Join(dir, "webhook.pem"), "--tls-key", filepath.Join(dir, "webhook-key.pem"), "--log-level", "error"}
		scheme, path, ctype = "https", "/validate", "application/json"
	} else {
		client.Transport = &http.Transport{MaxIdleConnsPerHost: o.conc}
		probe.Transport = &http.Transport{}
		args = []string{"kube", "http", "127.0.0.1:0"}
	}
	if o.extra != "" {
		args = append(args, strings.Fields(o.extra)...)
	}
	srv := exec.Command(o.tollgate, args...)
	stderr, err := srv.StderrPipe()
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	}()
	addr, err := listenAddr(stderr)
	if err != nil {
		return err
	}
	go io.Copy(io.Discard, stderr)
	url := scheme + "://" + addr + path

	large, small := bodies(o)
	fmt.Printf("tollgate %s, %d × %d-byte requests in flight for %s, probe %d bytes every 200 ms\n", strings.Join(args[:2], " "), o.conc, len(large), o.duration, len(small))
	if out, err := exec.Command("uptime").Output(); err == nil {
		fmt.Printf("load before: %s", out)
	}
	cpuBefore := cpuTicks(srv.Process.Pid)

	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()
	var codes sync.Map // status → *atomic.Int64
	count := func(code int) {
		v, _ := codes.LoadOrStore(code, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	var wg sync.WaitGroup
	for range o.conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				code := post(ctx, client, url, ctype, large)
				if code == 0 && ctx.Err() != nil {
					return
				}
				count(code)
				if code == http.StatusTooManyRequests {
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	var probeMax time.Duration
	var probes, probeFails int
	var peakRSS int64
	tick := time.NewTicker(200 * time.Millisecond)
	for ctx.Err() == nil {
		<-tick.C
		start := time.Now()
		pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
		code := post(pctx, probe, url, ctype, small)
		pcancel()
		probeMax = max(probeMax, time.Since(start))
		probes++
		if code != http.StatusOK {
			probeFails++
		}
		peakRSS = max(peakRSS, rss(srv.Process.Pid, "VmRSS"))
	}
	tick.Stop()
	wg.Wait()
	cpu := cpuTicks(srv.Process.Pid) - cpuBefore
	if out, err := exec.Command("uptime").Output(); err == nil {
		fmt.Printf("load after: %s", out)
	}
	var fivexx int64
	var summary []string
	for code := range 600 {
		if v, ok := codes.Load(code); ok {
			n := v.(*atomic.Int64).Load()
			summary = append(summary, fmt.Sprintf("%d×%d", n, code))
			if code >= 500 || code == 0 {
				fivexx += n
			}
		}
	}
	hwm := rss(srv.Process.Pid, "VmHWM")
	time.Sleep(3 * time.Second) // idle: memory handed back?
	idle := rss(srv.Process.Pid, "VmRSS")
	hz, _ := strconv.Atoi(strings.TrimSpace(runOut("getconf", "CLK_TCK")))
	if hz == 0 {
		hz = 100
	}
	fmt.Printf("large requests: %s (status 0 = transport error)\n", strings.Join(summary, " "))
	fmt.Printf("5xx or transport errors: %d\n", fivexx)
	fmt.Printf("probe: %d sent, %d not 200, slowest %v\n", probes, probeFails, probeMax.Round(time.Millisecond))
	fmt.Printf("server RSS: peak %d MB (VmHWM; sampled %d MB), %d MB after 3 s idle; CPU %.1f s\n", hwm>>10, peakRSS>>10, idle>>10, float64(cpu)/float64(hz))
	return nil
}

// post sends one request and returns its status (0: transport error).
func post(ctx context.Context, c *http.Client, url, ctype string, body []byte) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// bodies returns the large request and the small probe.
func bodies(o options) (large, small []byte) {
	if o.mode == "serve" {
		review := func(annotation int) []byte {
			pod := fmt.Sprintf(`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"default","annotations":{"note":%q}},"spec":{"containers":[{"name":"a","image":"nginx:1.27"}]}}`,
				strings.Repeat("x", annotation))
			return []byte(`{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u1",` +
				`"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},` +
				`"name":"web","namespace":"default","operation":"CREATE","userInfo":{"username":"bench"},"object":` + pod + `}}`)
		}
		base := len(review(0))
		return review(o.size - base), review(10)
	}
	pod := func(i int) string {
		return fmt.Sprintf("---\nkind: Pod\napiVersion: v1\nmetadata: {name: p%d}\nspec: {containers: [{name: c, image: i}]}\n", i)
	}
	if o.body == "tiny" {
		var b strings.Builder
		for i := 0; ; i++ {
			p := pod(i)
			if b.Len()+len(p) > o.size {
				break
			}
			b.WriteString(p)
		}
		return []byte(b.String()), []byte(pod(0))
	}
	head := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n    note: "
	tail := "\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: c, image: nginx:1.27}]\n"
	return []byte(head + strings.Repeat("x", o.size-len(head)-len(tail)) + tail), []byte(pod(0))
}

var listenRE = regexp.MustCompile(`listening on https?://(\S+)`)

func listenAddr(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
			return m[1], nil
		}
	}
	return "", fmt.Errorf("the server exited before listening")
}

// rss returns a /proc/PID/status field in KiB.
func rss(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// cpuTicks is the process's user+system time in clock ticks.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

func runOut(name string, args ...string) string {
	out, _ := exec.Command(name, args...).Output()
	return string(out)
}
