// Command admission is the load generator behind the admission numbers in
// BENCHMARKS.md. It starts `tollgate serve` (the real binary, over TLS with
// client-certificate verification), drives one route over a fixed number of
// keep-alive connections from this process, and reports throughput,
// latency percentiles, errors, and the server's CPU, RSS and goroutines.
//
//	go run ./bench/admission -tollgate bin/tollgate -route validate -duration 10s
//	go run ./bench/admission -tollgate bin/tollgate -route validate -duration 60s -soak
//
// Each connection carries one request at a time (a closed loop); -conns sets
// the number of connections, -http1 the protocol (kube-apiserver calls
// admission webhooks over HTTP/1.1, one connection per concurrent request,
// and over HTTP/2 only at a loopback URL; other webhook clients may use
// HTTP/2).
//
// With -rate the load is an open loop instead (openloop.go): requests leave
// on a fixed schedule whatever the answers, cycling through the routes of
// -route (a comma-separated list), and each latency counts from the
// scheduled time. -raw sends it as kube-apiserver does to a webhook behind
// a Service, HTTP/1.1 over a connection per concurrent request, from
// senders of our own (rawloop.go) instead of Go's HTTP client, whose
// goroutine hand-offs would add their own delay; -cpu-dma-latency 0 keeps
// idle CPUs polling for the run. With -first-sight it times the first decision about an
// image and a second one from the cache. -policy, -image, -workload and
// -serve-args set what is decided: bench/admission/run.sh drives both modes
// against images pushed to a loopback docker-registry.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "admission bench:", err)
		os.Exit(1)
	}
}

type options struct {
	tollgate, route, policy string
	duration, warmup        time.Duration
	conns                   int
	soak, http1, raw, rawH2 bool
	// open loop and first sight
	rate                             float64
	workers                          int
	spin                             time.Duration
	firstSight                       bool
	image, workload, want, serveArgs string
	perf                             string
}

