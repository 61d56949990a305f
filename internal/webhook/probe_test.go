package webhook

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		w.Write([]byte("not ready\n"))
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	for _, tc := range []struct {
		name    string
		status  int
		o       ProbeOptions
		wantErr string
	}{
		{"verified against the CA", 200, ProbeOptions{URL: srv.URL + "/healthz", CAFile: ca}, ""},
		{"insecure skips verification", 200, ProbeOptions{URL: srv.URL + "/healthz", InsecureSkipVerify: true}, ""},
		{"unknown authority", 200, ProbeOptions{URL: srv.URL + "/healthz"}, "certificate signed by unknown authority"},
		{"not 200", 503, ProbeOptions{URL: srv.URL + "/healthz", CAFile: ca}, "answered 503 Service Unavailable: not ready"},
		{"wrong path", 200, ProbeOptions{URL: srv.URL + "/nope", CAFile: ca}, "answered 404"},
		{"nothing listening", 200, ProbeOptions{URL: closedURL + "/healthz"}, "connection refused"},
		{"bad URL", 200, ProbeOptions{URL: "127.0.0.1:8443"}, `want http(s)://HOST:PORT/PATH`},
		{"CA not PEM", 200, ProbeOptions{URL: srv.URL + "/healthz", CAFile: "probe.go"}, "holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status = tc.status
			err := Probe(context.Background(), tc.o)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Probe: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Probe error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestProbeTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	err := Probe(context.Background(), ProbeOptions{URL: srv.URL + "/healthz", InsecureSkipVerify: true, Timeout: 100 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "did not answer within 100ms") {
		t.Fatalf("Probe error = %v, want a timeout", err)
	}
}
