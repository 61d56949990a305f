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
	// secretIdx is the index of the secret group in Regex, or 0.
	secretIdx int
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
	if r.Title == "" {
		r.Title = r.ID
	}
	return nil
}

// hasKeyword reports whether the lower-cased content holds a keyword.
func (r *Rule) hasKeyword(lower []byte) bool {
	if len(r.Keywords) == 0 {
		return true
	}
	for _, k := range r.Keywords {
		if bytes.Contains(lower, []byte(k)) {
			return true
		}
	}
	return false
}