func run() error {
	var o options
	flag.StringVar(&o.tollgate, "tollgate", "bin/tollgate", "tollgate binary")
	flag.StringVar(&o.route, "route", "validate", "image_policy, validate or mutate")
	flag.StringVar(&o.policy, "policy", "default", `policy: "default" (built-in), "kubesec" (adds kubesecCritical), "mutate" (labels and securityContext defaults)`)
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured load duration")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before it")
	flag.IntVar(&o.conns, "conns", 2, "keep-alive connections, one request in flight each")
	flag.BoolVar(&o.soak, "soak", false, "report RSS over time and goroutines before and after")
	flag.BoolVar(&o.http1, "http1", false, "HTTP/1.1 instead of HTTP/2")
	flag.BoolVar(&o.rawH2, "raw-h2", false, "with -raw: HTTP/2 (one stream at a time a connection, frames read on the sender's thread) instead of HTTP/1.1")
	flag.BoolVar(&o.raw, "raw", false, "open loop: HTTP/1.1 from senders of our own, one connection and one thread each, blocking sockets (rawloop.go; -conns senders) instead of Go's HTTP client")
	flag.Float64Var(&o.rate, "rate", 0, "open loop: requests per second on a fixed schedule over the routes of -route (0: closed loop)")
	flag.IntVar(&o.workers, "workers", 256, "open loop: most requests in flight")
	flag.DurationVar(&o.spin, "spin", 0, "open loop: sleep the last stretch before each send with nanosleep(2) instead of Go's timers, which wake on a 1 ms poll (e.g. 1ms)")
	flag.BoolVar(&o.firstSight, "first-sight", false, "time the first decision about -image, then a cached one")
	flag.StringVar(&o.image, "image", "nginx:1.16", "image the requests name")
	flag.StringVar(&o.workload, "workload", "pod", "what /validate and /mutate receive: pod or deployment")
	flag.StringVar(&o.want, "want", "", "fragment every answer must hold (default: the allowed or patched answer of the route)")
	flag.StringVar(&o.serveArgs, "serve-args", "", "more tollgate serve flags, space-separated")
	flag.StringVar(&o.perf, "perf", "", "open loop: record the server's CPU profile (Linux perf) during the measured load into this file")
	dmaLatency := flag.Int("cpu-dma-latency", -1, "hold a PM QoS request of this many µs on /dev/cpu_dma_latency for the run (0: idle CPUs poll instead of sleeping, as cyclictest does; -1: none)")
	gcPercent := flag.Int("gc-percent", 100, "the generator's own GOGC (the server it starts keeps its own): a higher value keeps the generator's collections from delaying its sends")
	flag.Parse()
	debug.SetGCPercent(*gcPercent)
	if *dmaLatency >= 0 {
		release, err := holdCPUDMALatency(*dmaLatency)
		if err != nil {
			return err
		}
		defer release()
		fmt.Printf("PM QoS: /dev/cpu_dma_latency held at %d µs for the run\n", *dmaLatency)
	}

	var targets []target
	for _, route := range strings.Split(o.route, ",") {
		body, want, err := requestFor(route, o.workload, o.image)
		if err != nil {
			return err
		}
		if o.want != "" {
			want = o.want
		}
		targets = append(targets, target{route, body, want})
	}
	if len(targets) > 1 && o.rate == 0 && !o.firstSight {
		return errors.New("several routes need -rate or -first-sight")
	}
	body, want := targets[0].body, targets[0].want
	dir, err := os.MkdirTemp("", "tollgate-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if out, err := exec.Command(o.tollgate, "certs", "--dir", dir, "--hosts", "127.0.0.1").CombinedOutput(); err != nil {
		return fmt.Errorf("tollgate certs: %v\n%s", err, out)
	}
	policyFile := "default"
	if fi, err := os.Stat(o.policy); err == nil && !fi.IsDir() {
		policyFile = o.policy
	} else if o.policy != "default" {
		doc, ok := policies[o.policy]
		if !ok {
			return fmt.Errorf("unknown policy %q", o.policy)
		}
		policyFile = filepath.Join(dir, "policy.yaml")
		if err := os.WriteFile(policyFile, []byte(doc), 0o644); err != nil {
			return err
		}
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{"serve", "--addr", addr, "--tls-cert", filepath.Join(dir, "webhook.pem"),
		"--tls-key", filepath.Join(dir, "webhook-key.pem"), "--client-ca", filepath.Join(dir, "ca.pem"),
		"--require-client-cert", "all", "--log-level", "warn"}
	if policyFile != "default" {
		args = append(args, "--policy", policyFile)
	}
	args = append(args, strings.Fields(o.serveArgs)...)
	srv := exec.Command(o.tollgate, args...)
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	}()
	pid := srv.Process.Pid

	tlsCfg, err := clientTLS(dir)
	if err != nil {
		return err
	}
	base := "https://" + addr
	if err := waitReady(base, tlsCfg); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	if o.rate > 0 || o.firstSight {
		return runOther(o, tlsCfg, base, targets, pid)
	}
	goroutinesBefore, err := goroutines(base, tlsCfg)
	if err != nil {
		return err
	}

	clients, transports := newClients(o, tlsCfg)

	proto := "HTTP/2"
	if o.http1 {
		proto = "HTTP/1.1"
	}
	fmt.Printf("route /%s, policy %s, %s, TLS with client certificate, %d connections, warm-up %v, measured %v\n",
		o.route, o.policy, proto, o.conns, o.warmup, o.duration)
	if o.warmup > 0 {
		load(clients, base+"/"+o.route, body, want, o.warmup, nil)
	}
	cpu0, err := cpuSeconds(pid)
	if err != nil {
		return err
	}
	var rss []int64
	sampler := make(chan struct{})
	var samplerDone sync.WaitGroup
	samplerDone.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-sampler:
				return
			case <-tick.C:
				if r, err := rssBytes(pid); err == nil {
					rss = append(rss, r)
				}
			}
		}
	})
	start := time.Now()
	res := load(clients, base+"/"+o.route, body, want, o.duration, &o)
	elapsed := time.Since(start)
	close(sampler)
	samplerDone.Wait()
	cpu1, _ := cpuSeconds(pid)
	rssEnd, _ := rssBytes(pid)

	for _, tr := range transports {
		tr.CloseIdleConnections()
	}
	// Let the server notice the closed connections: poll for up to 5 s
	// until the count is back where it started.
	var goroutinesAfter int
	for i := 0; i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		if goroutinesAfter, err = goroutines(base, tlsCfg); err != nil {
			return err
		}
		if goroutinesAfter <= goroutinesBefore {
			break
		}
	}

	sort.Slice(res.lat, func(i, j int) bool { return res.lat[i] < res.lat[j] })
	n := len(res.lat)
	if n == 0 {
		return errors.New("no request completed")
	}
	pct := func(p float64) time.Duration { return res.lat[min(n-1, int(float64(n)*p))] }
	fmt.Printf("requests %d, errors %d, %.0f req/s\n", n, res.errors, float64(n)/elapsed.Seconds())
	fmt.Printf("latency p50 %s, p90 %s, p99 %s, p99.9 %s, max %s\n", us(pct(0.50)), us(pct(0.90)), us(pct(0.99)), us(pct(0.999)), us(res.lat[n-1]))
	fmt.Printf("server CPU %.2f cores (%.1f s over %.1f s), RSS %.1f MiB at the end, max %.1f MiB\n",
		(cpu1-cpu0)/elapsed.Seconds(), cpu1-cpu0, elapsed.Seconds(), mib(rssEnd), mib(maxOf(rss)))
	fmt.Printf("server goroutines %d before the load, %d after\n", goroutinesBefore, goroutinesAfter)
	if res.firstErr != "" {
		fmt.Printf("first error: %s\n", res.firstErr)
	}
	if o.soak && len(rss) > 10 {
		at10 := rss[9]
		var line []string
		for i, r := range rss {
			if (i+1)%10 == 0 {
				line = append(line, fmt.Sprintf("%ds %.1f", i+1, mib(r)))
			}
		}
		fmt.Printf("RSS MiB by time: %s\n", strings.Join(line, ", "))
		worst := 0.0
		for _, r := range rss[9:] {
			worst = max(worst, abs(float64(r-at10))/float64(at10))
		}
		fmt.Printf("RSS after 10 s %.1f MiB; largest deviation after that %.1f%%\n", mib(at10), worst*100)
	}
	return nil
}

