package scan

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/tollgate-dev/tollgate/internal/advisory"
	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/internal/report"
)

// aggregated are the package types whose packages are reported in one
// result per kind, as Trivy reports installed language packages of an
// image; each finding keeps its file in PkgPath.
var aggregated = map[string]string{
	inventory.TypeNodePkg:   "Node.js",
	inventory.TypePythonPkg: "Python",
	inventory.TypeJar:       "Java",
}

// build turns an artifact and its matches into the report.
func build(a *artifact, res *match.Result, o Options) *report.Report {
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		CreatedAt:     o.Now.UTC().Truncate(1e9),
		ArtifactName:  a.name,
		ArtifactType:  a.typ,
		Metadata:      a.meta,
		Notes:         slices.Clone(a.notes),
		Inventory:     a.inv,
	}
	inv := a.inv
	src := inv.Source
	r.Metadata.ImageID = src.ImageID
	r.Metadata.RepoTags = src.RepoTags
	r.Metadata.RepoDigests = src.RepoDigests
	r.Metadata.ImageConfig = src.Config
	for _, l := range src.Layers {
		r.Metadata.DiffIDs = append(r.Metadata.DiffIDs, l.DiffID)
		r.Metadata.Layers = append(r.Metadata.Layers, report.LayerInfo{Digest: l.Digest, DiffID: l.DiffID})
	}
	if inv.OS != nil {
		r.Metadata.OS = &report.OS{Family: inv.OS.Family, Name: inv.OS.Name}
		if eol, known := EndOfLife(inv.OS, o.Now); eol {
			r.Metadata.OS.EOSL = true
			r.Notes = append(r.Notes, fmt.Sprintf("%s %s is past its end of support: the distribution publishes no more fixes, and advisories may be missing", inv.OS.Family, inv.OS.Name))
		} else if !known {
			r.Notes = append(r.Notes, fmt.Sprintf("%s %s is not in tollgate's table of release support dates", inv.OS.Family, inv.OS.Name))
		}
	}
	for _, w := range inv.Warnings {
		r.Notes = append(r.Notes, w)
	}

	// One result per target; remember which result each package is in.
	resultOf := make([]int, len(inv.Packages))
	index := map[string]int{}
	add := func(key string, res report.Result) int {
		if i, ok := index[key]; ok {
			return i
		}
		index[key] = len(r.Results)
		r.Results = append(r.Results, res)
		return len(r.Results) - 1
	}
	if inv.OS != nil {
		add("os", report.Result{Target: fmt.Sprintf("%s (%s %s)", a.name, inv.OS.Family, inv.OS.Name), Class: report.ClassOSPkgs, Type: inv.OS.Family})
	}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		var ri int
		switch {
		case match.IsDistro(p):
			family := "unknown"
			if inv.OS != nil {
				family = inv.OS.Family
			}
			ri = add("os", report.Result{Target: a.name + " (" + family + ")", Class: report.ClassOSPkgs, Type: family})
		case aggregated[p.Type] != "":
			ri = add("type:"+p.Type, report.Result{Target: aggregated[p.Type], Class: report.ClassLangPkgs, Type: p.Type})
		default:
			ri = add("file:"+p.Type+":"+p.FilePath, report.Result{Target: p.FilePath, Class: report.ClassLangPkgs, Type: p.Type})
		}
		resultOf[i] = ri
		r.Results[ri].Packages = append(r.Results[ri].Packages, reportPackage(p))
	}
	for _, f := range res.Findings {
		ri := resultOf[f.Pkg]
		r.Results[ri].Vulnerabilities = append(r.Results[ri].Vulnerabilities, Vulnerability(&f, aggregated[f.Package.Type] != ""))
	}
	for i := range r.Results {
		slices.SortStableFunc(r.Results[i].Packages, func(x, y report.Package) int {
			return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.Version, y.Version), cmp.Compare(x.FilePath, y.FilePath))
		})
	}
	// OS first, then by target.
	slices.SortStableFunc(r.Results, func(x, y report.Result) int {
		return cmp.Or(cmp.Compare(classRank(x.Class), classRank(y.Class)), cmp.Compare(x.Target, y.Target), cmp.Compare(x.Type, y.Type))
	})
	for _, s := range res.Skipped {
		r.NotMatched = append(r.NotMatched, report.NotMatched{
			PkgName: s.Package.Name, Version: s.Package.Version, Type: s.Package.Type, FilePath: s.Package.FilePath,
			Reason: string(s.Reason), Detail: s.Detail, Error: s.IsError(),
		})
	}
	return r
}

