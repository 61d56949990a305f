package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The rule IDs of the rules decided on a scan of the image.
const (
	RuleVulnerabilities RuleID = "vulnerabilities"
	RuleImageChecks     RuleID = "imageChecks"
)

// ScanRuleCommon are the fields the scan-based rules share.
type ScanRuleCommon struct {
	// Mode is enforce (the default when the section is present), warn,
	// audit or off.
	Mode Mode `json:"mode,omitempty"`
	// OnError decides an image whose scan failed or did not finish in the
	// decision budget: "deny" (default) or "allow".
	OnError string `json:"onError,omitempty"`
	// MaxSeverity is the highest severity admitted: NONE, UNKNOWN, LOW,
	// MEDIUM, HIGH (default) or CRITICAL. A finding above it counts.
	MaxSeverity string `json:"maxSeverity,omitempty"`
	// Images limits the rule to these registry/repository globs (the
	// syntax of spec.signatures); empty means every image.
	Images []string `json:"images,omitempty"`
	// Ignore lists findings that do not count, each with a reason and
	// optionally an expiry and namespaces.
	Ignore []IgnoreEntry `json:"ignore,omitempty"`
	// ExemptNamespaces are namespaces the rule does not apply in.
	ExemptNamespaces []string `json:"exemptNamespaces,omitempty"`
}

// VulnerabilityRules is spec.vulnerabilities.
type VulnerabilityRules struct {
	ScanRuleCommon `json:",inline"`
	// IgnoreUnfixed: vulnerabilities with no fixed version do not count.
	IgnoreUnfixed bool `json:"ignoreUnfixed,omitempty"`
}

// ImageCheckRules is spec.imageChecks: the secret and hygiene findings of
// a built image.
type ImageCheckRules struct {
	ScanRuleCommon `json:",inline"`
	// Secrets and Misconfig choose the scanners (both default to true).
	Secrets   *bool `json:"secrets,omitempty"`
	Misconfig *bool `json:"misconfig,omitempty"`
}

// IgnoreEntry is one ignored finding ID (a vulnerability ID or alias, a
// secret rule ID, an image check ID).
type IgnoreEntry struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
	// Expires is YYYY-MM-DD (the entry holds through that day, UTC) or an
	// RFC 3339 time; past it the finding counts again.
	Expires string `json:"expires,omitempty"`
	// Namespaces limits the entry to these namespaces (empty: all).
	Namespaces []string `json:"namespaces,omitempty"`
}

// severityRank orders the severities of maxSeverity and of findings.
// UNKNOWN (a record nobody rated) sits just above NONE, as in Trivy's
// ordering: it counts only under maxSeverity NONE.
var severityRank = map[string]int{"NONE": 0, "UNKNOWN": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}

func rankOf(sev string) int {
	r, ok := severityRank[strings.ToUpper(sev)]
	if !ok {
		return severityRank["UNKNOWN"]
	}
	return r
}

// scanRule is a compiled vulnerabilities or imageChecks section.
type scanRule struct {
	id            RuleID
	mode          Mode
	onErrorAllow  bool
	maxSeverity   string
	maxRank       int
	ignoreUnfixed bool
	secrets       bool
	misconfig     bool
	patterns      []imagePattern
	ignore        []ignoreRule
	exempt        map[string]bool
}

type ignoreRule struct {
	id, reason string
	expires    time.Time // zero: never
	namespaces []string
}

