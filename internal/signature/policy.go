package signature

import (
	"context"
	"errors"
	"fmt"

	"github.com/tollgate-dev/tollgate/internal/outcome"
	"github.com/tollgate-dev/tollgate/internal/policy"
)

// PolicyResult is what a signature policy decided about one image.
type PolicyResult struct {
	Image string `json:"image"`
	// Rules are the names of the rules that applied; none means the policy
	// asks nothing of the image.
	Rules []string `json:"rules"`
	// Results are the verifications run, one per rule and per required
	// attestation.
	Results []*Result `json:"results"`
	// Findings are the failed requirements, with their mode.
	Findings []Finding `json:"findings"`
}

// Finding is a failed requirement.
type Finding struct {
	Rule    string      `json:"rule"`
	Mode    policy.Mode `json:"mode"`
	Message string      `json:"message"`
}

// Denied reports whether an enforced requirement failed.
func (r *PolicyResult) Denied() bool {
	for _, f := range r.Findings {
		if f.Mode == policy.Enforce {
			return true
		}
	}
	return false
}

// VerifyPolicy checks image against the signature rules of a policy that
// apply in namespace. A registry that cannot be read is a finding whose
// fate the rule's onError decides, not an error; errors are bad keys or
// references in the policy or the image (outcome.ErrUsage).
func VerifyPolicy(ctx context.Context, sp *policy.SignaturePolicy, image, namespace string, reg RegistryOptions) (*PolicyResult, error) {
	reqs, err := sp.Requirements(image, namespace)
	if err != nil {
		return nil, outcome.Usagef("%v", err)
	}
	pr := &PolicyResult{Image: image, Rules: []string{}, Results: []*Result{}, Findings: []Finding{}}
	for _, req := range reqs {
		pr.Rules = append(pr.Rules, req.Rule)
		oc, digest, results, err := CheckRequirement(ctx, image, req, reg)
		if err != nil {
			return nil, err
		}
		pr.Results = append(pr.Results, results...)
		if f := policy.DecideSignature(image, digest, req, oc); f != nil {
			pr.Findings = append(pr.Findings, Finding{Rule: req.Rule, Mode: f.Mode, Message: f.Message})
		}
	}
	return pr, nil
}

// CheckRequirement verifies one requirement of a policy against image:
// its signature (with the annotations asked) and each attestation asked.
// A registry that cannot be read sets the outcome's Err (its fate is the
// rule's onError); the error return is for bad keys or predicate names
// (outcome.ErrUsage) and for a cancelled ctx. digest is the digest the
// image resolved to ("" when it could not be read).
func CheckRequirement(ctx context.Context, image string, req policy.SignatureRequirement, reg RegistryOptions) (oc policy.SignatureOutcome, digest string, results []*Result, err error) {
	var keys []Key
	for _, k := range req.Keys {
		ks, err := ParseKeys(k.PEM, k.Name)
		if err != nil {
			return oc, "", nil, outcome.Usagef("rule %q: %v", req.Rule, err)
		}
		keys = append(keys, ks...)
	}
	base := Options{Image: image, Keys: keys, RequireAll: req.RequireAll, Registry: reg}
	runs := []Options{base}
	runs[0].Annotations = req.Annotations
	for _, a := range req.Attestations {
		pt, err := PredicateType(a)
		if err != nil {
			return oc, "", nil, outcome.Usagef("rule %q: %v", req.Rule, err)
		}
		o := base
		o.Attestation = pt
		runs = append(runs, o)
	}
	for _, o := range runs {
		res, err := Verify(ctx, o)
		if errors.Is(err, outcome.ErrUnreadable) {
			oc.Err = err
			break
		}
		if err != nil {
			return oc, "", nil, err
		}
		digest = res.Digest
		results = append(results, res)
		if !res.Verified {
			what := "signature"
			if o.Attestation != "" {
				what = "attestation " + o.Attestation
			}
			oc.Failures = append(oc.Failures, fmt.Sprintf("%s: %s", what, res.Reason))
		}
	}
	return oc, digest, results, nil
}
