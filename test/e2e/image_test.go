package e2e

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// maxImageGzipBytes is the target for tollgate's image: 25 MB of
// gzip-compressed layers (what a registry stores and a node pulls).
const maxImageGzipBytes = 25 << 20

// TestImage builds tollgate's image from the repository's Dockerfile with
// buildah (build/image.sh, the script behind make image) in a throwaway
// store, checks its configuration (numeric non-root user, exec-form
// HEALTHCHECK, OCI labels), runs tollgate in it as that user and measures
// its compressed size, and scans it with itself against the shared OSV
// data: no vulnerability, no secret, no hygiene finding.
func TestImage(t *testing.T) {
	if _, err := exec.LookPath("buildah"); err != nil {
		requireE2E(t, "buildah is not installed (scripts/test-deps.sh installs it)")
	}
	bin := tollgateBinary(t)
	work := t.TempDir()
	store := filepath.Join(work, "store")
	tarPath := filepath.Join(work, "tollgate-image.tar")
	const imageName = "localhost/tollgate-e2e:test"
	t.Cleanup(func() {
		// The vfs store holds root-owned files; let buildah remove them.
		exec.Command("buildah", "--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"),
			"--storage-driver", "vfs", "rm", "--all").Run()
	})

	cmd := exec.Command("bash", filepath.Join("..", "..", "build", "image.sh"), bin, tarPath, imageName)
	cmd.Env = append(os.Environ(), "BUILDAH_ROOT="+store, "VERSION=e2e", "REVISION=0123abcd")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		if strings.Contains(string(out), "operation not permitted") || os.Geteuid() != 0 {
			requireE2E(t, "buildah cannot build here (needs root): %v\n%s", err, out)
		}
		t.Fatalf("build/image.sh: %v\n%s", err, out)
	}
	t.Logf("image built in %.1fs", time.Since(start).Seconds())

	cfg, layers := readDockerArchive(t, tarPath)
	if cfg.Config.User != "65532:65532" {
		t.Errorf("USER = %q, want the numeric non-root 65532:65532", cfg.Config.User)
	}
	wantHealth := []string{"CMD", "/usr/local/bin/tollgate", "health", "--url", "https://127.0.0.1:8443/healthz", "--insecure-skip-verify"}
	if strings.Join(cfg.Config.Healthcheck.Test, " ") != strings.Join(wantHealth, " ") {
		t.Errorf("HEALTHCHECK = %q, want exec form %q", cfg.Config.Healthcheck.Test, wantHealth)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.source":   "https://github.com/tollgate-dev/tollgate",
		"org.opencontainers.image.version":  "e2e",
		"org.opencontainers.image.revision": "0123abcd",
		"org.opencontainers.image.licenses": "NOASSERTION",
	} {
		if got := cfg.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}

	// What the layers hold: exactly the binary, the CA bundle and the
	// account files; no shell.
	files, gz := layerFiles(t, tarPath, layers)
	for _, f := range []string{"usr/local/bin/tollgate", "etc/ssl/certs/ca-certificates.crt", "etc/passwd", "etc/group"} {
		if _, ok := files[f]; !ok {
			t.Errorf("image lacks %s (files: %v)", f, keys(files))
		}
	}
	for f := range files {
		if strings.HasSuffix(f, "/sh") || strings.HasPrefix(f, "bin/") {
			t.Errorf("image holds %s: no shell wanted", f)
		}
	}
	if !strings.Contains(files["etc/passwd"], "tollgate:x:65532:65532:") {
		t.Errorf("/etc/passwd has no entry for uid 65532:\n%s", files["etc/passwd"])
	}
	t.Logf("image: %d layer(s), %d bytes gzip-compressed (%.1f MB)", len(layers), gz, float64(gz)/(1<<20))
	if gz > maxImageGzipBytes {
		t.Errorf("image is %d bytes gzip-compressed, over the %d target", gz, maxImageGzipBytes)
	}

	t.Run("scans clean", func(t *testing.T) { scanOwnImage(t, bin, tarPath) })

	// Run it, as the image's user.
	b := buildahStore{root: store}
	ctr := b.must(t, "from", "--pull-never", imageName)
	out := b.must(t, "run", "--isolation=chroot", ctr, "--", "/usr/local/bin/tollgate", "version")
	host, _, err := run(30*time.Second, bin, "version")
	if err != nil || out != strings.TrimSpace(host) {
		t.Errorf("tollgate version in the image = %q, on the host %q (%v)", out, host, err)
	}
	// Non-root for real: the image's user cannot create a directory in
	// the root-owned /etc, which root could.
	_, errOut, err := b.run("run", "--isolation=chroot", ctr, "--", "/usr/local/bin/tollgate", "certs", "--dir", "/etc/probe", "--hosts", "x")
	if err == nil || !strings.Contains(errOut, "permission denied") {
		t.Errorf("tollgate certs into /etc in the image: %v %q, want permission denied (running as non-root)", err, errOut)
	}
}

type imageConfig struct {
	Config struct {
		User        string            `json:"User"`
		Labels      map[string]string `json:"Labels"`
		Healthcheck struct {
			Test []string `json:"Test"`
		} `json:"Healthcheck"`
	} `json:"config"`
}

// readDockerArchive reads a docker save tar's manifest and image config.
func readDockerArchive(t *testing.T, path string) (imageConfig, []string) {
	t.Helper()
	var manifest []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(tarMember(t, path, "manifest.json"), &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json: %v (%d images)", err, len(manifest))
	}
	var cfg imageConfig
	if err := json.Unmarshal(tarMember(t, path, manifest[0].Config), &cfg); err != nil {
		t.Fatalf("image config: %v", err)
	}
	return cfg, manifest[0].Layers
}