func compileScanRule(id RuleID, field string, c ScanRuleCommon, errs *[]error) *scanRule {
	r := &scanRule{id: id, mode: c.Mode, exempt: map[string]bool{}}
	switch r.mode {
	case "":
		r.mode = Enforce
	case "false":
		r.mode = Off // YAML 1.1 reads a bare off as false
	}
	if !r.mode.valid() {
		*errs = append(*errs, fmt.Errorf("%s.mode: %q is not one of enforce, warn, audit, off", field, c.Mode))
	}
	switch c.OnError {
	case "", "deny":
	case "allow":
		r.onErrorAllow = true
	default:
		*errs = append(*errs, fmt.Errorf("%s.onError: %q is not allow or deny", field, c.OnError))
	}
	r.maxSeverity = strings.ToUpper(orDefault(c.MaxSeverity, "HIGH"))
	rank, ok := severityRank[r.maxSeverity]
	if !ok {
		*errs = append(*errs, fmt.Errorf("%s.maxSeverity: %q is not one of NONE, UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL", field, c.MaxSeverity))
	}
	r.maxRank = rank
	for j, p := range c.Images {
		ip, err := parseImagePattern(p)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("%s.images[%d]: %w", field, j, err))
			continue
		}
		r.patterns = append(r.patterns, ip)
	}
	for j, e := range c.Ignore {
		f := fmt.Sprintf("%s.ignore[%d]", field, j)
		if strings.TrimSpace(e.ID) == "" {
			*errs = append(*errs, fmt.Errorf("%s.id: missing", f))
		}
		if strings.TrimSpace(e.Reason) == "" {
			*errs = append(*errs, fmt.Errorf("%s.reason: say why %s is ignored", f, e.ID))
		}
		ir := ignoreRule{id: strings.TrimSpace(e.ID), reason: e.Reason, namespaces: e.Namespaces}
		if e.Expires != "" {
			t, err := parseExpiry(e.Expires)
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s.expires: %w", f, err))
			}
			ir.expires = t
		}
		r.ignore = append(r.ignore, ir)
	}
	for _, ns := range c.ExemptNamespaces {
		r.exempt[ns] = true
	}
	return r
}

// parseExpiry reads YYYY-MM-DD (through the end of that day, UTC) or RFC
// 3339.
func parseExpiry(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Add(24 * time.Hour), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither YYYY-MM-DD nor an RFC 3339 time", s)
}

func compileScanRules(p *Policy, s Spec, errs *[]error) {
	if v := s.Vulnerabilities; v != nil {
		r := compileScanRule(RuleVulnerabilities, "spec.vulnerabilities", v.ScanRuleCommon, errs)
		r.ignoreUnfixed = v.IgnoreUnfixed
		p.vulns = r
	}
	if c := s.ImageChecks; c != nil {
		r := compileScanRule(RuleImageChecks, "spec.imageChecks", c.ScanRuleCommon, errs)
		r.secrets = c.Secrets == nil || *c.Secrets
		r.misconfig = c.Misconfig == nil || *c.Misconfig
		if !r.secrets && !r.misconfig {
			*errs = append(*errs, errors.New("spec.imageChecks: secrets and misconfig are both false (use mode: off)"))
		}
		p.checks = r
	}
}

// ScanRequirement is what one scan rule asks of one image.
type ScanRequirement struct {
	Rule RuleID
	Mode Mode
	// OnErrorAllow admits the image when the scan fails or does not finish.
	OnErrorAllow bool
	// Vulnerabilities, Secrets, Misconfig are the scanners the rule needs.
	Vulnerabilities, Secrets, Misconfig bool

	rule *scanRule
}

// ScanRequirements returns the scan rules that apply to image in
// namespace (none when the reference does not parse: the imageReference
// rule reports that). An empty image — one read from a file, with no
// name — is in the scope of every rule.
func (p *Policy) ScanRequirements(namespace, image string) []ScanRequirement {
	if image == "" {
		return p.scanRequirementsOf(namespace, nil)
	}
	img, err := ParseImage(image)
	if err != nil {
		return nil
	}
	return p.scanRequirementsOf(namespace, &img)
}

// scanRequirementsOf is ScanRequirements of a parsed image (nil: an image
// with no name, in every rule's scope).
func (p *Policy) scanRequirementsOf(namespace string, img *Image) []ScanRequirement {
	var out []ScanRequirement
	for _, r := range []*scanRule{p.vulns, p.checks} {
		if r == nil || p.modeIn(namespace, r.id, r.mode) == Off || r.exempt[namespace] {
			continue
		}
		if len(r.patterns) > 0 && img != nil && !slices.ContainsFunc(r.patterns, func(ip imagePattern) bool { return ip.match(*img) }) {
			continue
		}
		out = append(out, ScanRequirement{
			Rule: r.id, Mode: r.mode, OnErrorAllow: r.onErrorAllow,
			Vulnerabilities: r.id == RuleVulnerabilities, Secrets: r.secrets, Misconfig: r.misconfig,
			rule: r,
		})
	}
	return out
}

