package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
)

// RuleSignatures is the rule ID of image signature requirements.
const RuleSignatures RuleID = "signatures"

// SignatureRules is spec.signatures: which images must be signed, by which
// keys, with which claims and attestations. Every rule whose images match
// applies.
type SignatureRules struct {
	Rules []SignatureRule `json:"rules"`
}

// SignatureRule requires signatures of the images it matches.
type SignatureRule struct {
	// Name names the rule in messages.
	Name string `json:"name"`
	// Images are registry/repository globs: "registry.example.com/team/*"
	// (one path element), "registry.example.com/team/**" (any depth). The
	// registry is compared exactly ("docker.io" means index.docker.io).
	Images []string `json:"images"`
	// Keys are the trusted public keys (PEM inline, or a file relative to
	// the policy file).
	Keys []SignatureKey `json:"keys"`
	// Require is "anyOf" (default: one key's signature is enough) or
	// "allOf" (every key must have signed).
	Require string `json:"require,omitempty"`
	// Annotations must appear in the signature's claims (cosign sign -a).
	Annotations map[string]string `json:"annotations,omitempty"`
	// Attestations lists predicate types (or cosign --type names) that must
	// also be attested, signed by the same keys.
	Attestations []string `json:"attestations,omitempty"`
	// Mode is enforce (default), warn, audit or off.
	Mode Mode `json:"mode,omitempty"`
	// OnError is what happens when the registry cannot be asked: "deny"
	// (default) or "allow".
	OnError string `json:"onError,omitempty"`
	// ExemptNamespaces are namespaces the rule does not apply in.
	ExemptNamespaces []string `json:"exemptNamespaces,omitempty"`
}

// SignatureKey is one trusted key of a rule.
type SignatureKey struct {
	Name          string `json:"name,omitempty"`
	PublicKey     string `json:"publicKey,omitempty"`
	PublicKeyFile string `json:"publicKeyFile,omitempty"`
}

// SignaturePolicy is a compiled spec.signatures.
type SignaturePolicy struct {
	rules []compiledSigRule
}

type compiledSigRule struct {
	SignatureRule
	patterns []imagePattern
	keys     []KeyPEM
	exempt   map[string]bool
	id       string // what a verification result depends on, digested
}

type imagePattern struct{ registry, repo string }

// KeyPEM is a key of a requirement: its name and PEM bytes.
type KeyPEM struct {
	Name string
	PEM  []byte
}

// RuleKey is one trusted key and the rule that names it.
type RuleKey struct {
	Rule string
	Key  KeyPEM
}

// Keys lists every key of every rule, for checking them when the policy
// is loaded (the key formats are internal/signature's).
func (sp *SignaturePolicy) Keys() []RuleKey {
	var out []RuleKey
	for _, r := range sp.rules {
		for _, k := range r.keys {
			out = append(out, RuleKey{Rule: r.Name, Key: k})
		}
	}
	return out
}

// SignatureRequirement is what one rule asks of one image.
type SignatureRequirement struct {
	Rule string
	// ID digests what a verification depends on besides the image — the
	// keys, all-of or any-of, annotations, attestations — so that results
	// can be cached per (digest, ID) without rebuilding it per request.
	ID           string
	Keys         []KeyPEM
	RequireAll   bool
	Annotations  map[string]string
	Attestations []string
	Mode         Mode
	// OnErrorAllow admits the image when its signatures cannot be read.
	OnErrorAllow bool
}

// LoadSignatures reads spec.signatures of a policy file; key files are
// read relative to it. The whole file is checked, as Load does.
func LoadSignatures(file string) (*SignaturePolicy, error) {
	p, _, err := LoadFiles(file)
	if err != nil {
		return nil, err
	}
	return p.sigs, nil
}

