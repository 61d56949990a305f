package report

import (
	"fmt"
	"strconv"

	"github.com/tollgate-dev/tollgate/internal/sarif"
)

// sarifChecks adds the secrets and failed checks to a SARIF run: one rule
// per secret rule or check ID, one result per finding at its file and
// line (the artifact for image config findings). Messages carry the
// masked match, never the value.
func sarifChecks(driver *sarif.Driver, ruleIndex map[string]int, results []sarif.Result, r *Report) []sarif.Result {
	rule := func(id, name, title, desc, sev, tag string) int {
		if i, ok := ruleIndex[id]; ok {
			return i
		}
		i := len(driver.Rules)
		ruleIndex[id] = i
		driver.Rules = append(driver.Rules, sarif.Rule{
			ID:                   id,
			Name:                 name,
			ShortDescription:     sarif.Text{Text: title},
			FullDescription:      sarif.Text{Text: desc},
			Help:                 sarif.Text{Text: fmt.Sprintf("%s %s\nSeverity: %s\n%s", tag, id, sev, desc)},
			DefaultConfiguration: sarif.RuleConfig{Level: sarifLevel(sev)},
			Properties: map[string]any{
				"precision":         "very-high",
				"security-severity": strconv.FormatFloat(securitySeverity[sev], 'f', 1, 64),
				"tags":              []string{tag, "security", sev},
			},
		})
		return i
	}
	at := func(uri string, line int) []sarif.Location {
		return []sarif.Location{{PhysicalLocation: sarif.PhysicalLocation{
			ArtifactLocation: sarif.ArtifactLocation{URI: sarif.URI(uri)},
			Region:           &sarif.Region{StartLine: max(line, 1)},
		}}}
	}
	for _, res := range r.Results {
		for _, s := range res.Secrets {
			i := rule(s.RuleID, "Secret", s.Title, s.Title, s.Severity, "secret")
			results = append(results, sarif.Result{
				RuleID: s.RuleID, RuleIndex: i, Level: sarifLevel(s.Severity),
				Message:   sarif.Text{Text: fmt.Sprintf("Artifact: %s\nType: %s\nSecret %s\nSeverity: %s\nMatch: %s", s.Path, s.Category, s.Title, s.Severity, s.Match)},
				Locations: at(s.Path, s.StartLine),
			})
		}
		for _, m := range res.Misconfigurations {
			i := rule(m.ID, "Misconfiguration", m.Title, m.Description, m.Severity, "misconfiguration")
			uri := m.Path
			if uri == "" {
				uri = r.ArtifactName
			}
			results = append(results, sarif.Result{
				RuleID: m.ID, RuleIndex: i, Level: sarifLevel(m.Severity),
				Message:   sarif.Text{Text: fmt.Sprintf("Artifact: %s\nType: %s\nMisconfiguration %s\nSeverity: %s\nMessage: %s", r.ArtifactName, m.Type, m.ID, m.Severity, m.Message)},
				Locations: at(uri, 1),
			})
		}
	}
	return results
}
