package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/servertest"
)

// tollgateBinary returns the path of this test binary under the name
// "tollgate": run so, TestMain runs the real main (signals included).
// TOLLGATE_BIN names a built binary to test instead.
func tollgateBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("TOLLGATE_BIN"); bin != "" {
		return bin
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "tollgate")
	if err := os.Symlink(self, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// proc is a tollgate process under test.
type proc struct {
	cmd    *exec.Cmd
	stderr *servertest.SyncBuffer
	done   chan struct{}
}

// waitBlocked waits until the process is where the test wants to
// interrupt it: a thread blocked in read(2) or openat(2) (/proc/PID/task/
// TID/syscall), the FIFO "quiet" open, or, with busy, at least 300 ms of CPU time spent (scanning
// a large input). Signals sent earlier would hit the runtime's start-up,
// not tollgate.
func (p *proc) waitBlocked(t *testing.T, busy bool) {
	t.Helper()
	pid := p.cmd.Process.Pid
	for range 500 {
		if busy {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
				f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
				u, _ := strconv.Atoi(f[11])
				s, _ := strconv.Atoi(f[12])
				if u+s >= 30 { // clock ticks of 10 ms
					return
				}
			}
		} else {
			// A FIFO that is open is read through the poller, not read(2).
			fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
			for _, fd := range fds {
				if target, _ := os.Readlink(fd); strings.HasSuffix(target, "/quiet") {
					time.Sleep(200 * time.Millisecond)
					return
				}
			}
			tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/syscall", pid))
			for _, task := range tasks {
				b, _ := os.ReadFile(task)
				if nr, _, _ := strings.Cut(string(b), " "); nr == "0" || nr == "257" {
					return
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the process never blocked or got busy; stderr:\n%s", p.stderr)
}

func start(t *testing.T, dir string, stdin io.Reader, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(tollgateBinary(t), args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	stderr := &servertest.SyncBuffer{}
	cmd.Stdout = io.Discard
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: stderr, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// stopWithin sends sig and returns the exit code and how long the process
// took to exit. The target is one second; the test fails only
// past a generous bound (the machine may be loaded), and logs the figure.
func (p *proc) stopWithin(t *testing.T, sig syscall.Signal) (int, time.Duration) {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("exited before the signal (code %d): %s", p.cmd.ProcessState.ExitCode(), p.stderr)
	default:
	}
	sent := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("still running 5 s after %v; stderr:\n%s", sig, p.stderr)
	}
	took := time.Since(sent)
	t.Logf("%v → exit %d after %v", sig, p.cmd.ProcessState.ExitCode(), took.Round(time.Millisecond))
	return p.cmd.ProcessState.ExitCode(), took
}

// TestSignalsStopCommands: a command blocked on stdin, a FIFO without a
// writer, a FIFO whose writer went quiet or a large input stops at the
// first SIGINT (130) or SIGTERM (143), without "context canceled".
func TestSignalsStopCommands(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	quiet := filepath.Join(dir, "quiet")
	if err := syscall.Mkfifo(quiet, 0o600); err != nil {
		t.Fatal(err)
	}
	var big strings.Builder
	for i := range 60000 {
		fmt.Fprintf(&big, "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p%d}\nspec:\n  containers: [{name: c, image: i:1, securityContext: {privileged: true}}]\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.yaml"), []byte(big.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	// A registry that accepts connections and never answers, for
	// kube scan --check-images (imageChecks need no advisory DB).
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var asked atomic.Int32
	go func() {
		var held []net.Conn
		for {
			c, err := silent.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
			asked.Add(1)
		}
	}()
	for name, body := range map[string]string{
		"images.yaml": "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n  imageChecks: {}\n",
		"silent.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: \"" + silent.Addr().String() + "/app:1\"}]\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		args  []string
		stdin bool // a pipe held open without data
		quiet bool // a writer of "quiet" that wrote a little and holds it open
		busy  bool // interrupt while it computes, not while it waits
		// asked: interrupt once the silent registry has a connection
		asked bool
		sig   syscall.Signal
	}{
		{name: "kube scan stdin SIGINT", args: []string{"kube", "scan", "-"}, stdin: true, sig: syscall.SIGINT},
		{name: "kube scan stdin SIGTERM", args: []string{"kube", "scan", "-"}, stdin: true, sig: syscall.SIGTERM},
		{name: "dockerfile lint stdin", args: []string{"dockerfile", "lint", "-"}, stdin: true, sig: syscall.SIGTERM},
		{name: "policy test stdin", args: []string{"policy", "test", "default", "-"}, stdin: true, sig: syscall.SIGINT},
		{name: "kube scan FIFO without writer", args: []string{"kube", "scan", "fifo"}, sig: syscall.SIGINT},
		{name: "dockerfile lint FIFO without writer", args: []string{"dockerfile", "lint", "fifo"}, sig: syscall.SIGTERM},
		{name: "kube scan quiet FIFO", args: []string{"kube", "scan", "quiet"}, quiet: true, sig: syscall.SIGTERM},
		{name: "kube scan -o and a FIFO", args: []string{"kube", "scan", "-o", "report.json", "fifo"}, sig: syscall.SIGINT},
		{name: "kube scan large file", args: []string{"kube", "scan", "-f", "table", "big.yaml", "big.yaml", "big.yaml", "big.yaml"}, busy: true, sig: syscall.SIGINT},
		{name: "kube scan --check-images, registry silent", args: []string{"kube", "scan", "--policy", "images.yaml", "--check-images", "--cache-dir", "cache", "-o", "report.json", "silent.yaml"}, asked: true, sig: syscall.SIGINT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdin io.Reader = strings.NewReader("")
			if tt.stdin {
				pr, pw, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer pw.Close()
				defer pr.Close()
				stdin = pr
			}
			if tt.quiet {
				go func() {
					w, err := os.OpenFile(quiet, os.O_WRONLY, 0)
					if err != nil {
						return
					}
					defer w.Close()
					io.WriteString(w, "apiVersion: v1\nkind: Pod\n")
					time.Sleep(8 * time.Second)
				}()
			}
			p := start(t, dir, stdin, tt.args...)
			if tt.asked {
				for deadline := time.Now().Add(10 * time.Second); asked.Load() == 0; time.Sleep(20 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("the registry was never asked; stderr:\n%s", p.stderr)
					}
				}
			} else {
				p.waitBlocked(t, tt.busy)
			}
			code, _ := p.stopWithin(t, tt.sig)
			if want := 128 + int(tt.sig); code != want {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, want, p.stderr)
			}
			if strings.Contains(p.stderr.String(), "context canceled") {
				t.Errorf("stderr shows Go's context error:\n%s", p.stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "report.json")); err == nil {
				t.Error("an interrupted run wrote report.json")
			}
		})
	}
}

// listening waits for the "listening on URL" line and returns the address.
func listening(t *testing.T, p *proc) string {
	t.Helper()
	re := regexp.MustCompile(`listening on https?://(\S+)`)
	for range 200 {
		if m := re.FindStringSubmatch(p.stderr.String()); m != nil {
			return m[1]
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("no listening line; stderr:\n%s", p.stderr)
	return ""
}

// holdRequest starts a request that never finishes its body, so the
// server has one in flight.
func holdRequest(t *testing.T, addr string, tlsConn bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if tlsConn {
		return // a TLS handshake never started keeps the connection new, not active
	}
	fmt.Fprintf(c, "POST /scan HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nkind: Pod\n")
	time.Sleep(200 * time.Millisecond)
}

// TestSignalsServers: a server drains on the first signal and exits 0;
// with a request that does not finish, a second signal exits at once with
// the signal's code.
func TestSignalsServers(t *testing.T) {
	t.Run("kube http drains", func(t *testing.T) {
		p := start(t, t.TempDir(), nil, "kube", "http", "127.0.0.1:0")
		listening(t, p)
		if code, _ := p.stopWithin(t, syscall.SIGTERM); code != 0 {
			t.Errorf("exit %d after a clean drain, want 0; stderr:\n%s", code, p.stderr)
		}
	})
	t.Run("kube http second signal", func(t *testing.T) {
		p := start(t, t.TempDir(), nil, "kube", "http", "127.0.0.1:0")
		holdRequest(t, listening(t, p), false)
		p.cmd.Process.Signal(syscall.SIGTERM)
		time.Sleep(500 * time.Millisecond)
		select {
		case <-p.done:
			t.Fatalf("exited on the first signal with a request in flight: %s", p.stderr)
		default:
		}
		if code, _ := p.stopWithin(t, syscall.SIGINT); code != 130 {
			t.Errorf("exit %d on the second signal, want 130; stderr:\n%s", code, p.stderr)
		}
	})
	t.Run("serve drains", func(t *testing.T) {
		dir := t.TempDir()
		certs := exec.Command(tollgateBinary(t), "certs", "--dir", dir, "--hosts", "127.0.0.1")
		if out, err := certs.CombinedOutput(); err != nil {
			t.Fatalf("certs: %v\n%s", err, out)
		}
		p := start(t, dir, nil, "serve", "--addr", "127.0.0.1:0", "--tls-cert", "webhook.pem", "--tls-key", "webhook-key.pem")
		listening(t, p)
		if code, _ := p.stopWithin(t, syscall.SIGINT); code != 0 {
			t.Errorf("exit %d after a clean drain, want 0; stderr:\n%s", code, p.stderr)
		}
		if strings.Contains(p.stderr.String(), "context canceled") {
			t.Errorf("stderr:\n%s", p.stderr)
		}
	})
}
