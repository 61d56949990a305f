package policy

import (
	"fmt"
	"sort"
	"strings"
)

// Finding is one rule violation.
type Finding struct {
	Rule RuleID
	Mode Mode
	// Message says which image or field and why, e.g.
	// `container "web" (spec.containers[0].image): image "nginx" has no tag`.
	Message string
	// Overridden is set when break-glass admitted an enforced image finding.
	Overridden bool
}

// Decision is the outcome of a review.
type Decision struct {
	Findings []Finding
	// BreakGlass is set when the break-glass annotation was present and
	// honoured (whether or not it overrode anything).
	BreakGlass bool
}

// Allowed reports whether the request is admitted: no enforced finding
// that break-glass did not override.
func (d Decision) Allowed() bool {
	for _, f := range d.Findings {
		if f.Mode == Enforce && !f.Overridden {
			return false
		}
	}
	return true
}

// Denials are the messages of the findings that deny the request.
func (d Decision) Denials() []string {
	var out []string
	for _, f := range d.Findings {
		if f.Mode == Enforce && !f.Overridden {
			out = append(out, f.Message)
		}
	}
	return out
}

// Reason is the denial text: every denying message, "; "-separated.
func (d Decision) Reason() string { return strings.Join(d.Denials(), "; ") }

// Warnings are the messages of warn-mode findings, each prefixed with the
// rule, for AdmissionReview warnings.
func (d Decision) Warnings() []string {
	var out []string
	for _, f := range d.Findings {
		if f.Mode == Warn {
			out = append(out, fmt.Sprintf("%s: %s", f.Rule, f.Message))
		}
	}
	return out
}

// AuditAnnotations maps rule IDs to the messages of audit-mode findings and
// of findings break-glass overrode; "break-glass" is "true" when it was
// honoured. When warnAsAudit is set (the ImageReview protocol has no
// warnings) warn-mode findings are included too. Keys are valid audit
// annotation names: the apiserver prefixes them.
func (d Decision) AuditAnnotations(warnAsAudit bool) map[string]string {
	var out map[string]string
	add := func(k, v string) {
		if out == nil {
			out = map[string]string{}
		}
		if prev, ok := out[k]; ok {
			v = prev + "; " + v
		}
		out[k] = v
	}
	for _, f := range d.Findings {
		switch {
		case f.Overridden:
			add(string(f.Rule), f.Message)
		case f.Mode == Audit, f.Mode == Warn && warnAsAudit:
			add(string(f.Rule), f.Message)
		}
	}
	if d.BreakGlass {
		add("break-glass", "true")
	}
	return out
}

// ReviewImages decides on a list of images as the ImagePolicyWebhook sends
// them: no container names, the namespace, and the Pod's annotations that
// contain ".image-policy.k8s.io/".
func (p *Policy) ReviewImages(namespace string, images []string, annotations map[string]string) Decision {
	uses := make([]ImageUse, len(images))
	for i, img := range images {
		uses[i] = ImageUse{Image: img}
	}
	var d Decision
	p.checkImages(&d, namespace, uses, annotations)
	return d
}

// Scorer scores an object the way `tollgate kube scan` does. It is
// implemented over internal/kube by the callers; policy stays pure.
type Scorer interface {
	Score(object []byte) (Score, error)
}

// Score is a kubesec-compatible result.
type Score struct {
	// Valid is false when the object could not be scored; Message says why.
	Valid    bool
	Message  string
	Score    int
	Critical []ScoreItem
}

// ScoreItem is one kubesec rule that matched.
type ScoreItem struct {
	ID, Selector, Reason string
	Points               int
	// Path is the offending field, when known.
	Path string
}