type result struct {
	lat      []time.Duration
	errors   int64
	firstErr string
}

// load runs one closed-loop worker per client for d.
func load(clients []*http.Client, url string, body []byte, want string, d time.Duration, _ *options) result {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var res result
	var errs atomic.Int64
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1<<16)
			var first string
			for ctx.Err() == nil {
				t := time.Now()
				err := call(c, url, body, want)
				el := time.Since(t)
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					errs.Add(1)
					if first == "" {
						first = err.Error()
					}
					continue
				}
				lat = append(lat, el)
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			if res.firstErr == "" {
				res.firstErr = first
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.errors = errs.Load()
	return res
}

func call(c *http.Client, url string, body []byte, want string) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte(want)) {
		return fmt.Errorf("status %d, body %s", resp.StatusCode, b)
	}
	return nil
}

// newClients returns o.conns clients, each with a transport of its own
// holding one keep-alive connection (HTTP/2 unless -http1).
func newClients(o options, tlsCfg *tls.Config) ([]*http.Client, []*http.Transport) {
	clients := make([]*http.Client, o.conns)
	transports := make([]*http.Transport, o.conns)
	for i := range clients {
		cfg := tlsCfg.Clone()
		if o.http1 {
			cfg.NextProtos = []string{"http/1.1"}
		}
		transports[i] = &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: !o.http1, MaxConnsPerHost: 1}
		if o.http1 {
			// The open loop has many requests in flight: they wait for
			// this connection (MaxConnsPerHost) rather than open more.
			transports[i].MaxIdleConnsPerHost = 1
		}
		clients[i] = &http.Client{Transport: transports[i], Timeout: 30 * time.Second}
	}
	return clients, transports
}

func clientTLS(dir string) (*tls.Config, error) {
	ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "apiserver-client.pem"), filepath.Join(dir, "apiserver-client-key.pem"))
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}, nil
}

func waitReady(base string, cfg *tls.Config) error {
	// No keep-alive: an idle probe connection would hold server goroutines
	// and blur the before/after goroutine counts.
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}, Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := c.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("tollgate serve did not become ready")
}

// goroutines reads go_goroutines from the server's /metrics on a fresh
// connection that is closed afterwards.
func goroutines(base string, cfg *tls.Config) (int, error) {
	m, err := metricsText(base, cfg)
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(m, "\n") {
		if v, ok := strings.CutPrefix(l, "go_goroutines "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return int(f), err
		}
	}
	return 0, errors.New("no go_goroutines in /metrics")
}

// cpuSeconds is the process's user+system CPU time from /proc.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100, nil // USER_HZ is 100 on Linux
}

func rssBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}

// holdCPUDMALatency asks the kernel to keep every CPU's wake-up latency
// under us microseconds until release is called (the PM QoS interface;
// at 0 an idle CPU polls instead of halting, so a virtual CPU is not
// handed back to the host between requests).
func holdCPUDMALatency(us int) (release func(), err error) {
	f, err := os.OpenFile("/dev/cpu_dma_latency", os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("-cpu-dma-latency: %w", err)
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(int32(us)))
	if _, err := f.Write(b[:]); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpu-dma-latency: writing /dev/cpu_dma_latency: %w", err)
	}
	return func() { f.Close() }, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1000) }
