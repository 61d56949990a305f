package scan

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/report"
	"github.com/tollgate-dev/tollgate/internal/secret"
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
			if m, ok := f.suppressed(vulnSubject(&v), now); ok {
				m.Finding = v
				res.ModifiedFindings = append(res.ModifiedFindings, m)
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

// subject is what ignore rules and VEX statements match a finding by.
type subject struct {
	kind  string   // report.FindingVulnerability …
	ids   []string // the finding's IDs (a vulnerability's vendor IDs too)
	path  string   // the file it is in ("" when none)
	purl  string   // its package's purl; the image's for secrets and checks
	layer *report.Layer
}

func vulnSubject(v *report.Vulnerability) *subject {
	return &subject{kind: report.FindingVulnerability, ids: append([]string{v.VulnerabilityID}, v.VendorIDs...),
		path: v.PkgPath, purl: v.PkgIdentifier.PURL, layer: v.Layer}
}

// secretSubject and checkSubject describe secrets and image checks; purl
// is the image's.
func secretSubject(s *report.Secret, purl string) *subject {
	return &subject{kind: report.FindingSecret, ids: []string{s.RuleID}, path: s.Path, purl: purl, layer: checkLayer(s.Layer)}
}

func checkSubject(m *report.Misconfiguration, purl string) *subject {
	return &subject{kind: report.FindingMisconfiguration, ids: []string{m.ID}, path: m.Path, purl: purl, layer: checkLayer(m.Layer)}
}

func checkLayer(l *secret.Layer) *report.Layer {
	if l == nil {
		return nil
	}
	return &report.Layer{Digest: l.Digest, DiffID: l.DiffID}
}

// suppressed returns, for a finding an ignore rule or VEX statement
// suppresses, the modified finding saying which (without the finding).
func (f *Filter) suppressed(s *subject, now time.Time) (report.ModifiedFinding, bool) {
	for j := range f.Ignore {
		if rule := &f.Ignore[j]; rule.matches(s, now) {
			return report.ModifiedFinding{Type: s.kind, Status: "ignored", Statement: rule.Statement, Source: rule.Source}, true
		}
	}
	for _, st := range f.VEX {
		if st.suppresses(s) {
			return report.ModifiedFinding{Type: s.kind, Status: st.Status, Statement: st.Statement, Source: st.Source}, true
		}
	}
	return report.ModifiedFinding{}, false
}

// imagePURL is the package URL of the scanned image (pkg:oci/NAME, with
// the digest as version when the image came from a registry and its
// repository as repository_url), what VEX statements and ignore rules
// name as the product of its secrets and image checks; "" when the
// report names no image. The artifact's name is a reference unless the
// image was read from a file (input).
func imagePURL(r *report.Report, input bool) string {
	refs := append(slices.Clone(r.Metadata.RepoDigests), r.Metadata.RepoTags...)
	if !input {
		refs = append(refs, r.ArtifactName)
	}
	for _, s := range refs {
		ref, err := name.ParseReference(s)
		if err != nil {
			continue
		}
		repo := ref.Context()
		version := ""
		if d, ok := ref.(name.Digest); ok {
			version = d.DigestStr()
		}
		q := packageurl.QualifiersFromMap(map[string]string{"repository_url": repo.RegistryStr() + "/" + repo.RepositoryStr()})
		if r.Metadata.ImageConfig != nil && r.Metadata.ImageConfig.Architecture != "" {
			q = append(q, packageurl.Qualifier{Key: "arch", Value: r.Metadata.ImageConfig.Architecture})
		}
		return packageurl.NewPackageURL("oci", "", path.Base(repo.RepositoryStr()), version, q, "").ToString()
	}
	return ""
}
