package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/match/matchtest"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
	"github.com/tollgate-dev/tollgate/internal/report"
	"github.com/tollgate-dev/tollgate/internal/scan/scantest"
)

// scanRows reads a JSON report's findings, one line each (targets without
// the artifact name, which differs between the ways the image is read).
func scanRows(t *testing.T, doc string) []string {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, doc)
	}
	var out []string
	for _, res := range r.Results {
		target := res.Target
		if res.Class == report.ClassOSPkgs {
			target = res.Type
		}
		for _, v := range res.Vulnerabilities {
			out = append(out, fmt.Sprintf("%s %s %s %s %s", target, v.PkgName, v.VulnerabilityID, v.Severity, v.Status))
		}
	}
	return out
}

// bullseyeRows are the findings of scantest.BullseyeImage (without its Go
// binary) against the fixture DB.
var bullseyeRows = []string{
	"debian curl CVE-2024-50007 LOW fixed",
	"debian libc6 CVE-2024-50003 LOW affected",
	"debian libssl1.1 CVE-2023-50002 CRITICAL fixed",
	"debian libssl1.1 CVE-2023-50001 MEDIUM fixed",
	"debian zlib1g CVE-2024-50005 HIGH fixed",
	"Java org.apache.commons:commons-text GHSA-tg00-0000-0003 CRITICAL fixed",
	"Node.js lodash CVE-2099-50040 HIGH fixed",
	"Node.js qs CVE-2099-50050 HIGH fixed",
	"Python PyYAML CVE-2099-50030 UNKNOWN fixed",
}

// TestScanThroughDistributionRegistry scans one image pushed to Debian's
// docker-registry on loopback: by name, through --registry-mirror for
// Docker Hub's nginx, as a docker save tar (-i) and as an OCI layout;
// every way gives the same findings.
func TestScanThroughDistributionRegistry(t *testing.T) {
	reg := registrytest.StartDistribution(t)
	img := scantest.BullseyeImage(t, nil)
	registrytest.Push(t, reg.Addr+"/app:1.0", img)
	registrytest.Push(t, reg.Addr+"/library/nginx:latest", img)
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	matchtest.Write(t, filepath.Join(cache, "db"), matchtest.FixtureDir())
	tarPath := filepath.Join(dir, "app.tar")
	registrytest.WriteDockerArchive(t, tarPath, "app:1.0", img)
	layout := filepath.Join(dir, "layout")
	registrytest.WriteLayout(t, layout, img, "1.0")

	common := []string{"--cache-dir", cache, "--skip-db-update", "-f", "json", "-q"}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"by name", []string{reg.Addr + "/app:1.0"}},
		{"through --registry-mirror", []string{"--registry-mirror", "docker.io=" + reg.Addr, "nginx"}},
		{"docker save tar", []string{"-i", tarPath}},
		{"OCI layout", []string{"--input", layout}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runTollgate(t, append(append([]string{"image"}, common...), tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if diff := cmp.Diff(bullseyeRows, scanRows(t, stdout)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestScanExitCodes checks Trivy's exit-code contract and tollgate's
// usage errors, on a docker save tar.
func TestScanExitCodes(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	matchtest.Write(t, filepath.Join(cache, "db"), matchtest.FixtureDir())
	tarPath := filepath.Join(dir, "app.tar")
	registrytest.WriteDockerArchive(t, tarPath, "app:1.0", scantest.BullseyeImage(t, nil))
	ignore := filepath.Join(dir, "ignore")
	var ids []string
	for _, r := range bullseyeRows {
		ids = append(ids, strings.Fields(r)[2])
	}
	if err := os.WriteFile(ignore, []byte(strings.Join(ids, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"image", "--cache-dir", cache, "--skip-db-update", "-q", "-i", tarPath}
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"findings do not fail by default", nil, 0, ""},
		{"--exit-code with findings", []string{"--exit-code", "5"}, 5, ""},
		{"--exit-code when everything is ignored", []string{"--exit-code", "5", "--ignorefile", ignore}, 0, ""},
		{"--exit-code with -s selecting nothing left", []string{"--exit-code", "5", "-s", "MEDIUM", "--ignore-status", "fixed"}, 0, ""},
		{"--exit-on-eol on Debian 11", []string{"--exit-on-eol", "3", "--exit-code", "5"}, 3, "past its end of support"},
		{"unknown severity", []string{"-s", "SEVERE"}, 2, `unknown severity "SEVERE"`},
		{"unknown format", []string{"-f", "xml"}, 2, `unknown --format "xml"`},
		{"a scanner tollgate does not have", []string{"--scanners", "vuln,license"}, 2, "tollgate has vuln, secret and misconfig"},
		{"missing ignore file", []string{"--ignorefile", filepath.Join(dir, "nope")}, 2, "reading ignore file"},
		{"missing input", []string{"-i", filepath.Join(dir, "nope.tar")}, 2, "no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runTollgate(t, append(append([]string{}, base...), tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q does not say %q", stderr, tt.stderr)
			}
			if strings.Contains(stderr, "stat ") || strings.Contains(stderr, "json:") {
				t.Errorf("stderr shows Go internals: %q", stderr)
			}
		})
	}
	// A failed run keeps an earlier report.
	out := filepath.Join(dir, "out.json")
	if _, stderr, code := runTollgate(t, append(append([]string{}, base...), "-f", "json", "-o", out)...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	before, _ := os.ReadFile(out)
	if _, _, code := runTollgate(t, "image", "--cache-dir", cache, "--skip-db-update", "-f", "json", "-o", out, "-i", filepath.Join(dir, "nope.tar")); code != 2 {
		t.Errorf("scan of a missing tar: exit %d, want 2", code)
	}
	after, _ := os.ReadFile(out)
	if len(before) == 0 || string(before) != string(after) {
		t.Error("a failed scan changed the earlier report")
	}
}
