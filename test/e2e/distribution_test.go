package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// startDockerRegistry starts Debian's docker-registry (the CNCF
// distribution registry 2.8: no referrers API) on a free loopback port,
// its storage under the test's temp directory, and returns its
// "127.0.0.1:PORT". It is stopped by its PID when the test ends.
func startDockerRegistry(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		requireE2E(t, "docker-registry is not installed (scripts/test-deps.sh installs the Debian package)")
	}
	dir := t.TempDir()
	for attempt := 1; attempt <= 3; attempt++ {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		secret := make([]byte, 16)
		rand.Read(secret)
		cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"+
			"storage:\n  filesystem:\n    rootdirectory: %s\n"+
			"http:\n  addr: %s\n  secret: %s\n", filepath.Join(dir, "storage"), addr, hex.EncodeToString(secret))
		cfgPath := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		p := startProc(t, dir, fmt.Sprintf("docker-registry-%d", attempt), bin, "serve", cfgPath)
		ok, detail := eventually(15*time.Second, 100*time.Millisecond, func() (bool, string) {
			if !p.running() {
				return true, "exited"
			}
			resp, err := http.Get("http://" + addr + "/v2/")
			if err != nil {
				return false, err.Error()
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK, resp.Status
		})
		if ok && p.running() {
			t.Cleanup(func() { p.stop(t, 5*time.Second) })
			return addr
		}
		p.stop(t, 5*time.Second)
		t.Logf("docker-registry on %s did not come up (%s):\n%s", addr, detail, p.tail(20))
	}
	t.Fatal("docker-registry did not start")
	return ""
}

// debianImage is a one-layer Debian 11 image whose dpkg database holds
// libssl1.1 (source openssl) at sslVersion, plus a file naming variant so
// that each variant has digests (image and layer) of its own. Against the
// project's fixture records (examples/vulndb), libssl1.1 1.1.1n-0+deb11u5
// has CVE-2023-50002 (CRITICAL, DEBIAN-CVE-2023-50002, CVSS 9.8) and
// CVE-2023-50001 (MEDIUM); 1.1.1w-0+deb11u2 fixes both.
func debianImage(t *testing.T, sslVersion, variant string) v1.Image {
	t.Helper()
	status := "Package: base-files\nStatus: install ok installed\nPriority: required\nSection: admin\n" +
		"Maintainer: Debian Maintainers <maint@lists.debian.org>\nArchitecture: amd64\nVersion: 11.1+deb11u9\n" +
		"Description: Debian base system miscellaneous files\n\n" +
		"Package: libssl1.1\nStatus: install ok installed\nPriority: optional\nSection: libs\n" +
		"Maintainer: Debian Maintainers <maint@lists.debian.org>\nArchitecture: amd64\nSource: openssl\n" +
		"Version: " + sslVersion + "\nDescription: Secure Sockets Layer toolkit - shared libraries\n"
	files := []struct{ name, body string }{
		{"etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 11 (bullseye)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"11\"\n" +
			"VERSION=\"11 (bullseye)\"\nVERSION_CODENAME=bullseye\nID=debian\n"},
		{"etc/debian_version", "11.9\n"},
		{"var/lib/dpkg/status", status},
		{"etc/tollgate-e2e", variant + "\n"},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, dir := range []string{"etc/", "var/", "var/lib/", "var/lib/dpkg/"} {
		tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch})
	}
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.body)), ModTime: epoch})
		tw.Write([]byte(f.body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layer, History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "e2e fixture"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture, cfg.OS = "amd64", "linux"
	cfg.Created = v1.Time{Time: epoch}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Versions of libssl1.1 in the fixture images (see debianImage).
const (
	vulnSSL  = "1.1.1n-0+deb11u5"
	fixedSSL = "1.1.1w-0+deb11u2"
)

// vulnCVE is the CRITICAL finding of vulnSSL in examples/vulndb.
const vulnCVE = "CVE-2023-50002"

// pushTo pushes img to ref (a tag) and returns the image's digest.
func pushTo(t *testing.T, ref string, img v1.Image) string {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// importFixtureDB imports the project's fixture advisories
// (examples/vulndb) into a new cache directory with tollgate db import and
// returns the directory.
func importFixtureDB(t *testing.T, tollgate string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cache")
	records := filepath.Join("..", "..", "examples", "vulndb")
	out, errOut, err := run(2*time.Minute, tollgate, "db", "import", "--cache-dir", dir, records)
	if err != nil {
		t.Fatalf("tollgate db import: %v\n%s%s", err, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "db", "tollgate.db")); err != nil {
		t.Fatalf("tollgate db import wrote no DB: %v\n%s%s", err, out, strings.TrimSpace(errOut))
	}
	return dir
}

// TestFixtureImages scans the fixture images, pushed to Debian's
// docker-registry, with tollgate image against the imported fixture DB:
// the vulnerable one has vulnCVE as CRITICAL with fixedSSL as its fix, the
// fixed one nothing above MEDIUM — what the admission scenarios rely on.
func TestFixtureImages(t *testing.T) {
	tollgate := tollgateBinary(t)
	reg := startDockerRegistry(t)
	cache := importFixtureDB(t, tollgate)
	for _, tt := range []struct {
		ssl  string
		want []string
	}{
		{vulnSSL, []string{"libssl1.1 CVE-2023-50001 MEDIUM 1.1.1w-0+deb11u2", "libssl1.1 " + vulnCVE + " CRITICAL " + fixedSSL}},
		{fixedSSL, nil},
	} {
		t.Run(tt.ssl, func(t *testing.T) {
			ref := reg + "/fixture/app:" + strings.ReplaceAll(tt.ssl, "+", "_")
			pushTo(t, ref, debianImage(t, tt.ssl, "fixture"))
			out, errOut, err := run(2*time.Minute, tollgate, "image", "--cache-dir", cache, "--skip-db-update", "-q", "-f", "json", ref)
			if err != nil {
				t.Fatalf("tollgate image %s: %v\n%s", ref, err, errOut)
			}
			var r struct {
				Results []struct {
					Vulnerabilities []struct {
						PkgName, VulnerabilityID, Severity, FixedVersion string
					}
				}
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("tollgate image output: %v\n%s", err, out)
			}
			var got []string
			for _, res := range r.Results {
				for _, v := range res.Vulnerabilities {
					got = append(got, strings.Join([]string{v.PkgName, v.VulnerabilityID, v.Severity, v.FixedVersion}, " "))
				}
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("findings of %s:\n%s\nwant:\n%s", ref, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
