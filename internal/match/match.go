// Package match decides which advisories affect which packages: an
// inventory's packages × the advisory DB → findings, each with its fix
// status, fixed version, severity and where that came from, and an
// explanation of why it matched. It is pure: it reads the DB through the
// small Source interface and does no other I/O.
//
// The rules are the ones distro-aware scanners use, done carefully:
//   - distro packages are looked up by their source package and compared
//     by their source version with the distro's ordering, for the release
//     the image runs ("Debian:12", "Alpine:v3.19"), so a binNMU binary
//     ("+b1") or an apk subpackage (origin ≠ name) matches its source's
//     advisories; packages from third-party repositories are not matched
//     against distro data and are listed as skipped;
//   - language packages are looked up in their ecosystem (Go modules and
//     the binary's stdlib, PyPI with PEP 503 names, npm, Maven, …); a Go
//     record that names the vulnerable packages of a module matches a Go
//     binary only when the binary contains one of them (what govulncheck
//     does for binaries at package level); without a package list (go.mod,
//     an unreadable binary) the whole module matches and the finding says
//     so;
//   - IDs are reported as Trivy reports them (the CVE where a record is one
//     vendor's view of one CVE; DSA/DLA split per CVE with the vendor ID
//     kept), one finding per (package, vulnerability);
//   - a version that cannot be compared is a skip the report shows, never
//     a silent "not affected".
package match

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/advisory"
	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/version"
)

// Source is what matching reads from the advisory DB; *advisory.DB
// implements it.
type Source interface {
	Lookup(ecosystem, name string) ([]advisory.Advisory, error)
	Get(id string) (advisory.Advisory, bool, error)
	ResolveSeverity(adv advisory.Advisory, ecosystem, name string) ([]advisory.Severity, error)
	Metadata() advisory.Metadata
}

var _ Source = (*advisory.DB)(nil)

// Status is a finding's fix status, in Trivy's words.
type Status string

// The statuses a finding can have.
const (
	StatusFixed       Status = "fixed"
	StatusAffected    Status = "affected"
	StatusWillNotFix  Status = "will_not_fix"
	StatusFixDeferred Status = "fix_deferred"
	StatusEndOfLife   Status = "end_of_life"
)

// Statuses lists the statuses, for flag validation.
var Statuses = []Status{StatusFixed, StatusAffected, StatusWillNotFix, StatusFixDeferred, StatusEndOfLife}

// Finding is one vulnerability of one package.
type Finding struct {
	// Pkg is the index of the package in the matched list.
	Pkg     int
	Package inventory.Package
	// VulnerabilityID is the ID reported (a CVE where there is one);
	// VendorIDs the records of vendors folded into it (DSA-…, GHSA-…).
	VulnerabilityID string
	VendorIDs       []string
	// InstalledVersion is the binary package's version as installed.
	InstalledVersion string
	FixedVersion     string
	Status           Status
	Severity         advisory.Level
	// SeveritySource names who gave Severity ("debian", "nvd", "ghsa").
	SeveritySource string
	// Ratings are all the ratings found for the vulnerability, the chosen
	// one first.
	Ratings     []advisory.Severity
	Title       string
	Description string
	References  []string
	PrimaryURL  string
	DataSource  DataSource
	Published   time.Time
	Modified    time.Time
	CWEs        []string
	Explanation Explanation
}

// DataSource names the database a finding's record came from.
type DataSource struct {
	ID   string
	Name string
	URL  string
}

// Explanation says why a finding exists.
type Explanation struct {
	// Record is the advisory whose range matched; Records every advisory
	// folded into the finding.
	Record  string
	Records []string
	// Ecosystem and Package are what was looked up (the source package of
	// a distro binary); Compared is the version compared (the source
	// version) and Installed the binary package's version.
	Ecosystem string
	Package   string
	Compared  string
	// Range is the matched interval in words ("introduced 0, fixed
	// 1.2-3"), or "listed in versions".
	Range    string
	Ordering string
	// Severity says where the severity came from.
	Severity string
	// Code says, for a Go module, whether the match was narrowed to the
	// packages the record names: the binary contains one of them, or why
	// the whole module was matched. "" for other ecosystems.
	Code string
}

// SkipReason says why a package was not matched.
type SkipReason string

// Reasons packages are skipped.
const (
	// SkipThirdParty: a distro package from a third-party repository;
	// distro advisories do not describe it.
	SkipThirdParty SkipReason = "third-party"
	// SkipInvalidVersion: the version cannot be compared: an error, the
	// package may be vulnerable.
	SkipInvalidVersion SkipReason = "invalid-version"
	// SkipNoVersion: the package has no version (a Go main module built
	// from a checkout).
	SkipNoVersion SkipReason = "no-version"
	// SkipNoData: the DB has no advisories for the package's ecosystem or
	// release.
	SkipNoData SkipReason = "no-data"
)

