package scan

import (
	"strings"
	"testing"
)

// TestBadInputMessages: ignore files, VEX documents and SBOMs that do not
// parse get a message naming the file (and line) in our words, never Go
// internals.
func TestBadInputMessages(t *testing.T) {
	tests := []struct {
		name  string
		parse func() error
		want  string
	}{
		{"ignore: bad date", func() error {
			_, err := parseIgnoreLines(".trivyignore", []byte("CVE-1\nCVE-2 exp:tomorrow\n"))
			return err
		}, `.trivyignore:2: bad date "tomorrow": want exp:YYYY-MM-DD`},
		{"ignore: stray word", func() error { _, err := parseIgnoreLines(".trivyignore", []byte("CVE-1 because\n")); return err }, `.trivyignore:1: unexpected "because" after the ID`},
		{"ignore yaml: wrong shape", func() error {
			_, err := parseIgnoreYAML("i.yaml", []byte("vulnerabilities:\n  - id: CVE-1\n    paths: 3\n"))
			return err
		}, "i.yaml:3: want a mapping with vulnerabilities, secrets and misconfigurations lists"},
		{"ignore yaml: unknown section", func() error {
			_, err := parseIgnoreYAML("i.yaml", []byte("secret:\n  - id: private-key\n"))
			return err
		}, `i.yaml: unknown section "secret": use vulnerabilities, secrets, misconfigurations`},
		{"ignore yaml: secrets entry without id", func() error {
			_, err := parseIgnoreYAML("i.yaml", []byte("secrets:\n  - paths: [a]\n"))
			return err
		}, "i.yaml: secrets[0] has no id"},
		{"ignore yaml: no id", func() error {
			_, err := parseIgnoreYAML("i.yaml", []byte("vulnerabilities:\n  - statement: x\n"))
			return err
		}, "i.yaml: vulnerabilities[0] has no id"},
		{"ignore yaml: bad expiry", func() error {
			_, err := parseIgnoreYAML("i.yaml", []byte("vulnerabilities:\n  - id: CVE-1\n    expired_at: soon\n"))
			return err
		}, `bad expired_at "soon"`},
		{"vex: not JSON", func() error { _, err := parseVEX("v.json", []byte("{")); return err }, "VEX v.json is not a JSON object"},
		{"vex: unknown kind", func() error { _, err := parseVEX("v.json", []byte(`{"a": 1}`)); return err }, "neither OpenVEX"},
		{"vex: bad statements", func() error {
			_, err := parseVEX("v.json", []byte(`{"@context": "https://openvex.dev/ns/v0.2.0", "statements": 3}`))
			return err
		}, "OpenVEX v.json: statements do not have the OpenVEX shape"},
		{"sbom: bad CycloneDX", func() error {
			_, err := readCycloneDX("b.json", []byte(`{"bomFormat": "CycloneDX", "components": 3}`))
			return err
		}, "b.json: not a CycloneDX document that parses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse()
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			for _, internal := range []string{"json: cannot", "yaml: unmarshal", "cannot unmarshal", "[]string", "*scan.", "Go value"} {
				if strings.Contains(err.Error(), internal) {
					t.Errorf("error %q shows Go internals (%s)", err, internal)
				}
			}
		})
	}
}
