// Package policy is tollgate's admission policy: the versioned file format
// (apiVersion tollgate.dev/v1alpha1, kind Policy), the built-in default, and
// the decisions it takes on images, workloads and mutations. Everything here
// is a pure function of its inputs — no network, no files except Load — so
// the CI commands, `tollgate policy test` and the admission server decide
// alike. The file format is documented in docs/policy.md.
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	yaml3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"

	"github.com/tollgate-dev/tollgate/internal/decodemsg"
)

// APIVersion and Kind identify a policy file.
const (
	APIVersion = "tollgate.dev/v1alpha1"
	Kind       = "Policy"
)

// Mode says what a rule does with a violation.
type Mode string

// The modes a rule can have.
const (
	// Enforce denies the request.
	Enforce Mode = "enforce"
	// Warn admits it and returns the message as an AdmissionReview
	// warning (kubectl prints it); the ImageReview protocol has no
	// warnings, so there it becomes an audit annotation.
	Warn Mode = "warn"
	// Audit admits it and records the message as an audit annotation.
	Audit Mode = "audit"
	// Off disables the rule.
	Off Mode = "off"
)

func (m Mode) valid() bool {
	switch m {
	case Enforce, Warn, Audit, Off:
		return true
	}
	return false
}

// severity orders modes so that the strictest wins where several apply.
func (m Mode) severity() int {
	switch m {
	case Enforce:
		return 3
	case Warn:
		return 2
	case Audit:
		return 1
	}
	return 0
}

// RuleID names a rule in messages, audit annotations and exemptions. The
// IDs are the rule's field name in the policy file.
type RuleID string

// The rules a policy has.
const (
	RuleImageReference    RuleID = "imageReference"
	RuleRequireTag        RuleID = "requireTag"
	RuleDenyLatest        RuleID = "denyLatest"
	RuleRequireDigest     RuleID = "requireDigest"
	RuleAllowedRegistries RuleID = "allowedRegistries"
	RuleKubesecCritical   RuleID = "kubesecCritical"
	RuleMinimumScore      RuleID = "minimumScore"

	// Mutations, named so that exemptions can switch them off.
	RuleLabels                RuleID = "labels"
	RuleDefaultServiceAccount RuleID = "defaultServiceAccount"
	RuleSecurityContext       RuleID = "securityContext"
	RulePinDigests            RuleID = "pinDigests"
)

var knownRules = []RuleID{
	RuleImageReference, RuleRequireTag, RuleDenyLatest, RuleRequireDigest, RuleAllowedRegistries,
	RuleKubesecCritical, RuleMinimumScore,
	RuleVulnerabilities, RuleImageChecks, RuleSignatures,
	RuleLabels, RuleDefaultServiceAccount, RuleSecurityContext, RulePinDigests,
}

// File is the on-disk form of a policy. Rules left out of a file keep the
// built-in default (see Default); `mode: off` switches one off.
type File struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata,omitempty"`
	Spec       Spec     `json:"spec"`
}

// Metadata names the policy; the name appears in logs and metrics.
type Metadata struct {
	Name string `json:"name,omitempty"`
}

// Spec holds the rules.
type Spec struct {
	Images     ImageRules    `json:"images,omitempty"`
	Workloads  WorkloadRules `json:"workloads,omitempty"`
	Exemptions []Exemption   `json:"exemptions,omitempty"`
	BreakGlass *BreakGlass   `json:"breakGlass,omitempty"`
	Mutations  Mutations     `json:"mutations,omitempty"`
	// Vulnerabilities and ImageChecks are decided on a scan of the image;
	// Signatures on its cosign signatures (docs/policy.md).
	Vulnerabilities *VulnerabilityRules `json:"vulnerabilities,omitempty"`
	ImageChecks     *ImageCheckRules    `json:"imageChecks,omitempty"`
	Signatures      *SignatureRules     `json:"signatures,omitempty"`
}

