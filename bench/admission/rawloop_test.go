package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRawLoop runs the raw client, over HTTP/1.1 and HTTP/2, against a
// TLS server of net/http: every slot is answered and checked, and an
// answer without the wanted fragment counts as an error (with the slots
// its sender then leaves unsent).
func TestRawLoop(t *testing.T) {
	var served atomic.Int64
	var protos sync.Map
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		protos.Store(r.Proto, true)
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		io.WriteString(w, `{"route":"`+r.URL.Path+`","got":`+string(body)+`}`)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	cfg := &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	addr := strings.TrimPrefix(srv.URL, "https://")

	for _, c := range []struct {
		proto string
		dial  func(targets []target) (sender, error)
	}{
		{"HTTP/1.1", func(tg []target) (sender, error) { return newH1Sender(addr, cfg, tg) }},
		{"HTTP/2.0", func(tg []target) (sender, error) { return newH2Sender(addr, cfg, tg) }},
	} {
		t.Run(c.proto, func(t *testing.T) {
			served.Store(0)
			protos.Clear()
			targets := []target{
				{route: "validate", body: []byte(`{"n":1}`), want: `"route":"/validate","got":{"n":1}`},
				{route: "image_policy", body: []byte(`{"n":2}`), want: `"route":"/image_policy","got":{"n":2}`},
			}
			senders := make([]sender, 3)
			for i := range senders {
				s, err := c.dial(targets)
				if err != nil {
					t.Fatal(err)
				}
				defer s.close()
				senders[i] = s
			}
			res := rawLoop(senders, targets, 500, 200*time.Millisecond)
			if res.errors != 0 || res.firstErr != "" {
				t.Fatalf("errors %d: %s", res.errors, res.firstErr)
			}
			if n := len(res.lat[0]) + len(res.lat[1]); n != 100 || len(res.lat[0]) != 50 || int(served.Load()) != 100 {
				t.Errorf("answers %d (%d, %d), served %d; want 100, 50 a route", n, len(res.lat[0]), len(res.lat[1]), served.Load())
			}
			for i, l := range res.pickup {
				if l < 0 || res.service[i] <= 0 {
					t.Fatalf("slot %d: pickup %v, from send %v", i, l, res.service[i])
				}
			}
			if _, ok := protos.Load(c.proto); !ok {
				t.Errorf("the server saw no %s request", c.proto)
			}

			// A wrong answer stops its sender: 1 failed + the slots it never sent.
			bad := []target{{route: "validate", body: []byte(`{}`), want: "never in the answer"}}
			s, err := c.dial(bad)
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()
			res = rawLoop([]sender{s}, bad, 500, 20*time.Millisecond)
			if res.errors != 10 || !strings.Contains(res.firstErr, "/validate: status 200") {
				t.Errorf("errors %d (%s), want all 10 slots failed or unsent", res.errors, res.firstErr)
			}
		})
	}
}
