package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cosignPassword protects the key pairs the tests make.
const cosignPassword = "tollgate-e2e"

// cosignCLI is one of the real cosign CLIs test/tools/cosign/build.sh
// builds (cosign2 = v2.6.5, cosign3 = v3.1.3).
type cosignCLI struct {
	bin   string
	major int
	home  string
}

// cosignDir is $TOLLGATE_COSIGN_DIR (make test-e2e sets it), else the
// directory test/tools/cosign/build.sh reports.
func cosignDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("TOLLGATE_COSIGN_DIR"); dir != "" {
		return dir
	}
	out, err := exec.Command("bash", filepath.Join("..", "tools", "cosign", "build.sh"), "--print").Output()
	if err != nil {
		t.Fatalf("test/tools/cosign/build.sh --print: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// findCosign returns cosign of the given major version (2 or 3); without
// it the test skips, or fails under TOLLGATE_REQUIRE_E2E.
func findCosign(t *testing.T, major int) *cosignCLI {
	t.Helper()
	dir := cosignDir(t)
	bin := filepath.Join(dir, "cosign"+string(rune('0'+major)))
	_, errStamp := os.Stat(filepath.Join(dir, ".complete"))
	fi, errBin := os.Stat(bin)
	if errStamp != nil || errBin != nil || fi.Mode()&0o111 == 0 {
		requireE2E(t, "cosign %d not built in %s: run `make cosign-tools` (test/tools/cosign/build.sh)", major, dir)
	}
	return &cosignCLI{bin: bin, major: major, home: t.TempDir()}
}

// run runs cosign offline: its home and TUF root in a temp directory and
// every connection but to loopback sent to a dead proxy, so a signature
// that is made proves no public service was asked.
func (c *cosignCLI) run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOME="+c.home, "TUF_ROOT="+filepath.Join(c.home, "tuf"), "SIGSTORE_NO_CACHE=true",
		"COSIGN_PASSWORD="+cosignPassword,
		"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cosign%d %s: %v\n%s", c.major, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// generateKeyPair writes cosign.key and cosign.pub into dir and returns
// their paths.
func (c *cosignCLI) generateKeyPair(t *testing.T, dir string) (priv, pub string) {
	t.Helper()
	c.run(t, dir, "generate-key-pair")
	return filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
}

// sign signs ref (IMAGE@DIGEST) with key, offline: no transparency log
// upload, and for cosign 3 no signing config from the public TUF root.
func (c *cosignCLI) sign(t *testing.T, key, ref string) {
	t.Helper()
	args := []string{"sign", "--yes", "--key", key, "--tlog-upload=false"}
	if c.major >= 3 {
		args = append(args, "--use-signing-config=false")
	}
	c.run(t, c.home, append(args, ref)...)
}
