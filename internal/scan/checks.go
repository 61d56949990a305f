package scan

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/imagecheck"
	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/report"
	"github.com/tollgate-dev/tollgate/internal/secret"
)

// The scanners besides ScannerVuln.
const (
	ScannerSecret    = "secret"
	ScannerMisconfig = "misconfig"
)

// Scanners says which scanners a scan runs.
type Scanners struct {
	Vuln, Secret, Misconfig bool
}

// names lists the scanners that run, as --scanners spells them.
func (s Scanners) names() []string {
	var out []string
	for _, n := range []struct {
		on   bool
		name string
	}{{s.Vuln, ScannerVuln}, {s.Secret, ScannerSecret}, {s.Misconfig, ScannerMisconfig}} {
		if n.on {
			out = append(out, n.name)
		}
	}
	return out
}

// ParseScanners reads --scanners values (comma lists). Trivy's license
// scanner is not available and says so.
func ParseScanners(values []string) (Scanners, error) {
	var s Scanners
	for _, v := range values {
		for _, n := range strings.Split(v, ",") {
			switch strings.ToLower(strings.TrimSpace(n)) {
			case "":
			case ScannerVuln:
				s.Vuln = true
			case ScannerSecret:
				s.Secret = true
			case ScannerMisconfig, "config":
				s.Misconfig = true
			default:
				return s, outcome.Usagef("--scanners %s: tollgate has vuln, secret and misconfig", strings.TrimSpace(n))
			}
		}
	}
	if s == (Scanners{}) {
		return s, outcome.Usagef("--scanners: name at least one of vuln, secret, misconfig")
	}
	return s, nil
}

// Checks configure the secret and misconfig scanners.
type Checks struct {
	// Secrets finds credentials; nil turns secret scanning off (it is
	// set when either scanner runs: misconfig's CIS-DI-0010 uses it).
	Secrets *secret.Scanner
	// Image tunes the image checks (thresholds, checks to skip); its
	// Secrets field is set from Secrets.
	Image imagecheck.Options
}

// checkFindings are what the secret and misconfig scanners found.
type checkFindings struct {
	secrets  []secret.Finding
	misconf  []imagecheck.Finding
	warnings []string
	ran      bool     // the image checks ran (a MisconfSummary is due)
	skipped  []string // the checks not run
}

// imageChecks sets up the image checks on the inventory's layer walk;
// the returned function gives their findings once the inventory is done.
// With a cache directory each layer's facts are cached beside the
// inventory's: when every layer's are there, the checks need no walk and
// a warm scan reads no layer at all.
func imageChecks(o *Options) func() (*checkFindings, error) {
	sc := o.Scanners
	if !sc.Secret && !sc.Misconfig {
		return func() (*checkFindings, error) { return nil, nil }
	}
	co := o.Checks.Image
	co.Secrets = o.Checks.Secrets
	if sc.Secret {
		// Credentials are reported once, as secrets.
		co.Skip = append(slices.Clone(co.Skip), "CIS-DI-0010")
	}
	var warnings []string
	var c *imagecheck.Checker
	cacheDir := o.Inventory.CacheDir
	o.Inventory.Walker = func(img *image.Image) (inventory.LayerWalker, error) {
		if cacheDir != "" && co.Cache == nil {
			cache, err := imagecheck.OpenCache(cacheDir)
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("check cache disabled: %v", err))
			} else {
				co.Cache = cache
			}
		}
		var err error
		if c, err = imagecheck.NewChecker(img, co); err != nil {
			return nil, err
		}
		if !c.NeedsLayers() {
			return nil, nil
		}
		return c, nil
	}
	return func() (*checkFindings, error) {
		if c == nil {
			return nil, nil
		}
		res, err := c.Result()
		if err != nil {
			return nil, err
		}
		f := &checkFindings{warnings: append(warnings, res.Warnings...), ran: sc.Misconfig, skipped: co.Skip}
		if sc.Secret {
			f.secrets = res.Secrets
		}
		if sc.Misconfig {
			f.misconf = res.Misconfigurations
		}
		return f, nil
	}
}

// treeChecks scans a directory tree (fs, rootfs, repo) for secrets.
func treeChecks(ctx context.Context, dir string, o Options) (*checkFindings, error) {
	if !o.Scanners.Secret || o.Checks.Secrets == nil {
		return nil, nil
	}
	fs, st, err := o.Checks.Secrets.ScanTree(ctx, dir)
	if err != nil {
		return nil, err
	}
	f := &checkFindings{secrets: fs}
	if n := st.SkippedBinary + st.SkippedLarge; n > 0 && len(fs) == 0 && st.Files == 0 {
		f.warnings = append(f.warnings, fmt.Sprintf("no text file scanned for secrets (%d binary or over %d bytes)", n, o.Checks.Secrets.MaxFileSize()))
	}
	return f, nil
}

// addChecks puts the secret and misconfig findings into the report: one
// secret result per file (or part of the image config), as Trivy
// reports them, and one config result for the image's checks. Findings
// an ignore rule or VEX statement suppresses go to the results'
// ModifiedFindings, as vulnerabilities do.
func addChecks(r *report.Report, f *checkFindings, o Options) {
	if f == nil {
		return
	}
	r.Notes = append(r.Notes, f.warnings...)
	keep := func(sev string) bool {
		return len(o.Filter.Severities) == 0 || slices.Contains(o.Filter.Severities, sev)
	}
	purl := ""
	if r.ArtifactType == report.ArtifactContainerImage {
		purl = imagePURL(r, o.Input != "")
	}
	now := o.Now
	if f.ran {
		res := report.Result{Target: r.ArtifactName, Class: report.ClassConfig, Type: "image"}
		failed := map[string]bool{}
		for _, m := range f.misconf {
			failed[m.ID] = true
			if !keep(m.Severity) {
				continue
			}
			if mf, ok := o.Filter.suppressed(checkSubject(&m, purl), now); ok {
				mf.Misconfiguration = &m
				res.ModifiedFindings = append(res.ModifiedFindings, mf)
				continue
			}
			res.Misconfigurations = append(res.Misconfigurations, m)
		}
		checks := 0
		for _, rule := range imagecheck.Rules() {
			if !slices.Contains(f.skipped, rule.ID) {
				checks++
			}
		}
		res.MisconfSummary = &report.MisconfSummary{Successes: max(checks-len(failed), 0), Failures: len(res.Misconfigurations)}
		r.Results = append(r.Results, res)
	}
	byTarget := map[string]int{}
	var secrets []report.Result
	for _, s := range f.secrets {
		if !keep(s.Severity) {
			continue
		}
		i, ok := byTarget[s.Path]
		if !ok {
			i = len(secrets)
			byTarget[s.Path] = i
			secrets = append(secrets, report.Result{Target: s.Path, Class: report.ClassSecret})
		}
		if mf, ok := o.Filter.suppressed(secretSubject(&s, purl), now); ok {
			mf.Secret = &s
			secrets[i].ModifiedFindings = append(secrets[i].ModifiedFindings, mf)
			continue
		}
		secrets[i].Secrets = append(secrets[i].Secrets, s)
	}
	slices.SortStableFunc(secrets, func(a, b report.Result) int { return cmp.Compare(a.Target, b.Target) })
	r.Results = append(r.Results, secrets...)
}

// dropPackages removes the package results of a scan that did not ask
// for vulnerabilities.
func dropPackages(r *report.Report) {
	r.Results = slices.DeleteFunc(r.Results, func(res report.Result) bool {
		return res.Class == report.ClassOSPkgs || res.Class == report.ClassLangPkgs
	})
	r.NotMatched = nil
}
