package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// target is one route of an open-loop run with its body and the fragment
// every answer must hold.
type target struct {
	route string
	body  []byte
	want  string
}

// openResult holds, per target, the latency of every request measured
// from the time it was scheduled to be sent.
type openResult struct {
	lat      [][]time.Duration
	errors   int64
	firstErr string
	// lateSends counts requests a worker picked up more than 1 ms after
	// their scheduled time (the generator or the pool fell behind: the
	// latency still counts from the schedule); pickup holds that delay
	// for every request.
	lateSends int64
	pickup    []time.Duration
	// service is each latency less its pickup delay.
	service []time.Duration
	elapsed time.Duration
}

// openLoop sends rate requests per second for d, cycling through the
// targets, each at its scheduled time t0 + i/rate whatever the answers to
// the earlier ones (an open loop), over the clients in turn, with at most
// workers requests in flight; a request that waits for a free worker
// waits on the clock. Latency is measured from the scheduled time to the
// whole answer read, so a stall of the server shows in the percentiles
// instead of slowing the generator down (no coordinated omission).
func openLoop(clients []*http.Client, base string, targets []target, rate float64, d time.Duration, workers int, spin time.Duration) openResult {
	total := int(rate * d.Seconds())
	type job struct {
		i   int
		due time.Time
	}
	jobs := make(chan job, total)
	lat := make([]time.Duration, total)
	pickup := make([]time.Duration, total)
	ok := make([]bool, total)
	var (
		errs, late atomic.Int64
		mu         sync.Mutex
		firstErr   string
		wg         sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				pickup[j.i] = time.Since(j.due)
				if pickup[j.i] > time.Millisecond {
					late.Add(1)
				}
				tg := targets[j.i%len(targets)]
				err := call(clients[j.i%len(clients)], base+"/"+tg.route, tg.body, tg.want)
				lat[j.i] = time.Since(j.due)
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if firstErr == "" {
						firstErr = fmt.Sprintf("/%s: %v", tg.route, err)
					}
					mu.Unlock()
					continue
				}
				ok[j.i] = true
			}
		})
	}
	interval := time.Duration(float64(time.Second) / rate)
	t0 := time.Now()
	for i := range total {
		due := t0.Add(time.Duration(i) * interval)
		if w := time.Until(due); w > spin {
			time.Sleep(w - spin)
		}
		// The last stretch is slept with nanosleep(2) on this thread: Go's
		// own sleeps wake on the netpoller's 1 ms poll, which would add
		// the generator's lateness to every latency at intervals under
		// 1 ms. (Not a busy wait: safe under the real-time scheduler.)
		if spin > 0 {
			sleepUntil(due)
		}
		jobs <- job{i, due}
	}
	close(jobs)
	wg.Wait()
	res := openResult{errors: errs.Load(), firstErr: firstErr, lateSends: late.Load(), pickup: pickup, elapsed: time.Since(t0)}
	res.lat, res.service = answered(lat, pickup, ok, len(targets))
	return res
}

// sleepUntil sleeps with nanosleep(2) on this thread until t. A signal
// (the Go runtime's preemption, SIGCHLD) ends a nanosleep early with
// EINTR: the loop sleeps again for what is left, so that no request
// leaves before its time (one sent early would shorten its latency).
func sleepUntil(t time.Time) {
	for {
		w := time.Until(t)
		if w <= 0 {
			return
		}
		ts := syscall.NsecToTimespec(int64(w))
		syscall.Nanosleep(&ts, nil)
	}
}

// answered sorts the latencies of the answered slots by target (slot i
// went to target i mod n) and gives each less its pickup delay.
func answered(lat, pickup []time.Duration, ok []bool, n int) (byTarget [][]time.Duration, service []time.Duration) {
	byTarget = make([][]time.Duration, n)
	for i, l := range lat {
		if ok[i] {
			byTarget[i%n] = append(byTarget[i%n], l)
			service = append(service, l-pickup[i])
		}
	}
	return byTarget, service
}

