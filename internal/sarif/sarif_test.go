package sarif

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestURI(t *testing.T) {
	for in, want := range map[string]string{
		"Dockerfile":          "Dockerfile",
		"./k8s/app.yaml":      "k8s/app.yaml",
		"/srv/app/Dockerfile": "file:///srv/app/Dockerfile",
		"STDIN":               "STDIN",
	} {
		if got := URI(in); got != want {
			t.Errorf("URI(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWriteOmitsEmptyParts: optional parts a writer leaves unset do not
// appear, while a result's rule index 0 does.
func TestWriteOmitsEmptyParts(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, Log{Schema: Schema, Version: Version, Runs: []Run{{
		Tool:    Tool{Driver: Driver{Name: "t", Rules: []Rule{{ID: "R", ShortDescription: Text{"r"}}}}},
		Results: []Result{{RuleID: "R", Level: "note", Message: Text{"m"}, Locations: []Location{{PhysicalLocation: PhysicalLocation{ArtifactLocation: ArtifactLocation{URI: "f"}}}}}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []map[string]any
				}
			}
			Results []map[string]any
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	rule := v.Runs[0].Tool.Driver.Rules[0]
	for _, k := range []string{"name", "fullDescription", "help", "helpUri", "defaultConfiguration", "properties"} {
		if _, ok := rule[k]; ok {
			t.Errorf("unset rule field %s written: %v", k, rule)
		}
	}
	if idx, ok := v.Runs[0].Results[0]["ruleIndex"]; !ok || idx != float64(0) {
		t.Errorf("ruleIndex 0 not written: %v", v.Runs[0].Results[0])
	}
	if buf.Bytes()[buf.Len()-1] != '\n' {
		t.Error("no final newline")
	}
}
