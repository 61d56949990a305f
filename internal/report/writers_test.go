package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/scan/scantest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func sampleReport() *Report {
	pub := time.Date(2023, 11, 2, 0, 0, 0, 0, time.UTC)
	return &Report{
		SchemaVersion: SchemaVersion,
		CreatedAt:     time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC),
		ArtifactName:  "nginx",
		ArtifactType:  ArtifactContainerImage,
		Metadata:      Metadata{OS: &OS{Family: "debian", Name: "12.5"}},
		Severities:    []string{"LOW", "HIGH", "CRITICAL"},
		Results: []Result{
			{
				Target: "nginx (debian 12.5)", Class: ClassOSPkgs, Type: "debian",
				Vulnerabilities: []Vulnerability{
					{VulnerabilityID: "CVE-2023-50002", VendorIDs: []string{"DSA-9001-1"}, PkgName: "libssl3", PkgIdentifier: PkgIdentifier{PURL: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2"}, InstalledVersion: "3.0.11-1~deb12u2", FixedVersion: "3.0.11-1~deb12u3", Status: "fixed", Severity: "CRITICAL", SeveritySource: "nvd",
						PrimaryURL: "https://nvd.nist.gov/vuln/detail/CVE-2023-50002", Title: "openssl: fixture timing side channel in RSA decryption that goes on for more than twelve words", CVSS: map[string]CVSS{"nvd": {V3Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", V3Score: 9.8}}, PublishedDate: &pub},
					{VulnerabilityID: "CVE-2023-50001", PkgName: "libssl3", InstalledVersion: "3.0.11-1~deb12u2", FixedVersion: "3.0.11-1~deb12u3", Status: "fixed", Severity: "HIGH", SeveritySource: "debian", PrimaryURL: "https://nvd.nist.gov/vuln/detail/CVE-2023-50001", Title: "openssl: over-read"},
					{VulnerabilityID: "CVE-2024-50003", PkgName: "libc6", InstalledVersion: "2.36-9", Status: "affected", Severity: "LOW", Title: "glibc: title with \x1b[31mescape\x1b[0m"},
				},
			},
			{Target: "Node.js", Class: ClassLangPkgs, Type: "node-pkg", Vulnerabilities: []Vulnerability{
				{VulnerabilityID: "CVE-2099-50040", PkgName: "lodash", PkgPath: "app/node_modules/lodash/package.json", InstalledVersion: "4.17.20", FixedVersion: "4.17.21", Status: "fixed", Severity: "HIGH", PrimaryURL: "https://nvd.nist.gov/vuln/detail/CVE-2099-50040", Title: "lodash prototype pollution"},
			}},
			{Target: "Python", Class: ClassLangPkgs, Type: "python-pkg"},
		},
	}
}

func TestTable(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Options
	}{
		{"table", Options{}},
		{"table-color", Options{Color: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteTable(&buf, sampleReport(), tt.o); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if !tt.o.Color && strings.Contains(out, "\x1b") {
				t.Error("colourless table holds an escape character")
			}
			if tt.o.Color && !strings.Contains(out, "\x1b[1;31mCRITICAL\x1b[0m") {
				t.Error("coloured table does not colour CRITICAL")
			}
			if !strings.Contains(out, `glibc: title with \x1b[31mescape\x1b[0m`) {
				t.Error("the title's escape sequence is not made visible")
			}
			if !strings.Contains(out, "Total: 3 (LOW: 1, HIGH: 1, CRITICAL: 1)") {
				t.Error("no Total line over the selected severities")
			}
			scantest.Golden(t, "testdata/"+tt.name+".golden", buf.Bytes(), *update)
		})
	}
}

// TestSARIFForCodeScanning checks every property GitHub code scanning
// requires of an uploaded SARIF file (docs: "SARIF support for code
// scanning"), and the security-severity it ranks alerts by.
func TestSARIFForCodeScanning(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, sampleReport(), Options{ToolVersion: "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	var log map[string]any
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	get := func(v any, path ...any) any {
		for _, p := range path {
			switch k := p.(type) {
			case string:
				m, ok := v.(map[string]any)
				if !ok {
					return nil
				}
				v = m[k]
			case int:
				a, ok := v.([]any)
				if !ok || k >= len(a) {
					return nil
				}
				v = a[k]
			}
		}
		return v
	}
	nonEmpty := func(what string, v any) {
		t.Helper()
		if s, ok := v.(string); !ok || s == "" {
			t.Errorf("%s = %v, want a non-empty string", what, v)
		}
	}
	if get(log, "version") != "2.1.0" {
		t.Errorf("version = %v", get(log, "version"))
	}
	nonEmpty("$schema", get(log, "$schema"))
	nonEmpty("tool.driver.name", get(log, "runs", 0, "tool", "driver", "name"))
	nonEmpty("tool.driver.version", get(log, "runs", 0, "tool", "driver", "version"))
	rules, _ := get(log, "runs", 0, "tool", "driver", "rules").([]any)
	results, _ := get(log, "runs", 0, "results").([]any)
	if len(rules) != 4 || len(results) != 4 {
		t.Fatalf("%d rules and %d results, want 4 and 4", len(rules), len(results))
	}
	for i := range rules {
		nonEmpty("rule id", get(rules[i], "id"))
		nonEmpty("rule shortDescription.text", get(rules[i], "shortDescription", "text"))
		nonEmpty("rule fullDescription.text", get(rules[i], "fullDescription", "text"))
		nonEmpty("rule help.text", get(rules[i], "help", "text"))
		nonEmpty("rule security-severity", get(rules[i], "properties", "security-severity"))
	}
	for i := range results {
		id := get(results[i], "ruleId")
		nonEmpty("result ruleId", id)
		idx, _ := get(results[i], "ruleIndex").(float64)
		if get(rules[int(idx)], "id") != id {
			t.Errorf("result %d: ruleIndex %v names rule %v, not %v", i, idx, get(rules[int(idx)], "id"), id)
		}
		nonEmpty("result message.text", get(results[i], "message", "text"))
		nonEmpty("result level", get(results[i], "level"))
		nonEmpty("result locations[0].physicalLocation.artifactLocation.uri", get(results[i], "locations", 0, "physicalLocation", "artifactLocation", "uri"))
		if line, _ := get(results[i], "locations", 0, "physicalLocation", "region", "startLine").(float64); line < 1 {
			t.Errorf("result %d: region.startLine %v, want ≥ 1", i, line)
		}
	}
	if s := get(rules[0], "properties", "security-severity"); s != "9.8" {
		t.Errorf("security-severity of the CVSS 9.8 finding = %v", s)
	}
}

func TestOtherFormats(t *testing.T) {
	r := sampleReport()
	for name, check := range map[string]func(string) bool{
		"cyclonedx": func(s string) bool {
			return strings.Contains(s, `"bomFormat": "CycloneDX"`) && strings.Contains(s, `"id": "CVE-2023-50002"`) && strings.Contains(s, `"ref": "pkg:deb/debian/libssl3@3.0.11-1~deb12u2"`)
		},
		"html": func(s string) bool {
			return strings.HasPrefix(s, "<!DOCTYPE html>") && strings.Contains(s, "CVE-2099-50040") && !strings.Contains(s, "<script") && !strings.Contains(s, "\x1b")
		},
	} {
		t.Run(name, func(t *testing.T) {
			w, err := LookupScanFormat(name)
			if err != nil {
				t.Fatal(err)
			}
			var a, b bytes.Buffer
			if err := w(&a, r, Options{}); err != nil {
				t.Fatal(err)
			}
			if err := w(&b, r, Options{}); err != nil {
				t.Fatal(err)
			}
			if !check(a.String()) {
				t.Errorf("unexpected %s output:\n%s", name, a.String())
			}
			if a.String() != b.String() {
				t.Error("two writes of one report differ")
			}
		})
	}
	var buf bytes.Buffer
	tmpl := `{{range .}}{{$t := .Target}}{{range .Vulnerabilities}}{{$t}} {{.VulnerabilityID}} {{.Severity | toLower}}
{{end}}{{end}}`
	if err := WriteTemplate(&buf, r, Options{Template: tmpl}); err != nil {
		t.Fatal(err)
	}
	want := "nginx (debian 12.5) CVE-2023-50002 critical\nnginx (debian 12.5) CVE-2023-50001 high\nnginx (debian 12.5) CVE-2024-50003 low\nNode.js CVE-2099-50040 high\n"
	if buf.String() != want {
		t.Errorf("template output:\n%s\nwant:\n%s", buf.String(), want)
	}
	if _, err := LookupScanFormat("xml"); err == nil {
		t.Error("unknown format accepted")
	}
}