// runOpen is -rate: warm the cache with one request per target (waited
// for), run an unmeasured stretch of load, then the measured open loop.
// warm sends targets[i] once and waits for its answer; loop runs the open
// loop for a duration.
func runOpen(o options, warm func(i int) error, loop func(time.Duration) openResult, pid int, targets []target, metrics func() (string, error)) error {
	for i, tg := range targets {
		t := time.Now()
		if err := warm(i); err != nil {
			return fmt.Errorf("warming the cache with /%s: %w", tg.route, err)
		}
		fmt.Printf("first /%s (cache warm-up): %s\n", tg.route, ms(time.Since(t)))
	}
	if o.warmup > 0 {
		loop(o.warmup)
	}
	hist0, err := decisionHistogram(metrics)
	if err != nil {
		return err
	}
	stopPerf, err := startPerf(o.perf, pid)
	if err != nil {
		return err
	}
	cpu0, err := cpuSeconds(pid)
	if err != nil {
		return err
	}
	self0 := selfCPU()
	load0 := loadavg()
	steal0 := readCPUTimes()
	res := loop(o.duration)
	steal1 := readCPUTimes()
	cpu1, _ := cpuSeconds(pid)
	self1 := selfCPU()
	rss, _ := rssBytes(pid)
	if err := stopPerf(); err != nil {
		return err
	}
	hist1, err := decisionHistogram(metrics)
	if err != nil {
		return err
	}

	var all []time.Duration
	for _, l := range res.lat {
		all = append(all, l...)
	}
	fmt.Printf("load average before %s, after %s; %s\n", load0, loadavg(), steal1.since(steal0))
	fmt.Printf("scheduled %.0f req/s for %v; completed %d in %.2f s = %.0f req/s; errors %d; picked up > 1 ms late %d\n",
		o.rate, o.duration, len(all), res.elapsed.Seconds(), float64(len(all))/res.elapsed.Seconds(), res.errors, res.lateSends)
	for i, tg := range targets {
		fmt.Printf("  /%-13s %s\n", tg.route, percentiles(res.lat[i]))
	}
	fmt.Printf("  %-14s %s\n", "all", percentiles(all))
	fmt.Printf("  %-14s %s  (schedule → a worker sends: the generator's own delay, inside the latencies above)\n", "pickup", percentiles(res.pickup))
	fmt.Printf("  %-14s %s  (send → answer, without the pickup)\n", "from send", percentiles(res.service))
	fmt.Printf("server-side decision time (tollgate_decision_duration_seconds, measured load): %s\n", hist1.since(hist0))
	fmt.Printf("server CPU %.2f cores, %.0f µs a request; RSS %.1f MiB at the end; load generator CPU %.2f cores\n",
		(cpu1-cpu0)/res.elapsed.Seconds(), (cpu1-cpu0)*1e6/float64(max(1, len(all))), mib(rss), (self1-self0).Seconds()/res.elapsed.Seconds())
	if res.firstErr != "" {
		fmt.Printf("first error: %s\n", res.firstErr)
	}
	if res.errors > 0 {
		return fmt.Errorf("%d requests failed", res.errors)
	}
	return nil
}

// runFirstSight is -first-sight: the first decision for an image the
// server has not seen (timed from the request to the answer), then a
// second one from the cache, each route in turn, one request at a time;
// then the scan counters of /metrics.
func runFirstSight(clients []*http.Client, base string, targets []target, metrics func() (string, error)) error {
	for n, label := range []string{"first sight", "cached"} {
		for _, tg := range targets {
			if n == 0 && tg.route != targets[0].route {
				continue // first sight happens once per digest
			}
			t := time.Now()
			body, status, err := post(clients[0], base+"/"+tg.route, tg.body)
			took := time.Since(t)
			if err != nil {
				return fmt.Errorf("/%s: %w", tg.route, err)
			}
			fmt.Printf("%-11s /%-12s %10s  status %d  %s\n", label, tg.route, ms(took), status, decision(body))
			if status != 200 || !bytes.Contains(body, []byte(tg.want)) {
				return fmt.Errorf("/%s answered %d without %q: %s", tg.route, status, tg.want, body)
			}
		}
	}
	m, err := metrics()
	if err != nil {
		return err
	}
	for _, l := range strings.Split(m, "\n") {
		if strings.HasPrefix(l, "tollgate_scans_total") || strings.HasPrefix(l, "tollgate_scan_cache_computes_total") ||
			strings.HasPrefix(l, "tollgate_scan_cache_hits_total") || strings.HasPrefix(l, "tollgate_verifications_total") {
			fmt.Println("  " + l)
		}
	}
	return nil
}