// imageRulesFor lists the rules needing the images that apply to one of
// uses in namespace.
func (p *Policy) imageRulesFor(namespace string, uses []ImageUse) []RuleID {
	var out []RuleID
	add := func(id RuleID) {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	for _, u := range uses {
		for _, r := range p.ScanRequirements(namespace, u.Image) {
			add(r.Rule)
		}
		if reqs, err := p.SignatureRequirements(namespace, u.Image); err == nil && len(reqs) > 0 {
			add(RuleSignatures)
		}
	}
	slices.Sort(out)
	return out
}

// ScanFacts are the findings of an image scan that the scan rules read:
// what `tollgate image` reports, reduced to what decides. The admission
// server caches them per (digest, DB version).
type ScanFacts struct {
	Vulnerabilities []VulnFact  `json:"vulnerabilities"`
	Checks          []CheckFact `json:"checks"`
	// Unchecked are packages whose version could not be compared with
	// their advisories' ranges: the rule cannot say whether they are
	// affected. Under maxSeverity NONE or UNKNOWN they deny; otherwise the
	// decision warns about them (never a silent pass).
	Unchecked []VulnFact `json:"unchecked,omitempty"`
}

// VulnFact is one vulnerability of a package.
type VulnFact struct {
	ID        string   `json:"id"`
	Aliases   []string `json:"aliases,omitempty"`
	Package   string   `json:"package"`
	Installed string   `json:"installed"`
	Fixed     string   `json:"fixed,omitempty"`
	Severity  string   `json:"severity"`
}

// CheckFact is one secret or hygiene finding.
type CheckFact struct {
	ID string `json:"id"`
	// Class is "secret" or "misconfig".
	Class    string `json:"class"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Path     string `json:"path,omitempty"`
}

// ScanOutcome is what the scan of one image gave a decision.
type ScanOutcome struct {
	// Err is set when there is no scan result: the scan failed, or it did
	// not finish within the budget (Pending).
	Err     error
	Pending bool
	Facts   *ScanFacts
}

// maxListed bounds the findings a message names: the apiserver shows the
// reason to the user and limits its size.
const maxListed = 3

// DecideScan turns a requirement's outcome into findings, none when the
// image passes. namespace selects namespace-limited ignore entries; now
// decides their expiry.
func DecideScan(image, digest, namespace string, req ScanRequirement, o ScanOutcome, now time.Time) []Finding {
	r := req.rule
	where := fmt.Sprintf("image %s", image)
	if digest != "" && !strings.Contains(image, digest) {
		where += fmt.Sprintf(" (%s)", digest)
	}
	what := "vulnerability scan"
	if r.id == RuleImageChecks {
		what = "image checks"
	}
	if o.Err != nil || o.Facts == nil {
		reason := "no result"
		if o.Err != nil {
			reason = o.Err.Error()
		}
		if !o.Pending {
			reason = what + " failed: " + reason
		}
		if r.onErrorAllow {
			return []Finding{{Rule: r.id, Mode: Warn, Message: fmt.Sprintf("%s: not checked (onError: allow): %s", where, reason)}}
		}
		return []Finding{{Rule: r.id, Mode: r.mode, Message: fmt.Sprintf("%s: %s", where, reason)}}
	}
	var counted []string
	var worst []fact
	var extra *Finding
	if r.id == RuleVulnerabilities {
		for _, v := range o.Facts.Vulnerabilities {
			if r.ignoreUnfixed && v.Fixed == "" {
				continue
			}
			if rankOf(v.Severity) <= r.maxRank || r.ignored(namespace, now, v.ID, v.Aliases...) {
				continue
			}
			worst = append(worst, vulnFact(v))
		}
		if n := len(o.Facts.Unchecked); n > 0 {
			var pkgs []string
			for i, v := range o.Facts.Unchecked {
				if i == maxListed {
					pkgs = append(pkgs, fmt.Sprintf("(+%d more)", n-maxListed))
					break
				}
				pkgs = append(pkgs, v.Package+" "+v.Installed)
			}
			text := fmt.Sprintf("%d packages whose versions could not be compared with their advisories: %s", n, strings.Join(pkgs, ", "))
			if r.maxRank < rankOf("LOW") {
				// Their severity is unknown: they count under NONE and UNKNOWN.
				worst = append(worst, fact{rank: rankOf("UNKNOWN"), id: "~", text: text})
			} else {
				mode := Warn
				if r.mode == Audit {
					mode = Audit
				}
				extra = &Finding{Rule: r.id, Mode: mode, Message: where + ": not decided for " + text}
			}
		}
	} else {
		for _, c := range o.Facts.Checks {
			if (c.Class == "secret" && !r.secrets) || (c.Class != "secret" && !r.misconfig) {
				continue
			}
			if rankOf(c.Severity) <= r.maxRank || r.ignored(namespace, now, c.ID) {
				continue
			}
			text := fmt.Sprintf("%s %s %s", c.ID, strings.ToUpper(c.Severity), c.Title)
			if c.Path != "" {
				text += " at " + c.Path
			}
			worst = append(worst, fact{rank: rankOf(c.Severity), id: c.ID, text: text})
		}
	}
	var out []Finding
	if extra != nil {
		out = append(out, *extra)
	}
	if len(worst) == 0 {
		return out
	}
	slices.SortStableFunc(worst, func(a, b fact) int {
		if a.rank != b.rank {
			return b.rank - a.rank
		}
		return strings.Compare(a.id, b.id)
	})
	for i, f := range worst {
		if i == maxListed {
			counted = append(counted, fmt.Sprintf("(+%d more)", len(worst)-maxListed))
			break
		}
		counted = append(counted, f.text)
	}
	noun := map[bool]string{true: "vulnerability", false: "vulnerabilities"}[len(worst) == 1]
	if r.id == RuleImageChecks {
		noun = map[bool]string{true: "finding", false: "findings"}[len(worst) == 1]
	}
	above := "above " + r.maxSeverity
	if r.maxSeverity == "NONE" {
		above = "(maxSeverity NONE)"
	}
	return append(out, Finding{Rule: r.id, Mode: r.mode,
		Message: fmt.Sprintf("%s: %d %s %s: %s", where, len(worst), noun, above, strings.Join(counted, ", "))})
}

type fact struct {
	rank int
	id   string
	text string
}

func vulnFact(v VulnFact) fact {
	text := fmt.Sprintf("%s %s in %s %s", v.ID, strings.ToUpper(v.Severity), v.Package, v.Installed)
	if v.Fixed != "" {
		text += fmt.Sprintf(" (fixed in %s)", v.Fixed)
	} else {
		text += " (no fix yet)"
	}
	return fact{rank: rankOf(v.Severity), id: v.ID, text: text}
}

// ignored reports whether an ignore entry covers one of ids in namespace
// at now.
func (r *scanRule) ignored(namespace string, now time.Time, id string, aliases ...string) bool {
	ids := append([]string{id}, aliases...)
	for _, e := range r.ignore {
		if !slices.Contains(ids, e.id) {
			continue
		}
		if !e.expires.IsZero() && !now.Before(e.expires) {
			continue
		}
		if len(e.namespaces) > 0 && !slices.Contains(e.namespaces, namespace) {
			continue
		}
		return true
	}
	return false
}

// AddImageFindings adds findings of the scan and signature rules to d;
// with break-glass requested (annotations) enforced ones are overridden,
// as the tag rules' are.
func (p *Policy) AddImageFindings(d *Decision, annotations map[string]string, fs ...Finding) {
	glass := p.breakGlass && breakGlassRequested(annotations)
	for _, f := range fs {
		if glass && f.Mode == Enforce {
			f.Overridden = true
			d.BreakGlass = true
		}
		d.Findings = append(d.Findings, f)
	}
}

func (r *scanRule) summary() string {
	s := fmt.Sprintf("%s: %s maxSeverity %s", r.id, r.mode, r.maxSeverity)
	if r.ignoreUnfixed {
		s += ", ignoreUnfixed"
	}
	if r.onErrorAllow {
		s += ", onError allow"
	} else {
		s += ", onError deny"
	}
	if len(r.ignore) > 0 {
		s += fmt.Sprintf(", %d ignored", len(r.ignore))
	}
	return s
}