// Skip is a package deliberately not matched, and why.
type Skip struct {
	Pkg     int
	Package inventory.Package
	Reason  SkipReason
	Detail  string
}

// IsError reports whether the skip hides a possible vulnerability the
// user must look at (a version that cannot be compared).
func (s Skip) IsError() bool { return s.Reason == SkipInvalidVersion }

// Input is what to match.
type Input struct {
	OS       *inventory.OS
	Packages []inventory.Package
}

// Result is what matching found.
type Result struct {
	Findings []Finding
	Skipped  []Skip
}

// Match matches every package of in against src. An error is a DB that
// cannot be read; problems of single packages are skips.
func Match(src Source, in Input) (*Result, error) {
	m := matcher{src: src, ecos: src.Metadata().Ecosystems, in: in, texts: map[string]*advisory.Advisory{}}
	res := &Result{}
	for i := range in.Packages {
		fs, skip, err := m.pkg(i)
		if err != nil {
			return nil, err
		}
		if skip != nil {
			res.Skipped = append(res.Skipped, *skip)
		}
		res.Findings = append(res.Findings, fs...)
	}
	SortFindings(res.Findings)
	return res, nil
}

// SortFindings orders findings as Trivy's table does: by package name,
// package ID, installed version, severity (highest first), ID, path.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Package.Name, b.Package.Name),
			cmp.Compare(a.InstalledVersion, b.InstalledVersion),
			cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			cmp.Compare(a.VulnerabilityID, b.VulnerabilityID),
			cmp.Compare(a.Package.FilePath, b.Package.FilePath),
			cmp.Compare(a.Pkg, b.Pkg),
		)
	})
}

type matcher struct {
	src   Source
	ecos  map[string]int
	in    Input
	texts map[string]*advisory.Advisory // records looked up by Get, nil when absent
}

// IsDistro reports whether a package is an OS package (dpkg, apk, rpm).
func IsDistro(p *inventory.Package) bool {
	switch p.Type {
	case inventory.TypeDpkg, inventory.TypeApk, inventory.TypeRPM:
		return true
	}
	return false
}

// target returns the ecosystem, name and version a package is looked up
// and compared by.
func (m *matcher) target(p *inventory.Package) (eco, name, ver string, skip *Skip) {
	if IsDistro(p) {
		eco = m.in.OS.OSVEcosystem()
		if eco == "" {
			what := "no OS release was detected"
			if m.in.OS != nil {
				what = fmt.Sprintf("OSV has no advisories keyed for %s %s", m.in.OS.Family, m.in.OS.Name)
			}
			return "", "", "", &Skip{Reason: SkipNoData, Detail: what}
		}
		name, ver = cmp.Or(p.SrcName, p.Name), cmp.Or(p.SrcVersion, p.Version)
		if why := thirdParty(p); why != "" {
			return "", "", "", &Skip{Reason: SkipThirdParty, Detail: why}
		}
		return eco, name, ver, nil
	}
	return p.Ecosystem, p.Name, p.Version, nil
}

func (m *matcher) pkg(i int) ([]Finding, *Skip, error) {
	p := &m.in.Packages[i]
	eco, name, ver, skip := m.target(p)
	if skip != nil {
		skip.Pkg, skip.Package = i, *p
		return nil, skip, nil
	}
	if ver == "" {
		return nil, &Skip{Pkg: i, Package: *p, Reason: SkipNoVersion, Detail: "the package has no version to compare"}, nil
	}
	if eco == "" {
		return nil, &Skip{Pkg: i, Package: *p, Reason: SkipNoData, Detail: fmt.Sprintf("no advisory ecosystem is known for %s packages", p.Type)}, nil
	}
	if m.ecos[version.Base(eco)] == 0 {
		return nil, &Skip{Pkg: i, Package: *p, Reason: SkipNoData, Detail: fmt.Sprintf("the advisory DB holds no %s advisories", version.Base(eco))}, nil
	}
	if !version.Supported(eco) {
		return nil, &Skip{Pkg: i, Package: *p, Reason: SkipNoData, Detail: fmt.Sprintf("no version ordering is known for %s", eco)}, nil
	}
	if _, err := version.Parse(eco, ver); err != nil {
		return nil, &Skip{Pkg: i, Package: *p, Reason: SkipInvalidVersion, Detail: err.Error()}, nil
	}
	advs, err := m.src.Lookup(eco, name)
	if err != nil {
		return nil, nil, err
	}
	var cands []candidate
	var absent []*advisory.Advisory // records whose packages the binary lacks
	for ai := range advs {
		adv := &advs[ai]
		lacks := false
		for fi := range adv.Affected {
			af := &adv.Affected[fi]
			v, err := af.Check(ver)
			if err != nil {
				// The installed version parsed above; an error here is a
				// record whose range the ordering cannot read.
				return nil, &Skip{Pkg: i, Package: *p, Reason: SkipInvalidVersion, Detail: fmt.Sprintf("%s: %v", adv.ID, err)}, nil
			}
			if !v.Affected {
				continue
			}
			code, inBinary := goCode(p, af)
			if !inBinary {
				lacks = true
				continue // another entry of the record may name packages the binary has
			}
			if v.InVersions && v.Fixed == "" {
				v.Fixed = nextFix(af, eco, ver)
			}
			for _, id := range reportedIDs(adv) {
				cands = append(cands, candidate{id: id, adv: adv, af: af, verdict: v, code: code})
			}
			lacks = false
			break // one entry of a record decides
		}
		if lacks {
			absent = append(absent, adv)
		}
	}
	var out []Finding
	for _, group := range withoutAbsentCode(groupByID(cands), absent) {
		f, err := m.finding(i, p, eco, name, ver, group)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, f)
	}
	return out, nil, nil
}

