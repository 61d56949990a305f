package report

import (
	"fmt"
	"io"
	"strconv"

	"github.com/tollgate-dev/tollgate/internal/sarif"
)

// securitySeverity is the score code scanning ranks a level by when the
// finding has no CVSS score (the middle of each NVD band).
var securitySeverity = map[string]float64{"CRITICAL": 9.5, "HIGH": 8.0, "MEDIUM": 5.5, "LOW": 2.0, "UNKNOWN": 0.0}

// WriteSARIF writes the findings as SARIF 2.1.0 for code scanning: one
// rule per vulnerability ID, one result per package × vulnerability,
// located at the package's file (the artifact for OS packages).
func WriteSARIF(w io.Writer, r *Report, o Options) error {
	driver := sarif.Driver{
		Name:           "tollgate",
		FullName:       "tollgate vulnerability scanner",
		Version:        o.ToolVersion,
		InformationURI: "https://github.com/tollgate-dev/tollgate",
		Rules:          []sarif.Rule{},
	}
	ruleIndex := map[string]int{}
	results := []sarif.Result{}
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			i, ok := ruleIndex[v.VulnerabilityID]
			if !ok {
				i = len(driver.Rules)
				ruleIndex[v.VulnerabilityID] = i
				driver.Rules = append(driver.Rules, sarifRule(&v, res.Class))
			}
			uri := v.PkgPath
			if uri == "" {
				uri = r.ArtifactName
			}
			results = append(results, sarif.Result{
				RuleID:    v.VulnerabilityID,
				RuleIndex: i,
				Level:     sarifLevel(v.Severity),
				Message: sarif.Text{Text: fmt.Sprintf("Package: %s\nInstalled Version: %s\nVulnerability %s\nSeverity: %s\nFixed Version: %s\nLink: [%s](%s)",
					v.PkgName, v.InstalledVersion, v.VulnerabilityID, v.Severity, v.FixedVersion, v.VulnerabilityID, v.PrimaryURL)},
				Locations: []sarif.Location{{PhysicalLocation: sarif.PhysicalLocation{
					ArtifactLocation: sarif.ArtifactLocation{URI: sarif.URI(uri)},
					Region:           &sarif.Region{StartLine: 1},
				}}},
			})
		}
	}
	results = sarifChecks(&driver, ruleIndex, results, r)
	return sarif.Write(w, sarif.Log{Schema: sarif.Schema, Version: sarif.Version, Runs: []sarif.Run{{Tool: sarif.Tool{Driver: driver}, Results: results}}})
}

func sarifRule(v *Vulnerability, class string) sarif.Rule {
	name := "LanguageSpecificPackageVulnerability"
	if class == ClassOSPkgs {
		name = "OsPackageVulnerability"
	}
	title := v.Title
	if title == "" {
		title = v.VulnerabilityID
	}
	desc := v.Description
	if desc == "" {
		desc = title
	}
	score := securitySeverity[v.Severity]
	for _, c := range v.CVSS {
		score = max(score, c.V3Score, c.V40Score)
	}
	return sarif.Rule{
		ID:                   v.VulnerabilityID,
		Name:                 name,
		ShortDescription:     sarif.Text{Text: title},
		FullDescription:      sarif.Text{Text: desc},
		Help:                 sarif.Text{Text: fmt.Sprintf("Vulnerability %s\nSeverity: %s\nPackage: %s\nFixed Version: %s\nLink: %s\n%s", v.VulnerabilityID, v.Severity, v.PkgName, v.FixedVersion, v.PrimaryURL, desc)},
		HelpURI:              v.PrimaryURL,
		DefaultConfiguration: sarif.RuleConfig{Level: sarifLevel(v.Severity)},
		Properties: map[string]any{
			"precision":         "very-high",
			"security-severity": strconv.FormatFloat(score, 'f', 1, 64),
			"tags":              []string{"vulnerability", "security", v.Severity},
		},
	}
}

func sarifLevel(sev string) string {
	switch sev {
	case "CRITICAL", "HIGH":
		return "error"
	case "MEDIUM":
		return "warning"
	}
	return "note"
}