func post(c *http.Client, url string, body []byte) ([]byte, int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, resp.StatusCode, err
}

var (
	allowedRe = regexp.MustCompile(`"allowed":(true|false)`)
	// An AdmissionReview's status.message, else an ImageReview's
	// status.reason (an AdmissionReview's reason is only "Forbidden").
	messageRe = regexp.MustCompile(`"message":"([^"]{0,160})`)
	reasonRe  = regexp.MustCompile(`"reason":"([^"]{0,160})`)
)

// decision summarises an answer: allowed or not, and the start of its
// message.
func decision(body []byte) string {
	s := "allowed ?"
	if m := allowedRe.FindSubmatch(body); m != nil {
		s = "allowed " + string(m[1])
	}
	for _, re := range []*regexp.Regexp{messageRe, reasonRe} {
		if m := re.FindSubmatch(body); m != nil {
			return s + ": " + string(m[1])
		}
	}
	return s
}

func percentiles(l []time.Duration) string {
	if len(l) == 0 {
		return "no answer"
	}
	slices.Sort(l)
	p := func(q float64) time.Duration { return l[min(len(l)-1, int(float64(len(l))*q))] }
	return fmt.Sprintf("n %d  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s", len(l), ms(p(0.5)), ms(p(0.9)), ms(p(0.99)), ms(p(0.999)), ms(l[len(l)-1]))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000) }

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuTimes is the machine's CPU time so far, all of it and the part
// stolen, from /proc/stat (zero where it cannot be read).
type cpuTimes struct{ total, steal float64 }

func readCPUTimes() cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTimes{}
	}
	var t cpuTimes
	for i := 1; i < 9; i++ {
		v, _ := strconv.ParseFloat(f[i], 64)
		t.total += v
		if i == 8 {
			t.steal = v
		}
	}
	return t
}

