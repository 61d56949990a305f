package kube

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHandler(t *testing.T) {
	s := newTestScanner(t, Options{})
	srv := httptest.NewServer(NewMux(NewHandler(s, HandlerOptions{MaxBodyBytes: 4096})))
	defer srv.Close()
	broken, err := os.ReadFile(filepath.Join("testdata", "edge", "broken-middle.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	deployment, err := os.ReadFile(filepath.Join("testdata", "kinds", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path string
		body               io.Reader
		wantCode           int
		wantType           string
		wantReports        int    // for 200 JSON replies
		wantText           string // substring of the body
	}{
		{"scan", "POST", "/scan", strings.NewReader(string(deployment)), 200, "application/json", 1, `"fileName": "API"`},
		{"scan at root", "POST", "/", strings.NewReader(string(deployment)), 200, "application/json", 1, `"score": -29`},
		{"PUT", "PUT", "/scan", strings.NewReader(string(deployment)), 200, "application/json", 1, ""},
		{"curl --data file=@x", "POST", "/scan", strings.NewReader("file=" + string(deployment)), 200, "application/json", 1, ""},
		{"bad document keeps the others", "POST", "/scan", strings.NewReader(string(broken)), 200, "application/json", 3, `"valid": false`},
		{"empty body", "POST", "/scan", strings.NewReader(""), 400, "application/json", 0, `"error":"empty body`},
		{"blank body", "POST", "/scan", strings.NewReader(" \n\n"), 400, "application/json", 0, `"error"`},
		{"no document", "POST", "/scan", strings.NewReader("# just a comment\n---\n"), 400, "application/json", 0, "no YAML or JSON document"},
		{"too large", "POST", "/scan", strings.NewReader(strings.Repeat("# x\n", 2000)), 413, "application/json", 0, "larger than 4096"},
		// a reader of unknown length is sent chunked: the limit must hold
		// while reading.
		{"too large without length", "POST", "/scan", io.MultiReader(strings.NewReader(strings.Repeat("# x\n", 2000))), 413, "application/json", 0, "larger than 4096"},
		{"usage", "GET", "/", nil, 200, "text/plain; charset=utf-8", 0, "POST"},
		{"usage at /scan", "GET", "/scan", nil, 200, "text/plain; charset=utf-8", 0, "curl"},
		{"method", "DELETE", "/scan", nil, 405, "application/json", 0, "not allowed"},
		{"healthz", "GET", "/healthz", nil, 200, "text/plain; charset=utf-8", 0, "ok"},
		{"other path", "POST", "/other", strings.NewReader(string(deployment)), 404, "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantCode, body)
			}
			if tt.wantType != "" && resp.Header.Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.wantType)
			}
			if !strings.Contains(string(body), tt.wantText) {
				t.Errorf("body lacks %q:\n%s", tt.wantText, body)
			}
			switch {
			case tt.wantReports > 0:
				var reports []map[string]any
				if err := json.Unmarshal(body, &reports); err != nil {
					t.Fatalf("reply is not a JSON array: %v\n%s", err, body)
				}
				if len(reports) != tt.wantReports {
					t.Errorf("%d reports, want %d", len(reports), tt.wantReports)
				}
			case tt.wantType == "application/json":
				var e struct{ Error string }
				if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
					t.Errorf("want a JSON error, got %s (%v)", body, err)
				}
			}
		})
	}
}

// TestHandlerMatchesCLIOutput: the HTTP reply is the CLI's JSON with
// fileName "API".
func TestHandlerMatchesCLIOutput(t *testing.T) {
	s := newTestScanner(t, Options{})
	data, err := os.ReadFile(filepath.Join("testdata", "edge", "list.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	NewHandler(s, HandlerOptions{}).ServeHTTP(rec, httptest.NewRequest("POST", "/scan", strings.NewReader(string(data))))
	var want strings.Builder
	if err := WriteJSON(&want, s.Scan(data, "API")); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 200 || rec.Body.String() != want.String() {
		t.Errorf("status %d body:\n%s\nwant:\n%s", rec.Code, rec.Body, want.String())
	}
}

// TestServeGracefulShutdown: cancelling the context stops the server only
// after the request in flight is answered.
func TestServeGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, slow) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-started
	cancel()
	if r := <-got; r.err != nil || r.body != "done" {
		t.Fatalf("in-flight request: %q, %v", r.body, r.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

func TestListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		"": "127.0.0.1:8080", "9000": "127.0.0.1:9000", ":9000": ":9000", "0.0.0.0:1": "0.0.0.0:1", "[::1]:2": "[::1]:2",
	} {
		if got := ListenAddr(in); got != want {
			t.Errorf("ListenAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
