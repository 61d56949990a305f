package format

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixtures lints the Dockerfiles of testdata: one with findings, one that
// does not parse, one clean.
func fixtures(t *testing.T) []dockerfile.Result {
	t.Helper()
	l := dockerfile.NewLinter(dockerfile.DefaultConfig())
	var out []dockerfile.Result
	for _, name := range []string{"testdata/app.Dockerfile", "testdata/broken.Dockerfile", "testdata/clean.Dockerfile"} {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l.Lint(name, src))
	}
	return out
}

func TestGolden(t *testing.T) {
	results := fixtures(t)
	tests := []struct {
		golden string
		format string
		opts   Options
	}{
		{"tty", "tty", Options{}},
		{"tty-color", "tty", Options{Color: true}},
		{"json", "json", Options{}},
		{"sarif", "sarif", Options{Version: "1.2.3"}},
		{"checkstyle", "checkstyle", Options{}},
		{"codeclimate", "codeclimate", Options{}},
		{"gitlab_codeclimate", "gitlab_codeclimate", Options{}},
		{"gnu", "gnu", Options{}},
		{"json-file-path", "json", Options{FilePath: "Dockerfile"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tt.format, results, tt.opts); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", tt.golden+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("%s output differs from %s (-want +got):\n%s", tt.format, path, diff)
			}
		})
	}
}

func TestAliasesAndUnknown(t *testing.T) {
	results := fixtures(t)
	var a, b bytes.Buffer
	if err := Write(&a, "gitlab", results, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, "gitlab_codeclimate", results, Options{}); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("gitlab is not an alias of gitlab_codeclimate")
	}
	if err := Write(&a, "yaml", results, Options{}); err == nil || !strings.Contains(err.Error(), "sarif") {
		t.Errorf("unknown format error = %v, want one listing the formats", err)
	}
	for _, n := range Names() {
		if _, err := Canonical(n); err != nil {
			t.Errorf("Names() lists %q but Canonical refuses it: %v", n, err)
		}
	}
}

// TestSARIFForCodeScanning checks what GitHub code scanning requires of an
// uploaded SARIF file: version 2.1.0, a driver name, rules that results
// point at by id and index, a level, a message, and a location with a
// relative URI and a start line.
func TestSARIFForCodeScanning(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "sarif", fixtures(t), Options{Version: "dev"}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name    string `json:"name"`
					Version string `json:"version"`
					Rules   []struct {
						ID               string `json:"id"`
						Name             string `json:"name"`
						ShortDescription struct{ Text string }
						FullDescription  struct{ Text string }
						Help             struct{ Text string }
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
			} `json:"results"`
		} `json:"runs"`
	}
	dec := json.NewDecoder(&buf)
	if err := dec.Decode(&log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif-2.1.0") || len(log.Runs) != 1 {
		t.Fatalf("header: version %q schema %q runs %d", log.Version, log.Schema, len(log.Runs))
	}
	run := log.Runs[0]
	d := run.Tool.Driver
	if d.Name == "" || !regexp.MustCompile(`^[0-9]`).MatchString(d.Version) {
		t.Errorf("driver name %q version %q (SARIF wants a version starting with a digit)", d.Name, d.Version)
	}
	for _, r := range d.Rules {
		if r.ID == "" || r.ShortDescription.Text == "" || r.FullDescription.Text == "" || r.Help.Text == "" || r.Name == r.ID {
			t.Errorf("rule %+v lacks a description or repeats its id as name", r)
		}
	}
	if len(run.Results) == 0 {
		t.Fatal("no results")
	}
	sawParseError := false
	for _, res := range run.Results {
		if res.RuleIndex < 0 || res.RuleIndex >= len(d.Rules) || d.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s points at rule index %d", res.RuleID, res.RuleIndex)
		}
		if res.Level != "error" && res.Level != "warning" && res.Level != "note" {
			t.Errorf("result %s level %q", res.RuleID, res.Level)
		}
		if res.Message.Text == "" || len(res.Locations) != 1 {
			t.Errorf("result %s: message %q, %d locations", res.RuleID, res.Message.Text, len(res.Locations))
			continue
		}
		pl := res.Locations[0].PhysicalLocation
		if pl.ArtifactLocation.URI == "" || strings.HasPrefix(pl.ArtifactLocation.URI, "/") || strings.Contains(pl.ArtifactLocation.URI, `\`) || pl.Region.StartLine < 1 {
			t.Errorf("result %s location %+v", res.RuleID, pl)
		}
		if res.RuleID == dockerfile.ParseErrorRule {
			sawParseError = true
		}
	}
	if !sawParseError {
		t.Error("the parse error is not in the SARIF results")
	}
}

func TestMachineFormatsParse(t *testing.T) {
	results := fixtures(t)
	var buf bytes.Buffer

	if err := Write(&buf, "checkstyle", results, Options{}); err != nil {
		t.Fatal(err)
	}
	var cs csReport
	if err := xml.Unmarshal(buf.Bytes(), &cs); err != nil {
		t.Fatalf("checkstyle is not XML: %v", err)
	}
	if len(cs.Files) != 3 || len(cs.Files[2].Errors) != 0 {
		t.Errorf("checkstyle has %d files (want every linted file, the clean one without errors)", len(cs.Files))
	}

	buf.Reset()
	if err := Write(&buf, "codeclimate", results, Options{}); err != nil {
		t.Fatal(err)
	}
	parts := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte{0}), []byte{0})
	for _, p := range parts {
		var is ccIssue
		if err := json.Unmarshal(p, &is); err != nil || is.Type != "issue" || is.Location.Lines.Begin < 1 {
			t.Errorf("codeclimate issue %q: %v", p, err)
		}
	}

	buf.Reset()
	if err := Write(&buf, "gitlab", results, Options{}); err != nil {
		t.Fatal(err)
	}
	var issues []ccIssue
	if err := json.Unmarshal(buf.Bytes(), &issues); err != nil {
		t.Fatal(err)
	}
	if len(issues) != len(parts) {
		t.Errorf("gitlab has %d issues, codeclimate %d", len(issues), len(parts))
	}
	seen := map[string]bool{}
	for _, is := range issues {
		if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(is.Fingerprint) || seen[is.Fingerprint] {
			t.Errorf("fingerprint %q not a unique SHA-1", is.Fingerprint)
		}
		seen[is.Fingerprint] = true
	}

	buf.Reset()
	if err := Write(&buf, "json", nil, Options{}); err != nil || buf.String() != "[]\n" {
		t.Errorf("json of nothing = %q, %v; want []", buf.String(), err)
	}
}