func mib(b int64) float64       { return float64(b) / (1 << 20) }
func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func maxOf(s []int64) int64 {
	var m int64
	for _, v := range s {
		m = max(m, v)
	}
	return m
}

var policies = map[string]string{
	"kubesec": `apiVersion: tollgate.dev/v1alpha1
kind: Policy
metadata: {name: bench-kubesec}
spec:
  workloads:
    kubesecCritical: {mode: enforce}
    minimumScore: {mode: warn, score: 0}
`,
	"mutate": `apiVersion: tollgate.dev/v1alpha1
kind: Policy
metadata: {name: bench-mutate}
spec:
  mutations:
    labels: {tollgate.dev/admitted: "true"}
    securityContext: {runAsNonRoot: true, seccompRuntimeDefault: true, allowPrivilegeEscalationFalse: true, dropAllCapabilities: true}
`,
}

// requestFor returns the body for a route, naming image, and a fragment
// every answer must contain.
func requestFor(route, workload, image string) ([]byte, string, error) {
	review := admissionReview
	switch workload {
	case "pod":
	case "deployment":
		review = deploymentReview
	default:
		return nil, "", fmt.Errorf("unknown -workload %q: pod or deployment", workload)
	}
	named := func(body string) []byte {
		return bytes.ReplaceAll([]byte(body), []byte(`"image":"nginx:1.16"`), []byte(`"image":"`+image+`"`))
	}
	switch route {
	case "image_policy":
		// As the ImagePolicyWebhook sends it for one container.
		return named(`{"kind":"ImageReview","apiVersion":"imagepolicy.k8s.io/v1alpha1","metadata":{},"spec":{"containers":[{"image":"nginx:1.16"}],"namespace":"default"},"status":{"allowed":false}}`),
			`"allowed":true`, nil
	case "validate":
		return named(review), `"allowed":true`, nil
	case "mutate":
		return named(review), `"patchType":"JSONPatch"`, nil
	}
	return nil, "", fmt.Errorf("unknown route %q", route)
}

// admissionReview is what the apiserver sends for `kubectl run web
// --image=nginx:1.16` after its defaulting: a one-container Pod with the
// service-account volume, tolerations and managed fields.
const admissionReview = `{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"5b1e7c8e-1f3c-4d9a-9a43-0c8f3e2b7d11","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"requestKind":{"group":"","version":"v1","kind":"Pod"},"requestResource":{"group":"","version":"v1","resource":"pods"},"name":"web","namespace":"default","operation":"CREATE","userInfo":{"username":"kubernetes-admin","groups":["system:masters","system:authenticated"]},"object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"default","uid":"0f8b2a6e-3c55-4d0f-8f0e-6c1f7d9b2e44","creationTimestamp":"2026-11-27T10:00:00Z","labels":{"run":"web"},"managedFields":[{"manager":"kubectl-run","operation":"Update","apiVersion":"v1","time":"2026-11-27T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:run":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}]},"spec":{"volumes":[{"name":"kube-api-access-7xk2p","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}],"containers":[{"name":"web","image":"nginx:1.16","resources":{},"volumeMounts":[{"name":"kube-api-access-7xk2p","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default","serviceAccount":"default","securityContext":{},"schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},"status":{"phase":"Pending","qosClass":"BestEffort"}},"oldObject":null,"dryRun":false,"options":{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"kubectl-run"}}}`

// deploymentReview is what the apiserver sends to /validate for `kubectl
// create deployment web --image=nginx:1.16` after its defaulting: a
// one-container Deployment with managed fields.
const deploymentReview = `{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"9d0c2f4a-6b1e-4a77-8c3d-2e5f7a9b1c08","kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},"requestKind":{"group":"apps","version":"v1","kind":"Deployment"},"requestResource":{"group":"apps","version":"v1","resource":"deployments"},"name":"web","namespace":"default","operation":"CREATE","userInfo":{"username":"kubernetes-admin","groups":["system:masters","system:authenticated"]},"object":{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","namespace":"default","uid":"3a7e9c1b-5d2f-4e80-9b6a-1c4d8e2f7a35","generation":1,"creationTimestamp":"2026-12-02T01:00:00Z","labels":{"app":"web"},"managedFields":[{"manager":"kubectl-create","operation":"Update","apiVersion":"apps/v1","time":"2026-12-02T01:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}}]},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.16","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},"revisionHistoryLimit":10,"progressDeadlineSeconds":600},"status":{}},"oldObject":null,"dryRun":false,"options":{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"kubectl-create"}}}`