// ReviewWorkload decides on a decoded Pod or workload; raw is the object's
// JSON for the scorer (which may be nil when no workload rule is on).
func (p *Policy) ReviewWorkload(w Workload, namespace string, raw []byte, scorer Scorer) (Decision, error) {
	if namespace == "" {
		namespace = w.Namespace
	}
	var d Decision
	p.checkImages(&d, namespace, w.Images, w.Annotations)
	crit := p.modeIn(namespace, RuleKubesecCritical, p.kubesecCritical)
	minMode := p.modeIn(namespace, RuleMinimumScore, p.minScore)
	if (crit != Off || minMode != Off) && scorer != nil {
		s, err := scorer.Score(raw)
		if err != nil {
			return d, fmt.Errorf("scoring %s %q: %w", w.Kind, w.Name, err)
		}
		if !s.Valid {
			// Fail closed: an object that cannot be scored must not slip
			// past a score rule.
			d.Findings = append(d.Findings, Finding{Rule: RuleKubesecCritical, Mode: strictest(crit, minMode),
				Message: fmt.Sprintf("%s %q could not be scored: %s", w.Kind, w.Name, s.Message)})
		} else {
			if crit != Off {
				for _, c := range s.Critical {
					where := c.Selector
					if c.Path != "" {
						where = c.Path
					}
					d.Findings = append(d.Findings, Finding{Rule: RuleKubesecCritical, Mode: crit,
						Message: fmt.Sprintf("kubesec %s (%s): %s", c.ID, where, c.Reason)})
				}
			}
			if minMode != Off && s.Score < p.minScoreValue {
				d.Findings = append(d.Findings, Finding{Rule: RuleMinimumScore, Mode: minMode,
					Message: fmt.Sprintf("kubesec score %d is below the minimum %d", s.Score, p.minScoreValue)})
			}
		}
	}
	return d, nil
}

// WorkloadRulesOn reports whether a kubesec-based rule is on anywhere, so
// callers know whether they need a scorer.
func (p *Policy) WorkloadRulesOn() bool {
	return p.kubesecCritical != Off || p.minScore != Off
}

func (p *Policy) checkImages(d *Decision, ns string, uses []ImageUse, annotations map[string]string) {
	reqTag := p.modeIn(ns, RuleRequireTag, p.requireTag)
	latest := p.modeIn(ns, RuleDenyLatest, p.denyLatest)
	digest := p.modeIn(ns, RuleRequireDigest, p.requireDigest)
	regs := p.modeIn(ns, RuleAllowedRegistries, p.registries)
	invalid := p.modeIn(ns, RuleImageReference, strictest(reqTag, latest, digest, regs))
	if invalid == Off {
		return
	}
	glass := p.breakGlass && breakGlassRequested(annotations)
	d.BreakGlass = glass
	start := len(d.Findings)
	for _, u := range uses {
		where := ""
		if u.What != "" {
			where = fmt.Sprintf("%s (%s): ", u.What, u.Field)
		}
		add := func(rule RuleID, m Mode, format string, args ...any) {
			if m == Off {
				return
			}
			d.Findings = append(d.Findings, Finding{Rule: rule, Mode: m, Message: where + fmt.Sprintf(format, args...)})
		}
		img, err := ParseImage(u.Image)
		if err != nil {
			add(RuleImageReference, invalid, "image %q is not a valid reference: %v", u.Image, err)
			continue
		}
		pinned := img.Digest != ""
		if img.Tag == "" && !pinned {
			add(RuleRequireTag, reqTag, "image %q has no tag", u.Image)
		}
		if img.Tag == "latest" && !pinned {
			add(RuleDenyLatest, latest, "image %q uses tag latest", u.Image)
		}
		if !pinned {
			add(RuleRequireDigest, digest, "image %q is not pinned by digest", u.Image)
		}
		if regs != Off && !p.allowed[img.Registry] {
			add(RuleAllowedRegistries, regs, "image %q is from registry %s, which is not allowed (allowed: %s)",
				u.Image, img.Registry, strings.Join(p.allowedList, ", "))
		}
	}
	if glass {
		for i := start; i < len(d.Findings); i++ {
			if d.Findings[i].Mode == Enforce {
				d.Findings[i].Overridden = true
			}
		}
	}
}

func strictest(modes ...Mode) Mode {
	best := Off
	for _, m := range modes {
		if m.severity() > best.severity() {
			best = m
		}
	}
	return best
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
