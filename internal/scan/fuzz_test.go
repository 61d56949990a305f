package scan

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/report"
)

// The parsers of user-supplied files: ignore files, VEX documents,
// SBOMs. Each must return an error or rules, never panic.

func seeds(f *testing.F, glob string) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "fuzz-seeds", glob))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzIgnoreFile(f *testing.F) {
	seeds(f, "*ignore*")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func(string, []byte) ([]IgnoreRule, error){parseIgnoreLines, parseIgnoreYAML} {
			rules, err := parse("f", data)
			if err != nil {
				continue
			}
			for i := range rules {
				if rules[i].ID == "" {
					t.Fatalf("rule without an ID from %q", data)
				}
				switch rules[i].Kind {
				case "", report.FindingVulnerability, report.FindingSecret, report.FindingMisconfiguration:
				default:
					t.Fatalf("rule of kind %q from %q", rules[i].Kind, data)
				}
				_ = rules[i].expired(now)
			}
		}
	})
}

func FuzzVEX(f *testing.F) {
	seeds(f, "*vex*")
	f.Fuzz(func(t *testing.T, data []byte) {
		sts, err := parseVEX("f", data)
		if err != nil {
			return
		}
		for _, s := range sts {
			if s.Status != "not_affected" && s.Status != "fixed" {
				t.Fatalf("statement with status %q kept", s.Status)
			}
		}
	})
}

func FuzzSBOM(f *testing.F) {
	seeds(f, "*sbom*")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, read := range []func(string, []byte) (*artifact, error){readCycloneDX, readSPDX} {
			a, err := read("f", data)
			if err == nil && a.inv == nil {
				t.Fatal("no inventory and no error")
			}
		}
	})
}