// ImageRules apply to every image of a Pod or pod template: containers,
// init containers, ephemeral containers and image volumes.
type ImageRules struct {
	// RequireTag: an image must name a tag or a digest.
	RequireTag *Rule `json:"requireTag,omitempty"`
	// DenyLatest: the tag must not be "latest" (unless pinned by digest).
	DenyLatest *Rule `json:"denyLatest,omitempty"`
	// RequireDigest: an image must be pinned by digest.
	RequireDigest *Rule `json:"requireDigest,omitempty"`
	// AllowedRegistries: the registry host[:port] must be one of the list,
	// compared exactly.
	AllowedRegistries *RegistryRule `json:"allowedRegistries,omitempty"`
}

// WorkloadRules apply to Pods and to the pod templates of Deployment,
// StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job and CronJob.
type WorkloadRules struct {
	// KubesecCritical: no kubesec critical finding (negative points).
	KubesecCritical *Rule `json:"kubesecCritical,omitempty"`
	// MinimumScore: the kubesec score must be at least Score.
	MinimumScore *ScoreRule `json:"minimumScore,omitempty"`
}

// Rule is a rule with no parameters.
type Rule struct {
	Mode Mode `json:"mode"`
}

// RegistryRule lists the registries images may come from.
type RegistryRule struct {
	Mode       Mode     `json:"mode"`
	Registries []string `json:"registries"`
}

// ScoreRule sets the lowest acceptable kubesec score.
type ScoreRule struct {
	Mode  Mode `json:"mode"`
	Score int  `json:"score"`
}

// Exemption exempts namespaces from some rules (all rules and mutations
// when Rules is empty).
type Exemption struct {
	Namespaces []string `json:"namespaces"`
	Rules      []RuleID `json:"rules,omitempty"`
}

// BreakGlass controls the ImagePolicyWebhook break-glass annotation: a Pod
// annotated `<anything>.image-policy.k8s.io/break-glass: "true"` is admitted
// despite image-rule violations, and the override is recorded in the audit
// annotations. It never overrides workload rules.
type BreakGlass struct {
	Enabled bool `json:"enabled"`
}

// Mutations are the changes /mutate makes to Pods at creation.
type Mutations struct {
	// Labels are added to the Pod when absent (existing values are kept,
	// so selectors never break).
	Labels map[string]string `json:"labels,omitempty"`
	// DefaultServiceAccount replaces an unset or "default" service account.
	DefaultServiceAccount string `json:"defaultServiceAccount,omitempty"`
	// SecurityContext sets hardening fields that the Pod leaves unset.
	SecurityContext *SecurityContextDefaults `json:"securityContext,omitempty"`
	// PinDigests resolves tags to digests from the registry.
	PinDigests *PinDigests `json:"pinDigests,omitempty"`
}

// SecurityContextDefaults lists the fields to default; each applies only
// where the Pod or container leaves the field unset.
type SecurityContextDefaults struct {
	// RunAsNonRoot sets spec.securityContext.runAsNonRoot: true.
	RunAsNonRoot bool `json:"runAsNonRoot,omitempty"`
	// SeccompRuntimeDefault sets spec.securityContext.seccompProfile.type: RuntimeDefault.
	SeccompRuntimeDefault bool `json:"seccompRuntimeDefault,omitempty"`
	// AllowPrivilegeEscalationFalse sets allowPrivilegeEscalation: false on each container.
	AllowPrivilegeEscalationFalse bool `json:"allowPrivilegeEscalationFalse,omitempty"`
	// DropAllCapabilities sets capabilities.drop: [ALL] on each container without a drop list.
	DropAllCapabilities bool `json:"dropAllCapabilities,omitempty"`
}

// PinDigests rewrites image tags into tag@digest, resolved from the registry.
type PinDigests struct {
	Enabled bool `json:"enabled"`
	// Registries limits pinning to images from these registries (exact
	// host[:port]); empty means every registry the allowedRegistries rule
	// admits, or every registry when that rule is off.
	Registries []string `json:"registries,omitempty"`
	// TimeoutSeconds bounds all registry look-ups of one request (default 3,
	// below the webhook's 5 s timeout).
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
}

