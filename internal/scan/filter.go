package scan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/report"
)

// Package type groups of --pkg-types.
const (
	PkgTypeOS      = "os"
	PkgTypeLibrary = "library"
)

// Filter decides which findings a report keeps. The zero Filter keeps
// everything.
type Filter struct {
	// Severities to keep (upper case); empty keeps all.
	Severities []string
	// IgnoreStatuses drops findings with these statuses; IgnoreUnfixed
	// adds every status but fixed (Trivy's --ignore-unfixed).
	IgnoreStatuses []match.Status
	IgnoreUnfixed  bool
	// PkgTypes keeps only results of these groups (os, library); empty
	// keeps both.
	PkgTypes []string
	// Ignore holds the ignore-file rules; VEX the VEX statements.
	Ignore []IgnoreRule
	VEX    []VEXStatement
}

// ParseSeverities reads -s values (a comma list in each, any case).
func ParseSeverities(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			s = strings.ToUpper(strings.TrimSpace(s))
			if s == "" {
				continue
			}
			if !slices.Contains(report.Severities, s) {
				return nil, outcome.Usagef("unknown severity %q: use %s", s, strings.Join(report.Severities, ", "))
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	// Lowest first, whatever order they were given in.
	slices.SortFunc(out, func(a, b string) int { return slices.Index(report.Severities, a) - slices.Index(report.Severities, b) })
	return out, nil
}

// ParseStatuses reads --ignore-status values.
func ParseStatuses(values []string) ([]match.Status, error) {
	var out []match.Status
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			s = strings.ToLower(strings.TrimSpace(s))
			if s == "" {
				continue
			}
			if !slices.Contains(match.Statuses, match.Status(s)) {
				var names []string
				for _, st := range match.Statuses {
					names = append(names, string(st))
				}
				return nil, outcome.Usagef("unknown status %q: use %s", s, strings.Join(names, ", "))
			}
			out = append(out, match.Status(s))
		}
	}
	return out, nil
}

// ParsePkgTypes reads --pkg-types values.
func ParsePkgTypes(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			s = strings.ToLower(strings.TrimSpace(s))
			switch s {
			case "":
			case PkgTypeOS, PkgTypeLibrary:
				out = append(out, s)
			default:
				return nil, outcome.Usagef("unknown package type %q: use os, library", s)
			}
		}
	}
	return out, nil
}

func (f *Filter) dropsStatus(s string) bool {
	if f.IgnoreUnfixed && s != string(match.StatusFixed) {
		return true
	}
	return slices.Contains(f.IgnoreStatuses, match.Status(s))
}

// apply filters r in place: severity, status and package type drop
// findings; ignore rules and VEX statements move them to the results'
// ModifiedFindings, so the report says what was suppressed and by whom.
func (f *Filter) apply(r *report.Report, now time.Time) error {
	r.Severities = f.Severities
	if len(f.PkgTypes) > 0 {
		kept := r.Results[:0]
		for _, res := range r.Results {
			group := PkgTypeLibrary
			if res.Class == report.ClassOSPkgs {
				group = PkgTypeOS
			}
			if slices.Contains(f.PkgTypes, group) {
				kept = append(kept, res)
			}
		}
		r.Results = kept
	}
	for i := range r.Results {
		res := &r.Results[i]
		kept := res.Vulnerabilities[:0]
		for _, v := range res.Vulnerabilities {
			if len(f.Severities) > 0 && !slices.Contains(f.Severities, v.Severity) {
				continue
			}
			if f.dropsStatus(v.Status) {
				continue
			}
			if j, ok := f.ignored(&v, now); ok {
				rule := f.Ignore[j]
				res.ModifiedFindings = append(res.ModifiedFindings, report.ModifiedFinding{Type: "vulnerability", Status: "ignored", Statement: rule.Statement, Source: rule.Source, Finding: v})
				continue
			}
			if st, ok := f.vex(&v); ok {
				res.ModifiedFindings = append(res.ModifiedFindings, report.ModifiedFinding{Type: "vulnerability", Status: st.Status, Statement: st.Statement, Source: st.Source, Finding: v})
				continue
			}
			kept = append(kept, v)
		}
		res.Vulnerabilities = kept
	}
	for _, rule := range f.Ignore {
		if rule.expired(now) {
			r.Notes = append(r.Notes, fmt.Sprintf("%s: the entry for %s expired on %s and no longer applies", rule.Source, rule.ID, rule.Expires.Format(time.DateOnly)))
		}
	}
	return nil
}

// ignored returns the index of the first live ignore rule for v.
func (f *Filter) ignored(v *report.Vulnerability, now time.Time) (int, bool) {
	for j := range f.Ignore {
		if f.Ignore[j].matches(v, now) {
			return j, true
		}
	}
	return 0, false
}

// vex returns the first statement that suppresses v.
func (f *Filter) vex(v *report.Vulnerability) (VEXStatement, bool) {
	for _, st := range f.VEX {
		if st.suppresses(v) {
			return st, true
		}
	}
	return VEXStatement{}, false
}

// idOf reports whether v is known by id (its ID or one of its vendor IDs).
func idOf(v *report.Vulnerability, id string) bool {
	return v.VulnerabilityID == id || slices.Contains(v.VendorIDs, id)
}
