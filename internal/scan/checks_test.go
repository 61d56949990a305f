package scan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/imagecheck"
	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
	"github.com/tollgate-dev/tollgate/internal/report"
	"github.com/tollgate-dev/tollgate/internal/scan"
	"github.com/tollgate-dev/tollgate/internal/secret"
)

// TestChecksJSONSchema: a report with secrets and failed checks follows
// Trivy's report structure, and a scan without vuln needs no DB.
func TestChecksJSONSchema(t *testing.T) {
	token := "ghp_" + "ScanPkgMadeUpTokenForTests0000000000099"
	img := registrytest.Image(t,
		registrytest.Layer(t, registrytest.File("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")),
		registrytest.Layer(t, registrytest.File("app/.env", "GITHUB_TOKEN="+token+"\n"),
			registrytest.Entry{Name: "usr/bin/helper", Body: "\x7fELF\x00", Mode: 0o4755}),
	)
	input, _ := writeImage(t, img, "docker-archive")
	r, err := scan.Run(context.Background(), nil, scan.Options{
		Kind: scan.KindImage, Input: input, Now: now,
		Scanners: scan.Scanners{Secret: true, Misconfig: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.SecretCount() != 1 || r.MisconfigurationCount() == 0 {
		t.Fatalf("want a secret and failed checks, got %d and %d", r.SecretCount(), r.MisconfigurationCount())
	}
	maskedJSON(t, r, token)
}

// maskedJSON writes r as JSON, fails if it shows the value or does not
// follow Trivy's structure, and returns it.
func maskedJSON(t *testing.T, r *report.Report, value string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, r, report.Options{}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte(value)) {
		t.Error("the JSON shows the value")
	}
	validateTrivySchema(t, buf.Bytes())
	return buf.Bytes()
}

// TestCheckFilters: ignore files and VEX statements suppress secrets (by
// rule ID) and failed image checks (by check ID) as they do
// vulnerabilities: by section, path, layer, purl and expiry, each listed
// with its source and statement.
func TestCheckFilters(t *testing.T) {
	token := "ghp_" + "ScanPkgMadeUpTokenForTests0000000077"
	base := registrytest.Layer(t, registrytest.File("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"))
	top := registrytest.Layer(t, registrytest.File("app/notes.txt", "the deploy bot uses "+token+"\n"),
		registrytest.Entry{Name: "usr/bin/helper", Body: "\x7fELF\x00", Mode: 0o4755})
	img := registrytest.Image(t, base, top)
	input, _ := writeImage(t, img, "docker-archive")
	baseDigest, err := base.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	topDigest, err := top.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ignore := func(name, body string) []scan.IgnoreRule {
		rules, err := scan.LoadIgnoreFiles([]string{writeFile(t, dir, name, body)}, true)
		if err != nil {
			t.Fatal(err)
		}
		return rules
	}
	vex := func(name, body string) []scan.VEXStatement {
		sts, err := scan.LoadVEX([]string{writeFile(t, dir, name, body)})
		if err != nil {
			t.Fatal(err)
		}
		return sts
	}
	openvex := func(id, product string) string {
		return `{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/2", "author": "test", "timestamp": "2026-01-01T00:00:00Z", "version": 1,
  "statements": [{"vulnerability": {"name": "` + id + `"}, "products": [{"@id": "` + product + `"}], "status": "not_affected", "justification": "component_not_present"}]}`
	}
	allChecks := []string{"CIS-DI-0001", "CIS-DI-0006", "CIS-DI-0008"}
	tests := []struct {
		name       string
		filter     scan.Filter
		secrets    []string // rule IDs and paths kept
		checks     []string // check IDs kept
		suppressed []string
		notes      []string
	}{
		{name: "none", secrets: []string{"github-pat app/notes.txt"}, checks: allChecks},
		{
			name:    "plain ignore file: IDs of any type, with their reasons",
			filter:  scan.Filter{Ignore: ignore(".trivyignore", "github-pat # a revoked test token\nCIS-DI-0008 # the helper needs it\n")},
			checks:  []string{"CIS-DI-0001", "CIS-DI-0006"},
			secrets: nil,
			suppressed: []string{
				"misconfiguration ignored CIS-DI-0008 at /usr/bin/helper .trivyignore:2 the helper needs it",
				"secret ignored github-pat in app/notes.txt .trivyignore:1 a revoked test token",
			},
		},
		{
			name: "yaml sections: paths narrow, a section is for its type only",
			filter: scan.Filter{Ignore: ignore("a.yaml", `vulnerabilities:
  - id: CIS-DI-0001
secrets:
  - id: github-pat
    paths: ["other/*"]
  - id: CIS-DI-0006
misconfigurations:
  - id: CIS-DI-0008
    paths: ["usr/bin/*"]
    statement: needed
  - id: github-pat
`)},
			secrets:    []string{"github-pat app/notes.txt"},
			checks:     []string{"CIS-DI-0001", "CIS-DI-0006"},
			suppressed: []string{"misconfiguration ignored CIS-DI-0008 at /usr/bin/helper a.yaml:misconfigurations[0] needed"},
		},
		{
			name: "yaml: a secret by its file, an expired entry applies no more",
			filter: scan.Filter{Ignore: ignore("b.yaml", `secrets:
  - id: github-pat
    paths: ["app/*.txt"]
misconfigurations:
  - id: CIS-DI-0006
    expired_at: 2026-01-01
`)},
			checks:     allChecks,
			suppressed: []string{"secret ignored github-pat in app/notes.txt b.yaml:secrets[0] "},
			notes:      []string{dir + "/b.yaml:misconfigurations[0]: the entry for CIS-DI-0006 expired on 2026-01-01 and no longer applies"},
		},
		{
			name: "yaml: a layer's diff ID as the path",
			filter: scan.Filter{Ignore: ignore("c.yaml", `misconfigurations:
  - id: CIS-DI-0008
    paths: ["`+baseDigest.String()+`"]
secrets:
  - id: github-pat
    paths: ["`+topDigest.String()+`"]
`)},
			checks:     allChecks,
			suppressed: []string{"secret ignored github-pat in app/notes.txt c.yaml:secrets[0] "},
		},
		{
			name: "yaml: purls name the image",
			filter: scan.Filter{Ignore: ignore("d.yaml", `misconfigurations:
  - id: CIS-DI-0001
    purls: ["pkg:oci/app"]
  - id: CIS-DI-0006
    purls: ["pkg:oci/other"]
`)},
			secrets:    []string{"github-pat app/notes.txt"},
			checks:     []string{"CIS-DI-0006", "CIS-DI-0008"},
			suppressed: []string{"misconfiguration ignored CIS-DI-0001 d.yaml:misconfigurations[0] "},
		},
		{
			name:       "VEX: a statement about the image suppresses a check",
			filter:     scan.Filter{VEX: vex("e.json", openvex("CIS-DI-0006", "pkg:oci/app"))},
			secrets:    []string{"github-pat app/notes.txt"},
			checks:     []string{"CIS-DI-0001", "CIS-DI-0008"},
			suppressed: []string{"misconfiguration not_affected CIS-DI-0006 e.json component_not_present"},
		},
		{
			name:       "VEX: and a secret",
			filter:     scan.Filter{VEX: vex("f.json", openvex("github-pat", "pkg:oci/app"))},
			checks:     allChecks,
			suppressed: []string{"secret not_affected github-pat in app/notes.txt f.json component_not_present"},
		},
		{
			name:    "VEX: another image's statement changes nothing",
			filter:  scan.Filter{VEX: vex("g.json", openvex("CIS-DI-0006", "pkg:oci/other"))},
			secrets: []string{"github-pat app/notes.txt"},
			checks:  allChecks,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := scan.Run(context.Background(), nil, scan.Options{
				Kind: scan.KindImage, Input: input, Now: now, Filter: tt.filter,
				Scanners: scan.Scanners{Secret: true, Misconfig: true},
				Checks:   scan.Checks{Image: imagecheck.Options{Skip: []string{"TG204"}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			var secrets, checks, suppressed, notes []string
			for _, res := range r.Results {
				for _, s := range res.Secrets {
					secrets = append(secrets, s.RuleID+" "+s.Path)
				}
				for _, m := range res.Misconfigurations {
					checks = append(checks, m.ID)
				}
				if res.MisconfSummary != nil && res.MisconfSummary.Failures != len(res.Misconfigurations) {
					t.Errorf("MisconfSummary counts %d failures, the result lists %d", res.MisconfSummary.Failures, len(res.Misconfigurations))
				}
				for _, m := range res.ModifiedFindings {
					suppressed = append(suppressed, strings.Join([]string{m.Type, m.Status, m.What(), filepath.Base(m.Source), m.Statement}, " "))
				}
			}
			for _, n := range r.Notes {
				if strings.Contains(n, "expired") {
					notes = append(notes, n)
				}
			}
			for _, c := range []struct {
				what      string
				want, got []string
			}{{"secrets", tt.secrets, secrets}, {"checks", tt.checks, checks}, {"suppressed", tt.suppressed, suppressed}, {"notes", tt.notes, notes}} {
				if diff := cmp.Diff(c.want, c.got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", c.what, diff)
				}
			}
			// Suppressed secrets stay masked, in JSON as Trivy writes them,
			// and read back each suppressed finding is of its type.
			js := maskedJSON(t, r, token)
			var back report.Report
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatal(err)
			}
			var again []string
			for _, res := range back.Results {
				for _, m := range res.ModifiedFindings {
					again = append(again, strings.Join([]string{m.Type, m.Status, m.What(), filepath.Base(m.Source), m.Statement}, " "))
				}
			}
			if diff := cmp.Diff(suppressed, again); diff != "" {
				t.Errorf("suppressed findings read back from JSON (-written +read):\n%s", diff)
			}
		})
	}
}

// TestChecksWarm: a warm scan (inventory and check facts cached) reports
// what the cold one did, and a scan with another secret config does not
// take the facts cached under the first.
func TestChecksWarm(t *testing.T) {
	token := "ghp_" + "ScanPkgMadeUpTokenForTests0000000055"
	img := registrytest.Image(t,
		registrytest.Layer(t, registrytest.File("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")),
		registrytest.Layer(t, registrytest.File("app/notes.txt", "deploy with "+token+"\nacme_"+"zxcvbnmlkjhgfdsa\n"),
			registrytest.Entry{Name: "usr/bin/helper", Body: "\x7fELF\x00", Mode: 0o4755}),
	)
	input, _ := writeImage(t, img, "docker-archive")
	cacheDir := t.TempDir()
	scanWith := func(s *secret.Scanner) *report.Report {
		t.Helper()
		r, err := scan.Run(context.Background(), nil, scan.Options{
			Kind: scan.KindImage, Input: input, Now: now, Inventory: inventory.Options{CacheDir: cacheDir},
			Scanners: scan.Scanners{Secret: true, Misconfig: true}, Checks: scan.Checks{Secrets: s},
		})
		if err != nil {
			t.Fatal(err)
		}
		maskedJSON(t, r, token)
		return r
	}
	builtin, err := secret.New(secret.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cold := scanWith(builtin)
	warm := scanWith(builtin)
	if diff := cmp.Diff(cold.Results, warm.Results); diff != "" {
		t.Errorf("warm results differ (-cold +warm):\n%s", diff)
	}
	if cold.SecretCount() != 1 || cold.MisconfigurationCount() == 0 {
		t.Fatalf("cold: %d secrets, %d failed checks", cold.SecretCount(), cold.MisconfigurationCount())
	}
	files, _ := filepath.Glob(filepath.Join(cacheDir, "checks", "*"))
	if len(files) != 2 {
		t.Errorf("%d cached layer facts, want 2", len(files))
	}
	cfg, err := secret.ParseConfig([]byte("rules:\n  - id: acme-key\n    keywords: [acme_]\n    regex: (?P<secret>acme_[a-z]{16})\n"))
	if err != nil {
		t.Fatal(err)
	}
	withAcme, err := secret.New(secret.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, res := range scanWith(withAcme).Results {
		for _, s := range res.Secrets {
			ids = append(ids, s.RuleID)
		}
	}
	if diff := cmp.Diff([]string{"github-pat", "acme-key"}, ids); diff != "" {
		t.Errorf("with the added rule (-want +got):\n%s", diff)
	}
}