// candidate is one record's match, under the ID it is reported as.
type candidate struct {
	id      string
	adv     *advisory.Advisory
	af      *advisory.Affected
	verdict advisory.Verdict
	code    goVerdict
}

func groupByID(cs []candidate) [][]candidate {
	idx := map[string]int{}
	var groups [][]candidate
	for _, c := range cs {
		j, ok := idx[c.id]
		if !ok {
			j = len(groups)
			idx[c.id] = j
			groups = append(groups, nil)
		}
		groups[j] = append(groups[j], c)
	}
	slices.SortFunc(groups, func(a, b []candidate) int { return cmp.Compare(a[0].id, b[0].id) })
	return groups
}

// primary orders a group's candidates: the record that is the
// vulnerability itself or one vendor's view of it (CVE-…, DEBIAN-CVE-…)
// before advisories that cover several (DSA, DLA), then by ID.
func primary(group []candidate) {
	slices.SortStableFunc(group, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.adv.ID, b.adv.ID))
	})
}

func rank(c candidate) int {
	switch {
	case c.adv.ID == c.id:
		return 0
	case isVendorCVE(c.adv.ID):
		return 1
	}
	return 2
}

func (m *matcher) finding(i int, p *inventory.Package, eco, name, ver string, group []candidate) (Finding, error) {
	primary(group)
	best := group[0]
	f := Finding{
		Pkg:              i,
		Package:          *p,
		VulnerabilityID:  best.id,
		InstalledVersion: p.Version,
		FixedVersion:     best.verdict.Fixed,
	}
	var records []string
	for _, c := range group {
		records = append(records, c.adv.ID)
		if c.adv.ID != best.id && !isVendorCVE(c.adv.ID) {
			f.VendorIDs = append(f.VendorIDs, c.adv.ID)
		}
		if f.FixedVersion == "" && c.verdict.Fixed != "" {
			f.FixedVersion = c.verdict.Fixed
		}
	}
	slices.Sort(records)
	records = slices.Compact(records)
	slices.Sort(f.VendorIDs)
	f.VendorIDs = slices.Compact(f.VendorIDs)
	switch {
	case f.FixedVersion != "":
		f.Status = StatusFixed
	case best.af.Status != "":
		f.Status = Status(best.af.Status)
	default:
		f.Status = StatusAffected
	}

	// Severity: the first record about this vulnerability that rates it.
	recs, err := m.severityRecords(best.id, group)
	if err != nil {
		return Finding{}, err
	}
	for _, rec := range recs {
		ratings, err := m.src.ResolveSeverity(*rec, eco, name)
		if err != nil {
			return Finding{}, err
		}
		if chosen, ok := advisory.Preferred(ratings); ok {
			f.Severity, f.SeveritySource = chosen.Level, chosen.Source
			f.Ratings = append([]advisory.Severity{chosen}, withoutRating(ratings, chosen)...)
			f.Explanation.Severity = severityWords(chosen)
			break
		}
	}
	if f.Severity == "" {
		f.Severity = advisory.LevelUnknown
		f.Explanation.Severity = "no record of this vulnerability rates it: UNKNOWN"
	}

	// Texts: the record of the reported ID itself when the DB has one,
	// else the group's records in order.
	texts := []*advisory.Advisory{}
	if rec, err := m.record(best.id); err != nil {
		return Finding{}, err
	} else if rec != nil {
		texts = append(texts, rec)
	}
	texts = append(texts, recs...)
	for _, c := range group {
		texts = append(texts, c.adv)
	}
	for _, t := range texts {
		if f.Title == "" && t.Summary != "" && !isBoilerplate(t.Summary) {
			f.Title = t.Summary
		}
		if f.Description == "" {
			f.Description = t.Details
		}
		if f.Published.IsZero() {
			f.Published = t.Published
		}
		if f.Modified.IsZero() {
			f.Modified = t.Modified
		}
		for _, r := range t.References {
			if !slices.Contains(f.References, r.URL) {
				f.References = append(f.References, r.URL)
			}
		}
	}
	f.PrimaryURL = primaryURL(best.id)
	f.DataSource = dataSource(best.adv.ID, eco)
	f.Explanation = Explanation{
		Record:    best.adv.ID,
		Records:   records,
		Ecosystem: eco,
		Package:   name,
		Compared:  ver,
		Range:     rangeWords(best.verdict),
		Ordering:  string(best.verdict.Ordering),
		Severity:  f.Explanation.Severity,
		Code:      codeWords(group),
	}
	return f, nil
}

