package kube

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// benchDeployment is our own 27-line Deployment, the size of the
// guestbook redis-master Deployment used for the HTTP load benchmark.
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
	for b.Loop() {
		if rs := s.Scan(data, "b.yaml"); len(rs) != 1 {
			b.Fatal(len(rs))
		}
	}
}

func BenchmarkScanDeploymentJSON(b *testing.B) {
	s := newTestScanner(b, Options{})
	data := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i","securityContext":{"runAsNonRoot":true}}]}}}}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if rs := s.Scan(data, "API"); len(rs) != 1 {
			b.Fatal(len(rs))
		}
	}
}

func BenchmarkHandler(b *testing.B) {
	s := newTestScanner(b, Options{})
	h := NewHandler(s, HandlerOptions{})
	data := benchDeployment(b)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/scan", bytes.NewReader(data)))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
