package report

import (
	"github.com/tollgate-dev/tollgate/internal/imagecheck"
	"github.com/tollgate-dev/tollgate/internal/secret"
)

// Secret is one credential found (Trivy's DetectedSecret); its Match and
// Code hold the value masked, never the value.
type Secret = secret.Finding

// Misconfiguration is one failed check (Trivy's DetectedMisconfiguration):
// a hygiene check of a built image.
type Misconfiguration = imagecheck.Finding

// MisconfSummary counts the checks of a config result.
type MisconfSummary struct {
	Successes int `json:"Successes"`
	Failures  int `json:"Failures"`
}

// SecretCount and MisconfigurationCount count the report's findings of
// the secret and misconfig scanners.
func (r *Report) SecretCount() int {
	n := 0
	for i := range r.Results {
		n += len(r.Results[i].Secrets)
	}
	return n
}

// MisconfigurationCount counts the report's failed checks.
func (r *Report) MisconfigurationCount() int {
	n := 0
	for i := range r.Results {
		n += len(r.Results[i].Misconfigurations)
	}
	return n
}
