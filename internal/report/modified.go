package report

import (
	"encoding/json"
	"fmt"
)

// Types of a ModifiedFinding.
const (
	FindingVulnerability    = "vulnerability"
	FindingSecret           = "secret"
	FindingMisconfiguration = "misconfiguration"
)

// modifiedJSON is a ModifiedFinding as JSON has it: the finding of
// whatever type under "Finding".
type modifiedJSON struct {
	Type      string          `json:"Type"`
	Status    string          `json:"Status"`
	Statement string          `json:"Statement,omitempty"`
	Source    string          `json:"Source"`
	Finding   json.RawMessage `json:"Finding"`
}

// MarshalJSON writes the finding of m's type under "Finding".
func (m ModifiedFinding) MarshalJSON() ([]byte, error) {
	var f any = m.Finding
	switch {
	case m.Type == FindingSecret && m.Secret != nil:
		f = m.Secret
	case m.Type == FindingMisconfiguration && m.Misconfiguration != nil:
		f = m.Misconfiguration
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	return json.Marshal(modifiedJSON{Type: m.Type, Status: m.Status, Statement: m.Statement, Source: m.Source, Finding: b})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (m *ModifiedFinding) UnmarshalJSON(b []byte) error {
	var raw modifiedJSON
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*m = ModifiedFinding{Type: raw.Type, Status: raw.Status, Statement: raw.Statement, Source: raw.Source}
	if len(raw.Finding) == 0 {
		return nil
	}
	var err error
	switch raw.Type {
	case FindingSecret:
		m.Secret = new(Secret)
		err = json.Unmarshal(raw.Finding, m.Secret)
	case FindingMisconfiguration:
		m.Misconfiguration = new(Misconfiguration)
		err = json.Unmarshal(raw.Finding, m.Misconfiguration)
	default:
		err = json.Unmarshal(raw.Finding, &m.Finding)
	}
	if err != nil {
		return fmt.Errorf("the %s finding of a modified finding: %w", raw.Type, err)
	}
	return nil
}

// What names the suppressed finding for people: "CVE-… in libssl3",
// "private-key in /root/.ssh/id_rsa", "CIS-DI-0001".
func (m ModifiedFinding) What() string {
	switch {
	case m.Secret != nil:
		return m.Secret.RuleID + " in " + m.Secret.Path
	case m.Misconfiguration != nil:
		if m.Misconfiguration.Path != "" {
			return m.Misconfiguration.ID + " at /" + m.Misconfiguration.Path
		}
		return m.Misconfiguration.ID
	}
	return m.Finding.VulnerabilityID + " in " + m.Finding.PkgName
}