// since describes the CPU time between two readings: the share the
// hypervisor gave to others while this machine's CPUs wanted to run
// ("steal"), the mark of a shared host.
func (t cpuTimes) since(before cpuTimes) string {
	total := t.total - before.total
	if total <= 0 {
		return "CPU time not readable"
	}
	return fmt.Sprintf("CPU time stolen by the hypervisor %.1f %%", 100*(t.steal-before.steal)/total)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// runOther runs the -rate or the -first-sight mode against the server at
// base.
func runOther(o options, tlsCfg *tls.Config, base string, targets []target, pid int) error {
	metrics := func() (string, error) { return metricsText(base, tlsCfg) }
	var routes []string
	for _, tg := range targets {
		routes = append(routes, "/"+tg.route)
	}
	if o.raw && !o.firstSight {
		return runRaw(o, tlsCfg, strings.TrimPrefix(base, "https://"), targets, pid, routes, metrics)
	}
	clients, transports := newClients(o, tlsCfg)
	defer func() {
		for _, tr := range transports {
			tr.CloseIdleConnections()
		}
	}()
	proto := "HTTP/2"
	if o.http1 {
		proto = "HTTP/1.1"
	}
	fmt.Printf("routes %s (workload %s), image %s, policy %s, %s over TLS with client certificate, %d connection(s)\n",
		strings.Join(routes, " "), o.workload, o.image, o.policy, proto, o.conns)
	if o.firstSight {
		return runFirstSight(clients, base, targets, metrics)
	}
	fmt.Printf("open loop: %.0f req/s, warm-up %v, measured %v, at most %d in flight\n", o.rate, o.warmup, o.duration, o.workers)
	warm := func(i int) error {
		return call(clients[0], base+"/"+targets[i].route, targets[i].body, targets[i].want)
	}
	loop := func(d time.Duration) openResult {
		return openLoop(clients, base, targets, o.rate, d, o.workers, o.spin)
	}
	return runOpen(o, warm, loop, pid, targets, metrics)
}

// runRaw is the open loop over the raw client (rawloop.go): o.conns
// senders, each with a connection of its own.
func runRaw(o options, tlsCfg *tls.Config, addr string, targets []target, pid int, routes []string, metrics func() (string, error)) error {
	senders := make([]sender, o.conns)
	defer func() {
		for _, s := range senders {
			if s != nil {
				s.close()
			}
		}
	}()
	proto := "HTTP/1.1"
	if !o.http1 && o.rawH2 {
		proto = "HTTP/2"
	}
	for i := range senders {
		var s sender
		var err error
		if proto == "HTTP/2" {
			s, err = newH2Sender(addr, tlsCfg, targets)
		} else {
			s, err = newH1Sender(addr, tlsCfg, targets)
		}
		if err != nil {
			return err
		}
		senders[i] = s
	}
	fmt.Printf("routes %s (workload %s), image %s, policy %s, %s over TLS with client certificate, raw client: %d connection(s), one sender each\n",
		strings.Join(routes, " "), o.workload, o.image, o.policy, proto, o.conns)
	fmt.Printf("open loop: %.0f req/s, warm-up %v, measured %v, at most %d in flight\n", o.rate, o.warmup, o.duration, o.conns)
	var body bytes.Buffer
	warm := func(i int) error { return senders[0].do(i, &body) }
	loop := func(d time.Duration) openResult { return rawLoop(senders, targets, o.rate, d) }
	return runOpen(o, warm, loop, pid, targets, metrics)
}

// metricsText is the server's /metrics, read on a connection of its own.
func metricsText(base string, cfg *tls.Config) (string, error) {
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(base + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// startPerf records the server's CPU samples with call stacks into file
// (Linux perf, 499 Hz) until the returned function is called; "" records
// nothing.
func startPerf(file string, pid int) (func() error, error) {
	if file == "" {
		return func() error { return nil }, nil
	}
	cmd := exec.Command("perf", "record", "-F", "499", "-g", "-o", file, "-p", strconv.Itoa(pid))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting perf: %w", err)
	}
	time.Sleep(300 * time.Millisecond) // perf attaches
	return func() error {
		cmd.Process.Signal(os.Interrupt)
		err := cmd.Wait() // perf may report the interrupt as its exit status
		if fi, serr := os.Stat(file); serr != nil || fi.Size() == 0 {
			return fmt.Errorf("perf record wrote nothing: %v", err)
		}
		fmt.Printf("server profile in %s (perf report -i %s --no-children)\n", file, file)
		return nil
	}, nil
}

// histogram is tollgate_decision_duration_seconds summed over decisions:
// route → upper bound → cumulative count.
type histogram map[string]map[float64]float64

var bucketRe = regexp.MustCompile(`^tollgate_decision_duration_seconds_bucket\{(.*)\} (\S+)$`)
var labelRe = regexp.MustCompile(`(\w+)="([^"]*)"`)

func decisionHistogram(metrics func() (string, error)) (histogram, error) {
	m, err := metrics()
	if err != nil {
		return nil, err
	}
	h := histogram{}
	for _, line := range strings.Split(m, "\n") {
		b := bucketRe.FindStringSubmatch(line)
		if b == nil {
			continue
		}
		var route string
		le := -1.0
		for _, l := range labelRe.FindAllStringSubmatch(b[1], -1) {
			switch l[1] {
			case "route":
				route = l[2]
			case "le":
				if l[2] == "+Inf" {
					le = 1e9
				} else {
					le, _ = strconv.ParseFloat(l[2], 64)
				}
			}
		}
		n, _ := strconv.ParseFloat(b[2], 64)
		if h[route] == nil {
			h[route] = map[float64]float64{}
		}
		h[route][le] += n
	}
	return h, nil
}

// since describes, per route, the decisions recorded after before: their
// count, the share within 1 ms and 2 ms, and the bucket holding the 99th
// percentile.
func (h histogram) since(before histogram) string {
	var out []string
	for _, route := range slices.Sorted(maps.Keys(h)) {
		les := slices.Sorted(maps.Keys(h[route]))
		total := h[route][1e9] - before[route][1e9]
		if total <= 0 {
			continue
		}
		cum := func(le float64) float64 { return h[route][le] - before[route][le] }
		p99 := "> largest bucket"
		for _, le := range les {
			if cum(le) >= 0.99*total {
				p99 = fmt.Sprintf("≤ %g ms", le*1000)
				break
			}
		}
		out = append(out, fmt.Sprintf("/%s %.0f, ≤ 1 ms %.2f%%, ≤ 2 ms %.2f%%, p99 %s", route, total,
			100*cum(0.001)/total, 100*cum(0.002)/total, p99))
	}
	return strings.Join(out, "; ")
}