// Policy is a parsed, validated policy with defaults applied. It is
// immutable and safe for concurrent use.
type Policy struct {
	name string

	requireTag, denyLatest, requireDigest Mode
	registries                            Mode
	allowed                               map[string]bool
	allowedList                           []string
	kubesecCritical                       Mode
	minScore                              Mode
	minScoreValue                         int

	exempt     map[string][]RuleID // namespace → rules (nil slice = all)
	breakGlass bool

	labels         map[string]string
	serviceAccount string
	secCtx         SecurityContextDefaults
	pin            bool
	pinTimeout     int
	pinRegistries  map[string]bool // nil: no restriction of its own

	vulns, checks *scanRule        // nil: section absent
	sigs          *SignaturePolicy // never nil
}

// Default returns the built-in policy, the seed's rule: deny an image with
// no tag or with tag "latest"; every other rule off; break-glass honoured.
func Default() *Policy {
	p, err := compile(File{APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Name: "default"}}, os.ReadFile)
	if err != nil {
		panic(err) // the empty file always compiles
	}
	return p
}

// Load reads and parses a policy file.
func Load(path string) (*Policy, error) {
	p, _, err := LoadFiles(path)
	return p, err
}

// LoadFiles is Load that also returns the other files the policy named and
// were read (spec.signatures' key files, relative ones resolved beside the
// policy), even when loading failed, so that a server reloading the policy
// can watch them too.
func LoadFiles(path string) (*Policy, []string, error) {
	data, err := readCapped(path, maxPolicyBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("reading policy %s: %w", path, err)
	}
	var read []string
	p, err := ParseFile(data, func(name string) ([]byte, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(filepath.Dir(path), name)
		}
		read = append(read, name)
		b, err := readCapped(name, maxKeyFileBytes)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist", name)
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		return b, nil
	})
	if err != nil {
		return nil, read, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, read, nil
}

// Read limits: a policy is a page or two of YAML, a public key in PEM a
// few hundred bytes (RSA 4096: 800). A path to something endless
// (/dev/zero, a pipe that never closes) is refused at the limit instead
// of filling memory. Pipes stay readable (--policy <(…)); a FIFO nobody
// writes to blocks the open, as any reader of it would, until interrupted.
const (
	maxPolicyBytes  = 4 << 20
	maxKeyFileBytes = 64 << 10
)

// readCapped reads at most limit bytes of the file at path; a longer file
// is an error. Errors are the reason alone (the caller names the file);
// a missing file is still a not-exist error to errors.Is.
func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d KiB", limit>>10)
	}
	return b, nil
}

// Parse parses a policy document (YAML or JSON). Unknown fields, an unknown
// apiVersion or kind, and invalid values are errors. Key files of
// spec.signatures are read relative to the working directory.
func Parse(data []byte) (*Policy, error) { return ParseFile(data, os.ReadFile) }

// ParseFile is Parse with readFile reading the files the policy names
// (spec.signatures' publicKeyFile).
func ParseFile(data []byte, readFile func(string) ([]byte, error)) (*Policy, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty policy document")
	}
	if err := oneDocument(data); err != nil {
		return nil, err
	}
	var f File
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, errors.New(decodemsg.Text(err))
	}
	return compile(f, readFile)
}

// oneDocument checks that data is one YAML document: a later document
// would be ignored by the decoder, garbage included, and the policy the
// user meant might be that one.
func oneDocument(data []byte) error {
	dec := yaml3.NewDecoder(bytes.NewReader(data))
	n := 0
	for i := 1; ; i++ {
		var node yaml3.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("YAML document %d: %s", i, decodemsg.Text(err))
		}
		if len(node.Content) > 0 && !(node.Content[0].Kind == yaml3.ScalarNode && node.Content[0].Tag == "!!null") {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("the file holds %d YAML documents; a policy file holds one policy", n)
	}
	return nil
}

