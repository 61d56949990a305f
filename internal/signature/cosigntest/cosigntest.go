// Package cosigntest runs the real cosign CLIs (v2.6.5 and v3.1.3, built by
// test/tools/cosign/build.sh and cached by version) in tests: key pairs,
// signatures and attestations made exactly as a CI pipeline makes them,
// fully offline. Without the binaries a test skips, unless
// TOLLGATE_REQUIRE_E2E=1 (CI), where it fails.
package cosigntest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// EnvDir names the directory holding cosign2 and cosign3; `make test` sets
// it. Without it the directory is asked of test/tools/cosign/build.sh.
const EnvDir = "TOLLGATE_COSIGN_DIR"

// Password protects the key pairs made here.
const Password = "tollgate-test"

// Cosign is one cosign CLI.
type Cosign struct {
	Bin string
	// Major is 2 or 3.
	Major int
	home  string
}

// V2 returns cosign v2.6.5 (legacy .sig/.att tags).
func V2(tb testing.TB) *Cosign { return find(tb, 2) }

// V3 returns cosign v3.1.3 (Sigstore bundles as OCI referrers).
func V3(tb testing.TB) *Cosign { return find(tb, 3) }

func find(tb testing.TB, major int) *Cosign {
	tb.Helper()
	dir := os.Getenv(EnvDir)
	if dir == "" {
		dir = printDir()
	}
	bin := filepath.Join(dir, "cosign"+string(rune('0'+major)))
	_, errStamp := os.Stat(filepath.Join(dir, ".complete"))
	fi, errBin := os.Stat(bin)
	if dir == "" || errStamp != nil || errBin != nil || fi.Mode()&0o111 == 0 {
		msg := "cosign " + string(rune('0'+major)) + " not built (looked in " + orUnknown(dir) + "): run test/tools/cosign/build.sh (make test does)"
		if os.Getenv("TOLLGATE_REQUIRE_E2E") == "1" {
			tb.Fatalf("%s; TOLLGATE_REQUIRE_E2E=1", msg)
		}
		tb.Skip(msg)
	}
	return &Cosign{Bin: bin, Major: major, home: tb.TempDir()}
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown directory"
	}
	return s
}

// printDir asks build.sh, found by walking up from the working directory,
// where the binaries live.
func printDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		script := filepath.Join(dir, "test", "tools", "cosign", "build.sh")
		if _, err := os.Stat(script); err == nil {
			out, err := exec.Command(script, "--print").Output()
			if err != nil {
				return ""
			}
			return strings.TrimSpace(string(out))
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}

// Offline are the flags that make `cosign sign` and `cosign attest` sign
// with the key alone: no signing config from the public TUF root, no
// upload to Rekor, no timestamp authority.
func (c *Cosign) Offline() []string {
	if c.Major >= 3 {
		return []string{"--use-signing-config=false", "--tlog-upload=false"}
	}
	return []string{"--tlog-upload=false"}
}

// Run runs cosign with args and returns its combined output; the test
// fails when cosign does. Every connection but to loopback goes to a dead
// proxy, so a test that passes proves the signing was offline.
func (c *Cosign) Run(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := c.Try(args...)
	if err != nil {
		tb.Fatalf("cosign%d %s: %v\n%s", c.Major, strings.Join(args, " "), err, out)
	}
	return out
}

// Try runs cosign and returns its output and error.
func (c *Cosign) Try(args ...string) (string, error) {
	cmd := exec.Command(c.Bin, args...)
	cmd.Dir = c.home
	cmd.Env = append(os.Environ(),
		"HOME="+c.home,
		"TUF_ROOT="+filepath.Join(c.home, "tuf"),
		"COSIGN_PASSWORD="+Password,
		"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"SIGSTORE_NO_CACHE=true",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// GenerateKeyPair makes cosign.key and cosign.pub in dir and returns their
// paths.
func (c *Cosign) GenerateKeyPair(tb testing.TB, dir string) (priv, pub string) {
	tb.Helper()
	cmd := exec.Command(c.Bin, "generate-key-pair")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+c.home, "COSIGN_PASSWORD="+Password)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("cosign%d generate-key-pair: %v\n%s", c.Major, err, out)
	}
	return filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
}

// Sign signs ref (best given by digest) with the key, offline; extra are
// more flags (-a k=v).
func (c *Cosign) Sign(tb testing.TB, key, ref string, extra ...string) {
	tb.Helper()
	args := append([]string{"sign", "--yes", "--key", key}, c.Offline()...)
	args = append(args, extra...)
	c.Run(tb, append(args, ref)...)
}

// Attest attaches an attestation of predicate (a file) of type typ
// (cyclonedx, vuln, …) to ref, signed with the key, offline.
func (c *Cosign) Attest(tb testing.TB, key, ref, typ, predicate string) {
	tb.Helper()
	args := append([]string{"attest", "--yes", "--key", key, "--type", typ, "--predicate", predicate}, c.Offline()...)
	c.Run(tb, append(args, ref)...)
}