// ParseSignatures parses spec.signatures of a policy document; readFile
// reads publicKeyFile entries.
func ParseSignatures(data []byte, readFile func(string) ([]byte, error)) (*SignaturePolicy, error) {
	p, err := ParseFile(data, readFile)
	if err != nil {
		return nil, err
	}
	return p.sigs, nil
}

// compileSignatures checks and compiles spec.signatures, appending what
// is wrong to errs.
func compileSignatures(rules SignatureRules, readFile func(string) ([]byte, error), errs *[]error) *SignaturePolicy {
	sp := &SignaturePolicy{}
	for i, r := range rules.Rules {
		field := fmt.Sprintf("spec.signatures.rules[%d]", i)
		c := compiledSigRule{SignatureRule: r, exempt: map[string]bool{}}
		if c.Name == "" {
			c.Name = fmt.Sprintf("rule %d", i+1)
		}
		switch c.Mode {
		case "":
			c.Mode = Enforce
		case "false":
			c.Mode = Off // YAML 1.1, which the decoder speaks, reads a bare off as false
		}
		if !c.Mode.valid() {
			*errs = append(*errs, fmt.Errorf("%s.mode: %q is not one of enforce, warn, audit, off", field, c.Mode))
		}
		switch c.Require {
		case "", "anyOf", "allOf":
		default:
			*errs = append(*errs, fmt.Errorf("%s.require: %q is not anyOf or allOf", field, c.Require))
		}
		switch c.OnError {
		case "", "deny", "allow":
		default:
			*errs = append(*errs, fmt.Errorf("%s.onError: %q is not allow or deny", field, c.OnError))
		}
		if len(r.Images) == 0 {
			*errs = append(*errs, fmt.Errorf("%s.images: at least one image pattern is required", field))
		}
		for j, p := range r.Images {
			ip, err := parseImagePattern(p)
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s.images[%d]: %w", field, j, err))
				continue
			}
			c.patterns = append(c.patterns, ip)
		}
		if len(r.Keys) == 0 {
			*errs = append(*errs, fmt.Errorf("%s.keys: at least one key is required", field))
		}
		for j, k := range r.Keys {
			kf := fmt.Sprintf("%s.keys[%d]", field, j)
			switch {
			case (k.PublicKey == "") == (k.PublicKeyFile == ""):
				*errs = append(*errs, fmt.Errorf("%s: give exactly one of publicKey and publicKeyFile", kf))
			case k.PublicKey != "":
				c.keys = append(c.keys, KeyPEM{Name: orDefault(k.Name, kf), PEM: []byte(k.PublicKey)})
			default:
				b, err := readFile(k.PublicKeyFile)
				if err != nil {
					*errs = append(*errs, fmt.Errorf("%s.publicKeyFile: %w", kf, err))
					continue
				}
				c.keys = append(c.keys, KeyPEM{Name: orDefault(k.Name, k.PublicKeyFile), PEM: b})
			}
		}
		for _, ns := range r.ExemptNamespaces {
			c.exempt[ns] = true
		}
		c.id = requirementID(c.keys, c.Require == "allOf", c.Annotations, c.Attestations)
		sp.rules = append(sp.rules, c)
	}
	return sp
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// parseImagePattern splits "registry/repo-glob" and checks the glob.
func parseImagePattern(p string) (imagePattern, error) {
	reg, repo, ok := strings.Cut(p, "/")
	if !ok || repo == "" {
		return imagePattern{}, fmt.Errorf("image pattern %q must be registry/repository (e.g. registry.example.com/team/*)", p)
	}
	r, err := NormalizeRegistry(reg)
	if err != nil {
		return imagePattern{}, fmt.Errorf("image pattern %q: %w", p, err)
	}
	if _, err := path.Match(strings.TrimSuffix(repo, "/**"), ""); err != nil {
		return imagePattern{}, fmt.Errorf("image pattern %q: malformed glob", p)
	}
	return imagePattern{registry: r, repo: repo}, nil
}

