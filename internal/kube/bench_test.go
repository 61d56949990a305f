package kube

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time (user and system) the process has used, which
// other jobs on the machine do not inflate the way they do wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU microseconds per operation to a benchmark.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e3, "cpu-µs/op")
}

// benchDeployment is our own 21-line Deployment with a privileged
// container (so the line of a finding is looked up too).
func benchDeployment(b *testing.B) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "kinds", "deployment.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkScanDeployment(b *testing.B) {
	s := newTestScanner(b, Options{})
	data := benchDeployment(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if rs := s.Scan(data, "b.yaml"); len(rs) != 1 {
			b.Fatal(len(rs))
		}
	}
	reportCPU(b, start)
}

func BenchmarkScanDeploymentJSON(b *testing.B) {
	s := newTestScanner(b, Options{})
	data := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i","securityContext":{"runAsNonRoot":true}}]}}}}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if rs := s.Scan(data, "API"); len(rs) != 1 {
			b.Fatal(len(rs))
		}
	}
	reportCPU(b, start)
}

func BenchmarkHandler(b *testing.B) {
	s := newTestScanner(b, Options{})
	h := NewHandler(s, HandlerOptions{})
	data := benchDeployment(b)
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/scan", bytes.NewReader(data)))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
	reportCPU(b, start)
}
