package scan_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/internal/match/matchtest"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
	"github.com/tollgate-dev/tollgate/internal/report"
	"github.com/tollgate-dev/tollgate/internal/scan"
	"github.com/tollgate-dev/tollgate/internal/scan/scantest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// now is the scans' clock: Debian 11 and Alpine 3.19 are past their end
// of support, Debian 12 is not.
var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

var (
	goBinOnce sync.Once
	goBin     []byte
)

func goBinary(t *testing.T) []byte {
	goBinOnce.Do(func() { goBin = scantest.GoBinary(t) })
	if goBin == nil {
		t.Fatal("building the Go binary failed in an earlier test")
	}
	return goBin
}

// rows lists a report's findings, one line each.
func rows(r *report.Report) []string {
	var out []string
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			out = append(out, fmt.Sprintf("%s | %s %s | %s %s %s fixed=%s", res.Target, v.PkgName, v.InstalledVersion, v.VulnerabilityID, v.Severity, v.Status, v.FixedVersion))
		}
	}
	return out
}

func notMatched(r *report.Report) []string {
	var out []string
	for _, n := range r.NotMatched {
		out = append(out, n.PkgName+" "+n.Reason)
	}
	return out
}

func writeImage(t *testing.T, img v1.Image, format string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	switch format {
	case "docker-archive":
		p := filepath.Join(dir, "image.tar")
		registrytest.WriteDockerArchive(t, p, "example.com/app:1.0", img)
		return p, p
	case "oci-dir":
		p := filepath.Join(dir, "layout")
		registrytest.WriteLayout(t, p, img, "1.0")
		return p, p
	}
	t.Fatalf("unknown format %s", format)
	return "", ""
}

