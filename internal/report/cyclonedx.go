package report

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// WriteCycloneDX writes a CycloneDX 1.5 JSON BOM of the scanned packages
// with the findings in its vulnerabilities array (each affecting its
// package by bom-ref), as Trivy's -f cyclonedx does with --scanners vuln.
// The serial number is derived from the report, so the same scan gives
// the same document.
func WriteCycloneDX(w io.Writer, r *Report, o Options) error {
	bom := cdx.NewBOM()
	bom.SpecVersion = cdx.SpecVersion1_5
	bom.JSONSchema = "http://cyclonedx.org/schema/bom-1.5.schema.json"
	root := cdx.Component{BOMRef: "artifact", Type: cdx.ComponentTypeApplication, Name: r.ArtifactName}
	if r.ArtifactType == ArtifactContainerImage {
		root.Type = cdx.ComponentTypeContainer
	}
	tool := cdx.Component{Type: cdx.ComponentTypeApplication, Name: "tollgate", Version: o.ToolVersion}
	bom.Metadata = &cdx.Metadata{
		Timestamp: r.CreatedAt.UTC().Format(time.RFC3339),
		Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{tool}},
		Component: &root,
	}
	var comps []cdx.Component
	refs := map[string]bool{}
	refOf := func(name, version, purl string) string {
		if purl != "" {
			return purl
		}
		return name + "@" + version
	}
	for _, res := range r.Results {
		for _, p := range res.Packages {
			purl := ""
			if p.Identifier != nil {
				purl = p.Identifier.PURL
			}
			ref := refOf(p.Name, p.Version, purl)
			if refs[ref] {
				continue
			}
			refs[ref] = true
			comps = append(comps, cdx.Component{BOMRef: ref, Type: cdx.ComponentTypeLibrary, Name: p.Name, Version: p.Version, PackageURL: purl})
		}
	}
	slices.SortFunc(comps, func(a, b cdx.Component) int { return cmp.Compare(a.BOMRef, b.BOMRef) })
	byID := map[string]*cdx.Vulnerability{}
	var ids []string
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			cv, ok := byID[v.VulnerabilityID]
			if !ok {
				cv = cdxVulnerability(&v)
				byID[v.VulnerabilityID] = cv
				ids = append(ids, v.VulnerabilityID)
			}
			ref := refOf(v.PkgName, v.InstalledVersion, v.PkgIdentifier.PURL)
			affects := append(*cv.Affects, cdx.Affects{Ref: ref, Range: &[]cdx.AffectedVersions{{Version: v.InstalledVersion, Status: cdx.VulnerabilityStatusAffected}}})
			cv.Affects = &affects
		}
	}
	slices.Sort(ids)
	vulns := make([]cdx.Vulnerability, 0, len(ids))
	for _, id := range ids {
		vulns = append(vulns, *byID[id])
	}
	if len(comps) > 0 {
		bom.Components = &comps
	}
	if len(vulns) > 0 {
		bom.Vulnerabilities = &vulns
	}
	// A serial number from the content: deterministic, still unique per
	// distinct report.
	b, err := json.Marshal(bom)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:16])
	bom.SerialNumber = "urn:uuid:" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(bom)
}

func cdxVulnerability(v *Vulnerability) *cdx.Vulnerability {
	cv := &cdx.Vulnerability{ID: v.VulnerabilityID, Description: v.Title, Detail: v.Description, Affects: &[]cdx.Affects{}}
	if v.DataSource != nil {
		cv.Source = &cdx.Source{Name: v.DataSource.ID, URL: v.DataSource.URL}
	}
	if v.FixedVersion != "" {
		cv.Recommendation = "Upgrade " + v.PkgName + " to version " + v.FixedVersion
	}
	var ratings []cdx.VulnerabilityRating
	sources := make([]string, 0, len(v.CVSS))
	for s := range v.CVSS {
		sources = append(sources, s)
	}
	slices.Sort(sources)
	for _, s := range sources {
		c := v.CVSS[s]
		add := func(score float64, vector string, m cdx.ScoringMethod) {
			if vector == "" {
				return
			}
			sc := score
			ratings = append(ratings, cdx.VulnerabilityRating{Source: &cdx.Source{Name: s}, Score: &sc, Method: m, Vector: vector, Severity: cdx.Severity(strings.ToLower(levelOf(score)))})
		}
		add(c.V2Score, c.V2Vector, cdx.ScoringMethodCVSSv2)
		add(c.V3Score, c.V3Vector, cdx.ScoringMethodCVSSv31)
		add(c.V40Score, c.V40Vector, cdx.ScoringMethodCVSSv4)
	}
	if v.SeveritySource != "" && v.Severity != "UNKNOWN" {
		ratings = append(ratings, cdx.VulnerabilityRating{Source: &cdx.Source{Name: v.SeveritySource}, Severity: cdx.Severity(strings.ToLower(v.Severity)), Method: cdx.ScoringMethodOther})
	}
	if len(ratings) > 0 {
		cv.Ratings = &ratings
	}
	if len(v.References) > 0 || v.PrimaryURL != "" {
		var as []cdx.Advisory
		for _, u := range append([]string{v.PrimaryURL}, v.References...) {
			if u != "" && !slices.ContainsFunc(as, func(a cdx.Advisory) bool { return a.URL == u }) {
				as = append(as, cdx.Advisory{URL: u})
			}
		}
		cv.Advisories = &as
	}
	if v.PublishedDate != nil {
		cv.Published = v.PublishedDate.Format(time.RFC3339)
	}
	if v.LastModifiedDate != nil {
		cv.Updated = v.LastModifiedDate.Format(time.RFC3339)
	}
	if len(v.VendorIDs) > 0 {
		var props []cdx.Property
		for _, id := range v.VendorIDs {
			props = append(props, cdx.Property{Name: "tollgate:vendorID", Value: id})
		}
		cv.Properties = &props
	}
	return cv
}

// levelOf maps a CVSS score to a level with the NVD's bands.
func levelOf(score float64) string {
	switch {
	case score >= 9:
		return "CRITICAL"
	case score >= 7:
		return "HIGH"
	case score >= 4:
		return "MEDIUM"
	case score > 0:
		return "LOW"
	}
	return "UNKNOWN"
}
