// Package servertest holds helpers for tests of tollgate's HTTP servers.
package servertest

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// CutBodyReply serves h with a short read timeout, sends head (a request
// line and headers announcing more body than follows) and part of a body,
// never the rest, and returns the raw reply. It fails the test unless the
// reply is a 400 without the connection's socket addresses.
func CutBodyReply(t *testing.T, h http.Handler, head string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, head)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	reply := string(b)
	if !strings.Contains(reply, "400 Bad Request") {
		t.Fatalf("reply is not a 400:\n%s", reply)
	}
	if strings.Contains(reply, "127.0.0.1") {
		t.Errorf("socket address in the reply:\n%s", reply)
	}
	return reply
}

// SyncBuffer collects a process's or server's output while the test reads
// it: a bytes.Buffer safe for one writer and concurrent readers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
