package policy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParsePolicy: any bytes either parse into a policy whose decisions
// run without panicking, or give an error — never a panic.
func FuzzParsePolicy(f *testing.F) {
	seeds, _ := filepath.Glob("../../docs/examples/*.yaml")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	const head = "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nspec:\n"
	for _, s := range []string{
		"  vulnerabilities: {maxSeverity: MEDIUM, ignoreUnfixed: true, images: [\"r.io/**\"], ignore: [{id: CVE-1, reason: r, expires: 2026-01-01, namespaces: [a]}]}\n",
		"  imageChecks: {secrets: false, misconfig: true, maxSeverity: NONE, onError: allow}\n",
		"  signatures: {rules: [{images: [r.io/x/*], keys: [{publicKey: k}], mode: off}]}\n",
		"  images: {denyLatest: {mode: off}}\n  exemptions: [{namespaces: [a], rules: [vulnerabilities]}]\n",
	} {
		f.Add([]byte(head + s))
	}
	facts := &ScanFacts{
		Vulnerabilities: []VulnFact{{ID: "CVE-1", Package: "p", Installed: "1", Severity: "CRITICAL"}, {ID: "CVE-2", Severity: "weird"}},
		Checks:          []CheckFact{{ID: "CIS-DI-0001", Class: "misconfig", Severity: "HIGH"}, {ID: "k", Class: "secret", Severity: "CRITICAL"}},
		Unchecked:       []VulnFact{{Package: "q", Installed: "x"}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseFile(data, func(string) ([]byte, error) { return nil, errors.New("no files") })
		if err != nil {
			return
		}
		_ = p.Summary()
		for _, img := range []string{"r.io/x/app:1", "", "nginx", "r.io/a@sha256:0000000000000000000000000000000000000000000000000000000000000000"} {
			for _, ns := range []string{"default", "a"} {
				for _, r := range p.ScanRequirements(ns, img) {
					DecideScan(img, "sha256:00", ns, r, ScanOutcome{Facts: facts}, time.Now())
					DecideScan(img, "", ns, r, ScanOutcome{Err: errors.New("x"), Pending: true}, time.Now())
				}
				_, _ = p.SignatureRequirements(ns, img)
			}
		}
	})
}
