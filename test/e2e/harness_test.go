package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// requireE2E fails the test when TOLLGATE_REQUIRE_E2E is set (CI), else
// skips it, with the reason.
func requireE2E(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("TOLLGATE_REQUIRE_E2E") != "" {
		t.Fatalf("%s (TOLLGATE_REQUIRE_E2E is set)", msg)
	}
	t.Skip(msg)
}

// controlPlaneDir finds the binaries tools/build.sh built: $TOLLGATE_K8S_DIR,
// else the directory build.sh reports.
func controlPlaneDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TOLLGATE_K8S_DIR")
	if dir == "" {
		out, err := exec.Command("bash", "tools/build.sh", "--print").Output()
		if err != nil {
			t.Fatalf("tools/build.sh --print: %v", err)
		}
		dir = strings.TrimSpace(string(out))
	}
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
		requireE2E(t, "control plane not built in %s: run `make e2e-tools` (or test/e2e/tools/build.sh)", dir)
	}
	return dir
}

// tollgateBinary is $TOLLGATE_BIN, or tollgate built from the repository.
func tollgateBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("TOLLGATE_BIN"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	out := filepath.Join(t.TempDir(), "tollgate")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = filepath.Join("..", "..")
	// Static, as make build makes it: the image test runs it on an empty base.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building tollgate: %v\n%s", err, b)
	}
	return out
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proc is a process the test started; it is stopped by its PID.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

func startProc(t *testing.T, logDir, name, bin string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(logDir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		f.Close()
		close(p.exited)
	}()
	t.Logf("started %s (pid %d)", name, cmd.Process.Pid)
	return p
}

func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM to the process's PID, waits up to grace, then sends
// SIGKILL. It reports whether the process ended on SIGTERM and its exit error.
func (p *proc) stop(t *testing.T, grace time.Duration) (bool, error) {
	t.Helper()
	if !p.running() {
		return true, p.waitErr
	}
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Logf("SIGTERM %s: %v", p.name, err)
	}
	select {
	case <-p.exited:
		t.Logf("stopped %s (pid %d) in %.2fs", p.name, p.cmd.Process.Pid, time.Since(start).Seconds())
		return true, p.waitErr
	case <-time.After(grace):
	}
	t.Logf("%s (pid %d) did not stop within %v: SIGKILL", p.name, p.cmd.Process.Pid, grace)
	p.cmd.Process.Kill()
	<-p.exited
	return false, p.waitErr
}

// tail returns the last n lines of the process's log.
func (p *proc) tail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// run runs a command and returns its stdout and stderr.
func run(timeout time.Duration, bin string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// eventually polls ok every interval until it returns true or timeout
// passes; it returns the last detail ok gave.
func eventually(timeout, interval time.Duration, ok func() (bool, string)) (bool, string) {
	deadline := time.Now().Add(timeout)
	for {
		done, detail := ok()
		if done {
			return true, detail
		}
		if time.Now().After(deadline) {
			return false, detail
		}
		time.Sleep(interval)
	}
}
