package kube

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/sarif"
)

// TestWriteSARIF checks the SARIF log of a stream with a valid, a broken
// and a privileged document: one error per critical finding at its line,
// one note per advice, one error for the invalid document at its problem's
// line, every result pointing at its rule by ID and index, and file names
// as relative URIs.
func TestWriteSARIF(t *testing.T) {
	s := newTestScanner(t, Options{})
	data, err := os.ReadFile(filepath.Join("testdata", "edge", "broken-middle.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	reports := s.Scan(data, "./edge/broken-middle.yaml")
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, reports, s.Rules()); err != nil {
		t.Fatal(err)
	}
	var log sarif.Log
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q, %d runs", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	if n := len(run.Tool.Driver.Rules); n != len(s.Rules())+1 {
		t.Errorf("%d rules in the driver, want the scanner's %d and %s", n, len(s.Rules()), invalidRuleID)
	}
	wantResults := 0
	for _, r := range reports {
		if !r.Valid {
			wantResults++
		}
		wantResults += len(r.Scoring.Critical) + len(r.Scoring.Advise)
	}
	if len(run.Results) != wantResults {
		t.Errorf("%d results, want %d", len(run.Results), wantResults)
	}
	var got []string
	for _, res := range run.Results {
		if res.RuleIndex < 0 || res.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s points at rule index %d", res.RuleID, res.RuleIndex)
		}
		if len(res.Locations) != 1 || res.Locations[0].PhysicalLocation.ArtifactLocation.URI != "edge/broken-middle.yaml" {
			t.Errorf("result %s locations %+v", res.RuleID, res.Locations)
			continue
		}
		if res.Level == "error" {
			line := 0
			if reg := res.Locations[0].PhysicalLocation.Region; reg != nil {
				line = reg.StartLine
			}
			got = append(got, res.RuleID+"@"+strconv.Itoa(line))
		}
	}
	if want := "InvalidDocument@16 HostIPC@24"; strings.Join(got, " ") != want {
		t.Errorf("errors %q, want %q", strings.Join(got, " "), want)
	}

	// A rule the caller did not list still gets a rule entry to point at.
	buf.Reset()
	if err := WriteSARIF(&buf, reports, nil); err != nil {
		t.Fatal(err)
	}
	log = sarif.Log{}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	for _, res := range log.Runs[0].Results {
		if rules := log.Runs[0].Tool.Driver.Rules; res.RuleIndex >= len(rules) || rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("without listed rules: result %s points at rule index %d", res.RuleID, res.RuleIndex)
		}
	}
}
