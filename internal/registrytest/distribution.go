package registrytest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Distribution is a running docker-registry (Debian's package of the CNCF
// distribution registry, 2.8: no referrers API).
type Distribution struct {
	// Addr is "127.0.0.1:PORT".
	Addr string
}

// StartDistribution starts docker-registry on a free loopback port with its
// storage in a temp directory; it stops when the test ends. Without the
// binary the test skips, unless TOLLGATE_REQUIRE_E2E=1 (CI), where it fails.
func StartDistribution(tb testing.TB) *Distribution {
	tb.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		if os.Getenv("TOLLGATE_REQUIRE_E2E") == "1" {
			tb.Fatalf("docker-registry not found and TOLLGATE_REQUIRE_E2E=1: install the Debian package docker-registry")
		}
		tb.Skip("docker-registry not found: install the Debian package docker-registry to run this end-to-end test")
	}
	dir := tb.TempDir()
	for attempt := 0; attempt < 3; attempt++ {
		addr := freeLoopbackAddr(tb)
		secret := make([]byte, 16)
		rand.Read(secret)
		cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: %s
`, filepath.Join(dir, "storage"), addr, hex.EncodeToString(secret))
		cfgPath := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			tb.Fatal(err)
		}
		var logs bytes.Buffer // read only after the process has exited
		cmd := exec.Command(bin, "serve", cfgPath)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			tb.Fatalf("starting docker-registry: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		stop := func() {
			cmd.Process.Kill()
			<-exited
		}
		if waitForRegistry(addr, exited) {
			tb.Cleanup(stop)
			return &Distribution{Addr: addr}
		}
		stop()
		tb.Logf("docker-registry on %s did not come up (attempt %d):\n%s", addr, attempt+1, logs.String())
	}
	tb.Fatal("docker-registry did not start")
	return nil
}

func freeLoopbackAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitForRegistry polls /v2/ until the registry answers, it exits, or 15 s pass.
func waitForRegistry(addr string, exited <-chan struct{}) bool {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}