func tarMember(t *testing.T, path, name string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s has no %s: %v", path, name, err)
		}
		if h.Name == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

// layerFiles lists the regular files of the layers (small ones with their
// content) and returns the sum of the layers' gzip-compressed sizes.
func layerFiles(t *testing.T, path string, layers []string) (map[string]string, int64) {
	t.Helper()
	files := map[string]string{}
	var total int64
	for _, l := range layers {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		outer := tar.NewReader(f)
		for {
			h, err := outer.Next()
			if err != nil {
				t.Fatalf("layer %s not in the archive: %v", l, err)
			}
			if h.Name != l {
				continue
			}
			// Tee the layer into gzip (to measure) and a tar reader.
			cw := &countWriter{}
			zw, _ := gzip.NewWriterLevel(cw, gzip.DefaultCompression)
			inner := tar.NewReader(io.TeeReader(outer, zw))
			for {
				ih, err := inner.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("layer %s: %v", l, err)
				}
				if ih.Typeflag != tar.TypeReg {
					continue
				}
				name := strings.TrimPrefix(ih.Name, "./")
				content := ""
				if ih.Size < 4096 {
					b, _ := io.ReadAll(inner)
					content = string(b)
				}
				files[name] = content
			}
			io.Copy(zw, outer) // tar padding after the last entry
			zw.Close()
			total += cw.n
			break
		}
		f.Close()
	}
	return files, total
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// buildahStore runs buildah against a self-contained vfs store.
type buildahStore struct{ root string }

func (b buildahStore) run(args ...string) (string, string, error) {
	full := append([]string{"--root", filepath.Join(b.root, "root"), "--runroot", filepath.Join(b.root, "run"), "--storage-driver", "vfs"}, args...)
	return run(2*time.Minute, "buildah", full...)
}

func (b buildahStore) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := b.run(args...)
	if err != nil {
		t.Fatalf("buildah %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return strings.TrimSpace(out)
}

// sharedOSV returns the shared OSV export (../shared/data/vulndata/osv
// beside the repository, or under $TOLLGATE_SHARED), or "" when absent.
func sharedOSV() string {
	root := os.Getenv("TOLLGATE_SHARED")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared")
	}
	p := filepath.Join(root, "data", "vulndata", "osv")
	if st, err := os.Stat(p); err != nil || !st.IsDir() {
		return ""
	}
	return p
}

// scanOwnImage scans tollgate's image tar with tollgate, as a user would
// (`tollgate image -i TAR --scanners vuln,secret,misconfig`), against a DB
// imported from the shared OSV export, and asserts on the JSON report:
// no vulnerability, no secret, no failed image check, no package left
// unchecked but tollgate's own unversioned main module.
func scanOwnImage(t *testing.T, bin, tarPath string) {
	osv := sharedOSV()
	if osv == "" {
		// Shared data, not a tool: a skip even under TOLLGATE_REQUIRE_E2E.
		t.Skip("shared OSV data not found (../shared/data/vulndata/osv beside the repository, or $TOLLGATE_SHARED)")
	}
	cache := t.TempDir()
	if out, errOut, err := run(5*time.Minute, bin, "db", "import", "--cache-dir", cache, osv); err != nil {
		t.Fatalf("tollgate db import %s: %v\n%s%s", osv, err, out, errOut)
	}
	reportPath := filepath.Join(t.TempDir(), "report.json")
	if out, errOut, err := run(5*time.Minute, bin, "image", "-i", tarPath, "--scanners", "vuln,secret,misconfig",
		"--skip-db-update", "--cache-dir", cache, "-f", "json", "-o", reportPath); err != nil {
		t.Fatalf("tollgate image -i: %v\n%s%s", err, out, errOut)
	}
	b, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Results []struct {
			Target            string
			Type              string
			Packages          []json.RawMessage
			MisconfSummary    *struct{ Successes, Failures int }
			Vulnerabilities   []struct{ VulnerabilityID, PkgName, InstalledVersion, FixedVersion string }
			Secrets           []struct{ RuleID, Title string }
			Misconfigurations []struct {
				ID, Title, Status string
			}
		}
		NotMatched []struct{ PkgName, Reason string }
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, b)
	}
	sawBinary, sawChecks := false, false
	for _, r := range rep.Results {
		if r.Type == "gobinary" && r.Target == "usr/local/bin/tollgate" && len(r.Packages) > 0 {
			sawBinary = true
		}
		if m := r.MisconfSummary; m != nil {
			sawChecks = m.Successes > 0
			if m.Failures != 0 {
				t.Errorf("%s: %d image checks failed", r.Target, m.Failures)
			}
		}
		for _, v := range r.Vulnerabilities {
			t.Errorf("%s: vulnerability %s in %s %s (fixed in %q)", r.Target, v.VulnerabilityID, v.PkgName, v.InstalledVersion, v.FixedVersion)
		}
		for _, s := range r.Secrets {
			t.Errorf("%s: secret %s (%s)", r.Target, s.RuleID, s.Title)
		}
		for _, m := range r.Misconfigurations {
			if m.Status != "PASS" {
				t.Errorf("%s: image check %s %s: %s", r.Target, m.ID, m.Status, m.Title)
			}
		}
	}
	if !sawBinary || !sawChecks {
		t.Errorf("the report lacks the Go binary's packages (%v) or the image checks (%v): not scanned\n%s", sawBinary, sawChecks, b)
	}
	for _, n := range rep.NotMatched {
		if n.PkgName != "github.com/tollgate-dev/tollgate" || n.Reason != "no-version" {
			t.Errorf("package %s not checked: %s", n.PkgName, n.Reason)
		}
	}
}