// severityRecords lists the records whose ratings may rate the finding,
// in the order they are asked: the group's records about this one
// vulnerability (the record itself, a vendor's view of it, a GHSA or GO
// record aliasing only it), then the DB's records of the ID and its
// vendor views. A DSA covering several CVEs is never asked: its links
// lead to every one of them.
func (m *matcher) severityRecords(id string, group []candidate) ([]*advisory.Advisory, error) {
	var out []*advisory.Advisory
	seen := map[string]bool{}
	add := func(a *advisory.Advisory) {
		if a != nil && !seen[a.ID] {
			seen[a.ID] = true
			out = append(out, a)
		}
	}
	for _, c := range group {
		if rank(c) < 2 || len(cveIDs(c.adv)) <= 1 {
			add(c.adv)
		}
	}
	if strings.HasPrefix(id, "CVE-") {
		for _, prefix := range vendorCVEPrefixes {
			rec, err := m.record(prefix + id)
			if err != nil {
				return nil, err
			}
			add(rec)
		}
		rec, err := m.record(id)
		if err != nil {
			return nil, err
		}
		add(rec)
	}
	return out, nil
}

// record returns the DB's record with the ID, nil when it has none.
func (m *matcher) record(id string) (*advisory.Advisory, error) {
	if r, ok := m.texts[id]; ok {
		return r, nil
	}
	a, ok, err := m.src.Get(id)
	if err != nil {
		return nil, err
	}
	var r *advisory.Advisory
	if ok && !a.IsWithdrawn() {
		r = &a
	}
	m.texts[id] = r
	return r, nil
}

func withoutRating(rs []advisory.Severity, chosen advisory.Severity) []advisory.Severity {
	out := make([]advisory.Severity, 0, len(rs))
	for _, r := range rs {
		if r != chosen {
			out = append(out, r)
		}
	}
	return out
}

func severityWords(s advisory.Severity) string {
	if s.IsVendor() {
		return fmt.Sprintf("%s %q in %s (%s): %s", s.Type, s.Value, s.Record, s.Source, s.Level)
	}
	return fmt.Sprintf("%s %s, score %.1f, in %s (%s): %s", s.Type, s.Value, s.Score, s.Record, s.Source, s.Level)
}

func rangeWords(v advisory.Verdict) string {
	if v.InVersions {
		return "listed in the record's affected versions"
	}
	var parts []string
	if v.Introduced != "" {
		parts = append(parts, "introduced "+v.Introduced)
	}
	if v.Fixed != "" {
		parts = append(parts, "fixed "+v.Fixed)
	}
	if v.LastAffected != "" {
		parts = append(parts, "last affected "+v.LastAffected)
	}
	if v.Fixed == "" && v.LastAffected == "" {
		parts = append(parts, "no fix")
	}
	return strings.Join(parts, ", ")
}

// isBoilerplate reports DSA/DLA summaries like "curl - security update",
// which name the package, not the vulnerability.
func isBoilerplate(s string) bool {
	return strings.HasSuffix(s, " - security update") || strings.HasSuffix(s, " - regression update")
}

// nextFix returns the lowest fixed event of the entry's ranges above ver,
// for a version matched by the entry's versions list (which says
// nothing about fixes).
func nextFix(af *advisory.Affected, eco, ver string) string {
	iv, err := version.Parse(eco, ver)
	if err != nil {
		return ""
	}
	var best version.Version
	found := false
	for _, r := range af.Ranges {
		if r.Type != advisory.RangeEcosystem {
			continue
		}
		for _, e := range r.Events {
			if e.Kind != advisory.Fixed {
				continue
			}
			fv, err := version.Parse(eco, e.Version)
			if err != nil || fv.Compare(iv) <= 0 {
				continue
			}
			if !found || fv.Compare(best) < 0 {
				best, found = fv, true
			}
		}
	}
	if !found {
		return ""
	}
	return best.String()
}