func (ip imagePattern) match(img Image) bool {
	if img.Registry != ip.registry {
		return false
	}
	if ip.repo == "**" {
		return true // every repository of the registry, at any depth
	}
	if prefix, ok := strings.CutSuffix(ip.repo, "/**"); ok {
		if ok, _ := path.Match(prefix, img.Repository); ok {
			return true
		}
		parts := strings.Split(img.Repository, "/")
		for i := 1; i < len(parts); i++ {
			if ok, _ := path.Match(prefix, strings.Join(parts[:i], "/")); ok {
				return true
			}
		}
		return false
	}
	ok, _ := path.Match(ip.repo, img.Repository)
	return ok
}

// Requirements returns what the policy asks of image in namespace: one
// requirement per matching rule that is not off or exempted there.
func (sp *SignaturePolicy) Requirements(image, namespace string) ([]SignatureRequirement, error) {
	if len(sp.rules) == 0 {
		return nil, nil
	}
	img, err := ParseImage(image)
	if err != nil {
		return nil, err
	}
	return sp.requirementsOf(img, namespace), nil
}

func (sp *SignaturePolicy) requirementsOf(img Image, namespace string) []SignatureRequirement {
	var out []SignatureRequirement
	for _, r := range sp.rules {
		if r.Mode == Off || (namespace != "" && r.exempt[namespace]) {
			continue
		}
		matched := false
		for _, p := range r.patterns {
			if p.match(img) {
				matched = true
				break
			}
		}
		if !matched {
			continue
		}
		out = append(out, SignatureRequirement{
			Rule: r.Name, ID: r.id, Keys: r.keys, RequireAll: r.Require == "allOf", Annotations: r.Annotations,
			Attestations: r.Attestations, Mode: r.Mode, OnErrorAllow: r.OnError == "allow",
		})
	}
	return out
}

// SignatureOutcome is what verification found for one requirement.
type SignatureOutcome struct {
	// Err is set when the signatures could not be read (registry down).
	Err error
	// Failures are the reasons requirements were not met ("" entries are
	// skipped); empty means verified.
	Failures []string
}

// DecideSignature turns a requirement's outcome into a finding, or nil
// when the image passes.
func DecideSignature(image, digest string, req SignatureRequirement, o SignatureOutcome) *Finding {
	where := fmt.Sprintf("image %s", image)
	if digest != "" {
		where += fmt.Sprintf(" (%s)", digest)
	}
	switch {
	case o.Err != nil && req.OnErrorAllow:
		return &Finding{Rule: RuleSignatures, Mode: Warn, Message: fmt.Sprintf("%s: signatures not checked (onError: allow): %v", where, o.Err)}
	case o.Err != nil:
		return &Finding{Rule: RuleSignatures, Mode: req.Mode, Message: fmt.Sprintf("%s: signatures cannot be checked: %v", where, o.Err)}
	case len(o.Failures) > 0:
		return &Finding{Rule: RuleSignatures, Mode: req.Mode, Message: fmt.Sprintf("%s: %s (rule %q)", where, strings.Join(o.Failures, "; "), req.Rule)}
	}
	return nil
}

// CacheID is ID, computed when the requirement was not made by
// Requirements.
func (r SignatureRequirement) CacheID() string {
	if r.ID != "" {
		return r.ID
	}
	return requirementID(r.Keys, r.RequireAll, r.Annotations, r.Attestations)
}

// requirementID digests the parts of a rule a verification depends on,
// in an order that does not depend on how the policy lists them.
func requirementID(keys []KeyPEM, all bool, annotations map[string]string, attestations []string) string {
	var parts []string
	for _, k := range keys {
		parts = append(parts, "key="+string(k.PEM))
	}
	parts = append(parts, fmt.Sprintf("all=%t", all))
	for k, v := range annotations {
		parts = append(parts, "annotation="+k+"="+v)
	}
	for _, a := range attestations {
		parts = append(parts, "attestation="+a)
	}
	slices.Sort(parts)
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}
