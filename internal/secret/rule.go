// Package secret finds credentials in files, directory trees and image
// configurations: cloud provider keys, source-forge and package-registry
// tokens, private keys, JWTs, Docker registry auths, passwords in URLs and
// in the dot-files package managers read.
//
// Each Rule has a stable ID (Trivy's where Trivy has the same rule, so a
// trivy-secret.yaml that disables or allows by ID keeps working), a keyword
// prefilter (the content must contain one keyword, compared without case,
// before the regular expression runs) and allow rules for test fixtures and
// well-known example values. A Finding never holds a matched value: the
// value is replaced by asterisks in Match and in every Code line before the
// finding is built.
package secret

import (
	"bytes"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// Severity names, as Trivy writes them.
const (
	SeverityLow      = "LOW"
	SeverityMedium   = "MEDIUM"
	SeverityHigh     = "HIGH"
	SeverityCritical = "CRITICAL"
)

// Rule is one kind of credential.
type Rule struct {
	// ID is the stable identifier ("aws-access-key-id").
	ID string
	// Category groups rules by provider ("AWS", "GitHub").
	Category string
	// Title names the credential in findings.
	Title string
	// Severity is LOW, MEDIUM, HIGH or CRITICAL.
	Severity string
	// Keywords are lower-case strings one of which the content must
	// contain (compared without case) for Regex to run; none means always.
	Keywords []string
	// Regex finds the credential. When it has a group named SecretGroup
	// (by default "secret"), that group is the value to mask and report;
	// otherwise the whole match is.
	Regex *regexp.Regexp
	// SecretGroup names the group of Regex holding the value ("" means
	// "secret").
	SecretGroup string
	// Path, when set, limits the rule to files whose path it matches.
	Path *regexp.Regexp
	// AllowRules exempt matches of this rule.
	AllowRules []AllowRule
	// Why and Fix are the rule's documentation.
	Why, Fix string

	// valid, when set, is a further check of a value the regex found
	// (built-in rules only: a Docker auth must decode to user:password).
	valid func(value []byte) bool
	// alsoNeeds, when set, is a lower-case string the file must contain
	// too (built-in rules only).
	alsoNeeds string
	// secretIdx is the index of the secret group in Regex, or 0.
	secretIdx int
	// lineLocal reports a regex that can only match within one line, so
	// it need only run on the lines that hold a keyword.
	lineLocal bool
}

// AllowRule exempts a match: by the path of the file it is in, or by the
// matched value. A rule with both needs both to match.
type AllowRule struct {
	ID          string
	Description string
	// Regex is matched against the secret value (the secret group).
	Regex *regexp.Regexp
	// Path is matched against the file path.
	Path *regexp.Regexp
}

// allows reports whether the allow rule exempts value found in path.
// A value-only rule is also asked with value nil, for the whole file:
// then it does not allow.
func (a *AllowRule) allows(path string, value []byte) bool {
	if a.Regex == nil && a.Path == nil {
		return false
	}
	if a.Path != nil && !a.Path.MatchString(path) {
		return false
	}
	if a.Regex != nil && (value == nil || !a.Regex.Match(value)) {
		return false
	}
	return true
}

// pathOnly reports whether the allow rule looks only at the path, so a
// matching path exempts the whole file.
func (a *AllowRule) pathOnly() bool { return a.Path != nil && a.Regex == nil }

// compile checks the rule and records where its secret group is.
func (r *Rule) compile() error {
	if r.ID == "" {
		return fmt.Errorf("a rule has no id")
	}
	if r.Regex == nil {
		return fmt.Errorf("rule %s has no regex", r.ID)
	}
	switch r.Severity {
	case SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
	case "":
		r.Severity = SeverityMedium
	default:
		return fmt.Errorf("rule %s: severity %q is not one of LOW, MEDIUM, HIGH, CRITICAL", r.ID, r.Severity)
	}
	group := r.SecretGroup
	if group == "" {
		group = "secret"
	}
	r.secretIdx = r.Regex.SubexpIndex(group)
	if r.secretIdx < 0 {
		if r.SecretGroup != "" {
			return fmt.Errorf("rule %s: the regex has no group named %q", r.ID, r.SecretGroup)
		}
		r.secretIdx = 0
	}
	for i, k := range r.Keywords {
		r.Keywords[i] = strings.ToLower(k)
	}
	r.lineLocal = withinLine(r.Regex.String())
	if r.Title == "" {
		r.Title = r.ID
	}
	return nil
}

// find returns the submatch indexes of the rule's regex in content, where
// at lists the offsets at which the rule's keywords occur (nil when the
// rule has no usable keywords: the regex then always runs). A regex that
// cannot match across lines runs only on the lines holding a keyword: the
// prefilter then also saves the regex's time on the rest of the file.
func (r *Rule) find(content []byte, at []int, prefiltered bool) [][]int {
	if !prefiltered || !r.lineLocal {
		return r.Regex.FindAllSubmatchIndex(content, -1)
	}
	var out [][]int
	for _, w := range lineWindows(content, at) {
		for _, m := range r.Regex.FindAllSubmatchIndex(content[w[0]:w[1]], -1) {
			for i := range m {
				if m[i] >= 0 {
					m[i] += w[0]
				}
			}
			out = append(out, m)
		}
	}
	return out
}

// lineWindows returns the ranges of the lines (without their line break)
// holding the ascending offsets at, adjacent lines merged.
func lineWindows(content []byte, at []int) [][2]int {
	var out [][2]int
	for _, a := range at {
		if n := len(out); n > 0 && a <= out[n-1][1] {
			continue // on the line (or lines) already taken
		}
		start := bytes.LastIndexByte(content[:a], '\n') + 1
		end := bytes.IndexByte(content[a:], '\n')
		if end < 0 {
			end = len(content)
		} else {
			end += a
		}
		if n := len(out); n > 0 && start <= out[n-1][1]+1 {
			out[n-1][1] = end
			continue
		}
		out = append(out, [2]int{start, end})
	}
	return out
}

// withinLine reports whether a regular expression can only match text
// without a line break: nothing in it matches "\n", and it has no anchor
// to the start or end of the whole text (which a line would not share).
func withinLine(expr string) bool {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return false
	}
	var local func(re *syntax.Regexp) bool
	local = func(re *syntax.Regexp) bool {
		switch re.Op {
		case syntax.OpAnyChar, syntax.OpBeginText, syntax.OpEndText:
			return false
		case syntax.OpLiteral:
			if slices.Contains(re.Rune, '\n') {
				return false
			}
		case syntax.OpCharClass:
			for i := 0; i+1 < len(re.Rune); i += 2 {
				if re.Rune[i] <= '\n' && '\n' <= re.Rune[i+1] {
					return false
				}
			}
		}
		for _, sub := range re.Sub {
			if !local(sub) {
				return false
			}
		}
		return true
	}
	return local(re)
}