func runScan(t *testing.T, o scan.Options) *report.Report {
	t.Helper()
	db := matchtest.DB(t)
	o.Now = now
	if o.Inventory.CacheDir == "" {
		o.Inventory.CacheDir = t.TempDir()
	}
	r, err := scan.Run(context.Background(), db, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// bullseyeWant are the findings of scantest.BullseyeImage, exactly.
func bullseyeWant(target string) []string {
	os := target + " (debian 11.9)"
	return []string{
		os + " | curl 7.74.0-1.3+deb11u3 | CVE-2024-50007 LOW fixed fixed=7.74.0-1.3+deb11u5",
		os + " | libc6 2.31-13+deb11u5 | CVE-2024-50003 LOW affected fixed=",
		os + " | libssl1.1 1.1.1n-0+deb11u5 | CVE-2023-50002 CRITICAL fixed fixed=1.1.1w-0+deb11u2",
		os + " | libssl1.1 1.1.1n-0+deb11u5 | CVE-2023-50001 MEDIUM fixed fixed=1.1.1w-0+deb11u2",
		os + " | zlib1g 1:1.2.11.dfsg-2+b1 | CVE-2024-50005 HIGH fixed fixed=1:1.2.11.dfsg-2+deb11u2",
		"Java | org.apache.commons:commons-text 1.9 | GHSA-tg00-0000-0003 CRITICAL fixed fixed=1.10.0",
		"Node.js | lodash 4.17.20 | CVE-2099-50040 HIGH fixed fixed=4.17.21",
		"Node.js | qs 6.7.0 | CVE-2099-50050 HIGH fixed fixed=6.7.3",
		"Python | PyYAML 5.4.1 | CVE-2099-50030 UNKNOWN fixed fixed=5.4.2",
		"usr/local/bin/app | golang.org/x/net 0.7.0 | CVE-2099-50020 MEDIUM fixed fixed=0.13.0",
	}
}

func TestScanImages(t *testing.T) {
	bin := goBinary(t)
	debian12 := []string{
		" (debian 12.5) | libc6 2.36-9+deb12u7 | CVE-2024-50004 MEDIUM will_not_fix fixed=",
		" (debian 12.5) | libc6 2.36-9+deb12u7 | CVE-2024-50003 LOW affected fixed=",
		" (debian 12.5) | libssl3 3.0.11-1~deb12u2 | CVE-2023-50002 CRITICAL fixed fixed=3.0.11-1~deb12u3",
		" (debian 12.5) | libssl3 3.0.11-1~deb12u2 | CVE-2023-50001 HIGH fixed fixed=3.0.11-1~deb12u3",
		"Java | org.apache.commons:commons-text 1.9 | GHSA-tg00-0000-0003 CRITICAL fixed fixed=1.10.0",
		"Node.js | lodash 4.17.20 | CVE-2099-50040 HIGH fixed fixed=4.17.21",
		"Python | PyYAML 5.4.1 | CVE-2099-50030 UNKNOWN fixed fixed=5.4.2",
	}
	alpine := []string{
		" (alpine 3.19.1) | libcrypto3 3.1.4-r5 | CVE-2024-50010 HIGH fixed fixed=3.1.4-r6",
		" (alpine 3.19.1) | libssl3 3.1.4-r5 | CVE-2024-50010 HIGH fixed fixed=3.1.4-r6",
		" (alpine 3.19.1) | musl 1.2.4-r2 | CVE-2024-50011 UNKNOWN fixed fixed=1.2.4-r3",
	}
	tests := []struct {
		name    string
		img     v1.Image
		want    func(target string) []string
		skipped []string
		eol     bool
	}{
		{"debian 12", registrytest.DebianImage(t), prefix(debian12), nil, false},
		{"debian 11 with binNMU, third-party nginx and a Go binary", scantest.BullseyeImage(t, bin), bullseyeWant, []string{"nginx third-party", "example.com/webapp no-version"}, true},
		{"alpine 3.19 with origin", registrytest.AlpineImage(t), prefix(alpine), nil, true},
	}
	for _, tt := range tests {
		for _, format := range []string{"docker-archive", "oci-dir"} {
			t.Run(tt.name+"/"+format, func(t *testing.T) {
				input, target := writeImage(t, tt.img, format)
				r := runScan(t, scan.Options{Kind: scan.KindImage, Input: input})
				if diff := cmp.Diff(tt.want(target), rows(r)); diff != "" {
					t.Errorf("findings (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.skipped, notMatched(r)); diff != "" {
					t.Errorf("not matched (-want +got):\n%s", diff)
				}
				if got := r.Metadata.OS != nil && r.Metadata.OS.EOSL; got != tt.eol {
					t.Errorf("EOSL = %v, want %v", got, tt.eol)
				}
			})
		}
	}
}

func prefix(rows []string) func(string) []string {
	return func(target string) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			if strings.HasPrefix(r, " (") {
				r = target + r
			}
			out[i] = r
		}
		return out
	}
}

func TestFilters(t *testing.T) {
	input, _ := writeImage(t, registrytest.DebianImage(t), "docker-archive")
	dir := t.TempDir()
	write := func(name, body string) string { return writeFile(t, dir, name, body) }
	ignore := write(".trivyignore", "# accepted\nCVE-2023-50002 # fixed in the next base image\nCVE-2024-50003 exp:2026-01-01\n")
	ignoreYAML := write("ignore.yaml", "vulnerabilities:\n  - id: CVE-2099-50040\n    paths: [\"app/node_modules/lodash/package.json\"]\n    statement: not reachable\n  - id: GHSA-tg00-0000-0003\n    purls: [\"pkg:maven/org.apache.commons/commons-text@1.10.0\"]\n")
	openvex := write("app.openvex.json", `{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "test", "timestamp": "2026-01-01T00:00:00Z", "version": 1,
  "statements": [
    {"vulnerability": {"name": "CVE-2023-50001"}, "products": [{"@id": "pkg:oci/app", "subcomponents": [{"@id": "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl"}]}], "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
    {"vulnerability": {"name": "CVE-2024-50004"}, "products": [{"@id": "pkg:deb/debian/libc6"}], "status": "affected"}
  ]}`)
	cdxvex := write("app.cdx.json", `{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
  "vulnerabilities": [{"id": "CVE-2099-50030", "analysis": {"state": "false_positive", "detail": "we never call full_load"}, "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:pypi/pyyaml@5.4.1"}]}]}`)
	ids := func(r *report.Report) []string {
		var out []string
		for _, res := range r.Results {
			for _, v := range res.Vulnerabilities {
				out = append(out, v.VulnerabilityID+" "+v.PkgName)
			}
		}
		return out
	}
	suppressed := func(r *report.Report) []string {
		var out []string
		for _, res := range r.Results {
			for _, m := range res.ModifiedFindings {
				out = append(out, m.Status+" "+m.Finding.VulnerabilityID+" "+filepath.Base(m.Source))
			}
		}
		return out
	}
	mustIgnore := func(paths ...string) []scan.IgnoreRule {
		rules, err := scan.LoadIgnoreFiles(paths, true)
		if err != nil {
			t.Fatal(err)
		}
		return rules
	}
	mustVEX := func(paths ...string) []scan.VEXStatement {
		sts, err := scan.LoadVEX(paths)
		if err != nil {
			t.Fatal(err)
		}
		return sts
	}
	all := []string{"CVE-2024-50004 libc6", "CVE-2024-50003 libc6", "CVE-2023-50002 libssl3", "CVE-2023-50001 libssl3", "GHSA-tg00-0000-0003 org.apache.commons:commons-text", "CVE-2099-50040 lodash", "CVE-2099-50030 PyYAML"}
	tests := []struct {
		name       string
		filter     scan.Filter
		want       []string
		suppressed []string
		notes      []string
	}{
		{name: "none", want: all},
		{name: "severity HIGH", filter: scan.Filter{Severities: []string{"HIGH"}}, want: []string{"CVE-2023-50001 libssl3", "CVE-2099-50040 lodash"}},
		{name: "severity HIGH,CRITICAL", filter: scan.Filter{Severities: []string{"HIGH", "CRITICAL"}}, want: []string{"CVE-2023-50002 libssl3", "CVE-2023-50001 libssl3", "GHSA-tg00-0000-0003 org.apache.commons:commons-text", "CVE-2099-50040 lodash"}},
		{name: "ignore unfixed", filter: scan.Filter{IgnoreUnfixed: true}, want: all[2:]},
		{name: "ignore status will_not_fix", filter: scan.Filter{IgnoreStatuses: []match.Status{match.StatusWillNotFix}}, want: all[1:]},
		{name: "pkg-types os", filter: scan.Filter{PkgTypes: []string{"os"}}, want: all[:4]},
		{name: "pkg-types library", filter: scan.Filter{PkgTypes: []string{"library"}}, want: all[4:]},
		{
			name:       "ignore file with an expired entry",
			filter:     scan.Filter{Ignore: mustIgnore(ignore)},
			want:       []string{"CVE-2024-50004 libc6", "CVE-2024-50003 libc6", "CVE-2023-50001 libssl3", "GHSA-tg00-0000-0003 org.apache.commons:commons-text", "CVE-2099-50040 lodash", "CVE-2099-50030 PyYAML"},
			suppressed: []string{"ignored CVE-2023-50002 .trivyignore:2"},
			notes:      []string{dir + "/.trivyignore:3: the entry for CVE-2024-50003 expired on 2026-01-01 and no longer applies"},
		},
		{
			name:       "yaml ignore file: paths and purls narrow",
			filter:     scan.Filter{Ignore: mustIgnore(ignoreYAML)},
			want:       []string{"CVE-2024-50004 libc6", "CVE-2024-50003 libc6", "CVE-2023-50002 libssl3", "CVE-2023-50001 libssl3", "GHSA-tg00-0000-0003 org.apache.commons:commons-text", "CVE-2099-50030 PyYAML"},
			suppressed: []string{"ignored CVE-2099-50040 ignore.yaml:vulnerabilities[0]"},
		},
		{
			name:       "VEX: OpenVEX not_affected and CycloneDX false_positive suppress, affected does not",
			filter:     scan.Filter{VEX: mustVEX(openvex, cdxvex)},
			want:       []string{"CVE-2024-50004 libc6", "CVE-2024-50003 libc6", "CVE-2023-50002 libssl3", "GHSA-tg00-0000-0003 org.apache.commons:commons-text", "CVE-2099-50040 lodash"},
			suppressed: []string{"not_affected CVE-2023-50001 app.openvex.json", "not_affected CVE-2099-50030 app.cdx.json"},
		},
		{
			name:       "severity and VEX combined",
			filter:     scan.Filter{Severities: []string{"HIGH", "CRITICAL"}, IgnoreUnfixed: true, VEX: mustVEX(openvex)},
			want:       []string{"CVE-2023-50002 libssl3", "GHSA-tg00-0000-0003 org.apache.commons:commons-text", "CVE-2099-50040 lodash"},
			suppressed: []string{"not_affected CVE-2023-50001 app.openvex.json"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runScan(t, scan.Options{Kind: scan.KindImage, Input: input, Filter: tt.filter})
			if diff := cmp.Diff(tt.want, ids(r)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.suppressed, suppressed(r)); diff != "" {
				t.Errorf("suppressed (-want +got):\n%s", diff)
			}
			var notes []string
			for _, n := range r.Notes {
				if strings.Contains(n, "expired") {
					notes = append(notes, n)
				}
			}
			if diff := cmp.Diff(tt.notes, notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

// writeFile writes body to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestJSONGolden(t *testing.T) {
	input, _ := writeImage(t, scantest.BullseyeImage(t, nil), "docker-archive")
	r := runScan(t, scan.Options{Kind: scan.KindImage, Input: input})
	r.ArtifactName = "bullseye.tar" // not the temp path
	for i := range r.Results {
		r.Results[i].Target = strings.Replace(r.Results[i].Target, input, "bullseye.tar", 1)
	}
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, r, report.Options{}); err != nil {
		t.Fatal(err)
	}
	scantest.Golden(t, "testdata/bullseye.json.golden", buf.Bytes(), *update)
	validateTrivySchema(t, buf.Bytes())
}
