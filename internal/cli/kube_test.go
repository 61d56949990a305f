package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/servertest"
)

// TestKubeHTTP runs `tollgate kube http` on a free loopback port, scans a
// manifest over real HTTP, then stops it with SIGTERM, as a service
// manager would.
func TestKubeHTTP(t *testing.T) {
	pr, pw := io.Pipe()
	var stderr servertest.SyncBuffer
	done := make(chan int, 1)
	// Signals reach commands through the context, as main sets it up.
	ctx, stop := SignalContext(context.Background(), func(int) {})
	defer stop()
	go func() {
		done <- Run(ctx, []string{"kube", "http", "--max-body-bytes", "1000", "127.0.0.1:0"},
			strings.NewReader(""), io.Discard, pw)
		pw.Close()
	}()
	first, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the listening line: %v", err)
	}
	stderr.Write([]byte(first))
	copied := make(chan struct{})
	go func() { io.Copy(&stderr, pr); close(copied) }()
	addr, ok := strings.CutPrefix(strings.TrimSpace(first), "tollgate kube http: listening on ")
	if !ok {
		t.Fatalf("unexpected first line %q", first)
	}

	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n  containers: [{name: c, image: i}]\n"
	resp, err := http.Post(addr+"/scan", "application/yaml", strings.NewReader(pod))
	if err != nil {
		t.Fatal(err)
	}
	var reports []struct {
		Object   string
		FileName string
		Score    int
	}
	if err := json.NewDecoder(resp.Body).Decode(&reports); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, decoding: %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if len(reports) != 1 || reports[0].Object != "Pod/p.default" || reports[0].FileName != "API" || reports[0].Score != -9 {
		t.Errorf("reports %+v", reports)
	}
	resp, err = http.Post(addr+"/scan", "application/yaml", strings.NewReader(strings.Repeat("#", 2000)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("--max-body-bytes 1000, 2000-byte body: status %d, want 413", resp.StatusCode)
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit code %d after SIGTERM, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("kube http did not stop on SIGTERM")
	}
	<-copied
	if !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	if _, err := http.Get(addr + "/"); err == nil {
		t.Error("server still answering after SIGTERM")
	}
}

func TestKubeHTTPBadAddress(t *testing.T) {
	var stderr bytes.Buffer
	code := Run(context.Background(), []string{"kube", "http", "256.1.1.1:99999"}, strings.NewReader(""), io.Discard, &stderr)
	if code != ExitUsage || !strings.Contains(stderr.String(), "listening") {
		t.Errorf("code %d, stderr %q", code, stderr.String())
	}
}