func classRank(c string) int {
	if c == report.ClassOSPkgs {
		return 0
	}
	return 1
}

func reportPackage(p *inventory.Package) report.Package {
	rp := report.Package{
		ID:         p.Name + "@" + p.Version,
		Name:       p.Name,
		Version:    p.Version,
		Arch:       p.Arch,
		Licenses:   p.Licenses,
		Maintainer: p.Maintainer,
		FilePath:   p.FilePath,
		Layer:      layer(p),
	}
	if p.PURL != "" {
		rp.Identifier = &report.PkgIdentifier{PURL: p.PURL}
	}
	if match.IsDistro(p) {
		rp.SrcName, rp.SrcVersion = p.SrcName, p.SrcVersion
		rp.FilePath = ""
	}
	return rp
}

func layer(p *inventory.Package) *report.Layer {
	if p.Layer == nil {
		return nil
	}
	return &report.Layer{Digest: p.Layer.Digest, DiffID: p.Layer.DiffID}
}

// Vulnerability renders a finding as the report shows it; withPath sets
// PkgPath (packages reported in one result per kind).
func Vulnerability(f *match.Finding, withPath bool) report.Vulnerability {
	p := &f.Package
	v := report.Vulnerability{
		VulnerabilityID:  f.VulnerabilityID,
		VendorIDs:        f.VendorIDs,
		PkgID:            p.Name + "@" + p.Version,
		PkgName:          p.Name,
		PkgIdentifier:    report.PkgIdentifier{PURL: p.PURL},
		InstalledVersion: f.InstalledVersion,
		FixedVersion:     f.FixedVersion,
		Status:           string(f.Status),
		Layer:            layer(p),
		SeveritySource:   f.SeveritySource,
		PrimaryURL:       f.PrimaryURL,
		Title:            f.Title,
		Description:      f.Description,
		Severity:         string(f.Severity),
		CweIDs:           f.CWEs,
		References:       f.References,
	}
	if withPath {
		v.PkgPath = p.FilePath
	}
	if f.DataSource.ID != "" {
		ds := report.DataSource(f.DataSource)
		v.DataSource = &ds
	}
	if !f.Published.IsZero() {
		t := f.Published.UTC()
		v.PublishedDate = &t
	}
	if !f.Modified.IsZero() {
		t := f.Modified.UTC()
		v.LastModifiedDate = &t
	}
	for _, s := range f.Ratings {
		if s.Level == advisory.LevelUnknown || s.Source == "" {
			continue
		}
		if v.VendorSeverity == nil {
			v.VendorSeverity = map[string]int{}
		}
		v.VendorSeverity[s.Source] = max(v.VendorSeverity[s.Source], s.Level.Rank())
		if s.IsVendor() {
			continue
		}
		if v.CVSS == nil {
			v.CVSS = map[string]report.CVSS{}
		}
		c := v.CVSS[s.Source]
		switch s.Type {
		case advisory.CVSSv2:
			c.V2Vector, c.V2Score = s.Value, s.Score
		case advisory.CVSSv3:
			c.V3Vector, c.V3Score = s.Value, s.Score
		case advisory.CVSSv4:
			c.V40Vector, c.V40Score = s.Value, s.Score
		}
		v.CVSS[s.Source] = c
	}
	e := f.Explanation
	v.Explanation = &report.Explanation{
		Record: e.Record, Records: e.Records, Ecosystem: e.Ecosystem, Package: e.Package,
		Compared: e.Compared, Range: e.Range, Ordering: e.Ordering, Severity: e.Severity, Code: e.Code,
	}
	return v
}