func compile(f File, readFile func(string) ([]byte, error)) (*Policy, error) {
	if f.APIVersion != APIVersion {
		return nil, fmt.Errorf("apiVersion %q is not supported (want %s)", f.APIVersion, APIVersion)
	}
	if f.Kind != Kind {
		return nil, fmt.Errorf("kind %q is not supported (want %s)", f.Kind, Kind)
	}
	var errs []error
	mode := func(field string, r *Rule, def Mode) Mode {
		if r == nil {
			return def
		}
		if r.Mode == "false" {
			// YAML 1.1, which the decoder speaks, reads a bare off as
			// false: `mode: off` must mean off.
			return Off
		}
		if !r.Mode.valid() {
			errs = append(errs, fmt.Errorf("%s.mode: %q is not one of enforce, warn, audit, off", field, r.Mode))
		}
		return r.Mode
	}
	s := f.Spec
	p := &Policy{
		name:          f.Metadata.Name,
		requireTag:    mode("spec.images.requireTag", s.Images.RequireTag, Enforce),
		denyLatest:    mode("spec.images.denyLatest", s.Images.DenyLatest, Enforce),
		requireDigest: mode("spec.images.requireDigest", s.Images.RequireDigest, Off),
		registries:    Off,
		kubesecCritical: mode("spec.workloads.kubesecCritical",
			s.Workloads.KubesecCritical, Off),
		minScore:   Off,
		breakGlass: true,
		exempt:     map[string][]RuleID{},
	}
	if p.name == "" {
		p.name = "unnamed"
	}
	if r := s.Images.AllowedRegistries; r != nil {
		p.registries = mode("spec.images.allowedRegistries", &Rule{Mode: r.Mode}, Off)
		if p.registries != Off && len(r.Registries) == 0 {
			errs = append(errs, errors.New("spec.images.allowedRegistries.registries: empty list (it would refuse every image)"))
		}
		p.allowed = map[string]bool{}
		for i, reg := range r.Registries {
			n, err := NormalizeRegistry(reg)
			if err != nil {
				errs = append(errs, fmt.Errorf("spec.images.allowedRegistries.registries[%d]: %w", i, err))
				continue
			}
			if !p.allowed[n] {
				p.allowedList = append(p.allowedList, n)
			}
			p.allowed[n] = true
		}
	}
	if r := s.Workloads.MinimumScore; r != nil {
		p.minScore = mode("spec.workloads.minimumScore", &Rule{Mode: r.Mode}, Off)
		p.minScoreValue = r.Score
	}
	for i, e := range s.Exemptions {
		if len(e.Namespaces) == 0 {
			errs = append(errs, fmt.Errorf("spec.exemptions[%d].namespaces: empty list", i))
		}
		for _, r := range e.Rules {
			if !slices.Contains(knownRules, r) {
				errs = append(errs, fmt.Errorf("spec.exemptions[%d].rules: unknown rule %q", i, r))
			}
		}
		for _, ns := range e.Namespaces {
			prev, seen := p.exempt[ns]
			switch {
			case seen && prev == nil, len(e.Rules) == 0:
				p.exempt[ns] = nil // all rules
			default:
				p.exempt[ns] = append(slices.Clone(prev), e.Rules...)
			}
		}
	}
	if s.BreakGlass != nil {
		p.breakGlass = s.BreakGlass.Enabled
	}
	m := s.Mutations
	for k := range m.Labels {
		if k == "" || strings.Count(k, "/") > 1 {
			errs = append(errs, fmt.Errorf("spec.mutations.labels: invalid label key %q", k))
		}
	}
	p.labels = m.Labels
	p.serviceAccount = m.DefaultServiceAccount
	if m.SecurityContext != nil {
		p.secCtx = *m.SecurityContext
	}
	if m.PinDigests != nil && m.PinDigests.Enabled {
		p.pin = true
		p.pinTimeout = m.PinDigests.TimeoutSeconds
		if p.pinTimeout < 0 || p.pinTimeout > 30 {
			errs = append(errs, fmt.Errorf("spec.mutations.pinDigests.timeoutSeconds: %d is outside 0–30", p.pinTimeout))
		}
		if p.pinTimeout == 0 {
			p.pinTimeout = 3
		}
		for i, reg := range m.PinDigests.Registries {
			n, err := NormalizeRegistry(reg)
			if err != nil {
				errs = append(errs, fmt.Errorf("spec.mutations.pinDigests.registries[%d]: %w", i, err))
				continue
			}
			if p.pinRegistries == nil {
				p.pinRegistries = map[string]bool{}
			}
			p.pinRegistries[n] = true
		}
	}
	compileScanRules(p, s, &errs)
	p.sigs = &SignaturePolicy{}
	if s.Signatures != nil {
		p.sigs = compileSignatures(*s.Signatures, readFile, &errs)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// Signatures is the policy's spec.signatures (empty when absent). Its
// requirements ignore the namespaces that spec.exemptions exempts from
// the signatures rule only through SignatureRequirements.
func (p *Policy) Signatures() *SignaturePolicy { return p.sigs }

// SignatureRequirements returns what spec.signatures asks of image in
// namespace, honouring spec.exemptions (rule "signatures").
func (p *Policy) SignatureRequirements(namespace, image string) ([]SignatureRequirement, error) {
	if namespace != "" && p.exempted(namespace, RuleSignatures) {
		return nil, nil
	}
	return p.sigs.Requirements(image, namespace)
}

// ImageRequirements returns what the scan and signature rules ask of a
// parsed image in namespace (one parse for both, for the admission gate).
func (p *Policy) ImageRequirements(namespace string, img Image) ([]ScanRequirement, []SignatureRequirement) {
	scans := p.scanRequirementsOf(namespace, &img)
	if namespace != "" && p.exempted(namespace, RuleSignatures) {
		return scans, nil
	}
	return scans, p.sigs.requirementsOf(img, namespace)
}

// Name is the policy's metadata.name ("default" for the built-in one).
func (p *Policy) Name() string { return p.name }

// PinDigests reports whether /mutate resolves tags to digests, and the
// time budget in seconds for one request's look-ups.
func (p *Policy) PinDigests() (bool, int) { return p.pin, p.pinTimeout }

// exempted reports whether rule is switched off in namespace ns.
func (p *Policy) exempted(ns string, rule RuleID) bool {
	rules, ok := p.exempt[ns]
	if !ok {
		return false
	}
	return rules == nil || slices.Contains(rules, rule)
}

// modeIn is the rule's mode in namespace ns (Off when exempted).
func (p *Policy) modeIn(ns string, rule RuleID, m Mode) Mode {
	if m == Off || p.exempted(ns, rule) {
		return Off
	}
	return m
}

// Summary lists the rules in effect, one "rule: mode" per line, for
// logs and `tollgate policy test`.
func (p *Policy) Summary() []string {
	out := []string{
		fmt.Sprintf("%s: %s", RuleRequireTag, p.requireTag),
		fmt.Sprintf("%s: %s", RuleDenyLatest, p.denyLatest),
		fmt.Sprintf("%s: %s", RuleRequireDigest, p.requireDigest),
		fmt.Sprintf("%s: %s %v", RuleAllowedRegistries, p.registries, p.allowedList),
		fmt.Sprintf("%s: %s", RuleKubesecCritical, p.kubesecCritical),
		fmt.Sprintf("%s: %s %d", RuleMinimumScore, p.minScore, p.minScoreValue),
	}
	for _, r := range []*scanRule{p.vulns, p.checks} {
		if r != nil {
			out = append(out, r.summary())
		}
	}
	if n := len(p.sigs.rules); n > 0 {
		out = append(out, fmt.Sprintf("%s: %d rules", RuleSignatures, n))
	}
	if p.breakGlass {
		out = append(out, "breakGlass: enabled")
	} else {
		out = append(out, "breakGlass: disabled")
	}
	var muts []string
	if len(p.labels) > 0 {
		muts = append(muts, fmt.Sprintf("labels %v", sortedKeys(p.labels)))
	}
	if p.serviceAccount != "" {
		muts = append(muts, "defaultServiceAccount "+p.serviceAccount)
	}
	if sc := p.secCtx; sc != (SecurityContextDefaults{}) {
		muts = append(muts, fmt.Sprintf("securityContext %+v", sc))
	}
	if p.pin {
		muts = append(muts, fmt.Sprintf("pinDigests (%d s)", p.pinTimeout))
	}
	if len(muts) == 0 {
		muts = []string{"none"}
	}
	out = append(out, "mutations: "+strings.Join(muts, ", "))
	ns := make([]string, 0, len(p.exempt))
	for k := range p.exempt {
		ns = append(ns, k)
	}
	sort.Strings(ns)
	for _, n := range ns {
		if p.exempt[n] == nil {
			out = append(out, fmt.Sprintf("exempt %s: all rules", n))
		} else {
			out = append(out, fmt.Sprintf("exempt %s: %v", n, p.exempt[n]))
		}
	}
	return out
}
