package scan_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// trivySchema compiles our JSON Schema of Trivy's report structure
// (testdata/trivy-report.schema.json).
func trivySchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/trivy-report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("trivy-report.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("trivy-report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validateTrivy(t *testing.T, doc []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	return trivySchema(t).Validate(v)
}

// validateTrivySchema fails the test when doc does not follow Trivy's
// report structure.
func validateTrivySchema(t *testing.T, doc []byte) {
	t.Helper()
	if err := validateTrivy(t, doc); err != nil {
		t.Errorf("report does not follow Trivy's structure: %v", err)
	}
}

// TestSchemaRejects makes sure the schema is not vacuous: a misspelt
// field and a wrong type fail.
func TestSchemaRejects(t *testing.T) {
	for _, doc := range []string{
		`{"SchemaVersion": 2, "CreatedAt": "2026-01-01T00:00:00Z", "ArtifactName": "x", "ArtifactType": "filesystem", "Metadata": {}, "Results": [{"Target": "t", "Class": "os-pkgs", "Vulnerabilities": [{"VulnerabilityId": "CVE-1", "PkgName": "p", "InstalledVersion": "1", "Severity": "LOW"}]}]}`,
		`{"SchemaVersion": "2", "CreatedAt": "2026-01-01T00:00:00Z", "ArtifactName": "x", "ArtifactType": "filesystem", "Metadata": {}}`,
		`{"SchemaVersion": 2, "CreatedAt": "2026-01-01T00:00:00Z", "ArtifactName": "x", "ArtifactType": "filesystem", "Metadata": {"OS": {"Family": "debian", "Name": 12}}}`,
	} {
		if validateTrivy(t, []byte(doc)) == nil {
			t.Errorf("schema accepts %s", doc)
		}
	}
}
