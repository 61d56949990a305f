// Package redistest runs Debian's redis-server for tests of the shared scan
// cache: on a free loopback port, nothing written to disk, killed like a
// crash and started again on the same port.
package redistest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Server is a redis-server a test started on 127.0.0.1.
type Server struct {
	// Port is the port it listens on, the same after Restart.
	Port int
	tb   testing.TB
	bin  string
	args []string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts redis-server with extra flags; it is killed when the test
// ends. Without the binary the test skips, unless TOLLGATE_REQUIRE_E2E is
// set (CI), where it fails.
func Start(tb testing.TB, extra ...string) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "redis-server is not installed (scripts/test-deps.sh installs it)"
		if os.Getenv("TOLLGATE_REQUIRE_E2E") != "" {
			tb.Fatalf("%s (TOLLGATE_REQUIRE_E2E is set)", msg)
		}
		tb.Skip(msg)
	}
	s := &Server{tb: tb, bin: bin, Port: FreePort(tb), args: extra, dir: tb.TempDir()}
	s.Restart()
	tb.Cleanup(s.Kill)
	return s
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Addr is "127.0.0.1:PORT".
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// URL is the redis:// URL of database db.
func (s *Server) URL(db int) string { return "redis://" + s.Addr() + "/" + strconv.Itoa(db) }

// Restart starts the server (again, empty) on its port and waits until it
// accepts connections.
func (s *Server) Restart() {
	tb := s.tb
	tb.Helper()
	args := append([]string{"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log")}, s.args...)
	s.cmd = exec.Command(s.bin, args...)
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("starting redis-server: %v", err)
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redis-server did not listen on %s: %v", s.Addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops redis-server by its PID with SIGKILL: a crash, not a
// shutdown.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
	default:
		s.cmd.Process.Kill()
		<-s.done
	}
}
