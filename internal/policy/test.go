package policy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/tollgate-dev/tollgate/internal/kube"
	"github.com/tollgate-dev/tollgate/internal/output"
)

// TestResult is the decision on one manifest document, as admission would
// take it (`tollgate policy test`).
type TestResult struct {
	File      string `json:"file"`
	Document  int    `json:"document"` // 0-based index in the file
	Line      int    `json:"line"`     // 1-based line where the object starts
	Kind      string `json:"kind,omitempty"`
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Checked is false for kinds admission does not look at (Services…).
	Checked          bool              `json:"checked"`
	Allowed          bool              `json:"allowed"`
	Denials          []string          `json:"denials,omitempty"`
	Warnings         []string          `json:"warnings,omitempty"`
	AuditAnnotations map[string]string `json:"auditAnnotations,omitempty"`
	// Mutations are what /mutate would change in a Pod (digest pinning
	// needs the registry and is not shown).
	Mutations []string `json:"mutations,omitempty"`
	// NotEvaluated lists the rules that need the images themselves
	// (vulnerabilities, imageChecks, signatures) and were not evaluated
	// because no Images hook was given (offline).
	NotEvaluated []RuleID `json:"notEvaluated,omitempty"`
	// Error is set when the document does not parse; it counts as denied.
	Error string `json:"error,omitempty"`
}

// TestOptions configure Test.
type TestOptions struct {
	// Namespace is used for objects that do not name one (default "default").
	Namespace string
	// Scorer scores workloads for the kubesec rules.
	Scorer Scorer
	// Images decides the rules that need the images (scan and signature
	// rules) for a workload's images in a namespace, as admission's gate
	// does; nil leaves them out and lists them in NotEvaluated.
	Images func(namespace string, uses []ImageUse) []Finding
}

// TestManifest evaluates one manifest (see kube.ReadManifests and
// kube.ReadPaths, which read them) with the same functions the admission
// server uses.
func (p *Policy) TestManifest(m *kube.Manifest, o TestOptions) TestResult {
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	res := TestResult{File: m.File, Document: m.Index, Line: m.Line, Kind: m.Kind, Name: m.Name(), Namespace: m.Namespace()}
	if err := m.Err(); err != nil {
		res.Error = err.Error()
		return res
	}
	if res.Namespace == "" {
		res.Namespace = o.Namespace
	}
	js := m.Object
	w, ok, err := DecodeWorkload(m.Kind, js)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	if !ok {
		res.Allowed = true
		return res
	}
	res.Checked = true
	if w.Kind == "Pod" {
		// Mutating admission runs before validation: judge the Pod as
		// /mutate leaves it (digest pinning needs the registry: skipped).
		m, err := p.Mutate(res.Namespace, js, nil)
		if err != nil {
			res.Error = err.Error()
			return res
		}
		res.Mutations = m.Changes
		if len(m.Patch) > 0 {
			if js, err = m.Apply(js); err != nil {
				res.Error = err.Error()
				return res
			}
			if w, _, err = DecodeWorkload("Pod", js); err != nil {
				res.Error = err.Error()
				return res
			}
		}
	}
	d, err := p.ReviewWorkload(w, res.Namespace, js, o.Scorer)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	if o.Images != nil {
		p.AddImageFindings(&d, w.Annotations, o.Images(res.Namespace, w.Images)...)
	} else {
		res.NotEvaluated = p.imageRulesFor(res.Namespace, w.Images)
	}
	res.Allowed = d.Allowed()
	res.Denials = d.Denials()
	res.Warnings = d.Warnings()
	res.AuditAnnotations = d.AuditAnnotations(false)
	return res
}

// Denied reports whether a result would be refused (or did not parse).
func (r TestResult) Denied() bool { return r.Error != "" || !r.Allowed }

// testFormats is the one registry of policy test's formats.
var testFormats = output.NewRegistry("policy test",
	output.Format[output.Writer[[]TestResult]]{Name: "text", Writer: writeTestText},
	output.Format[output.Writer[[]TestResult]]{Name: "json", Writer: writeTestJSON},
)

// TestFormats lists the formats of WriteTestResults.
func TestFormats() []string { return testFormats.Names() }

// CheckTestFormat returns a usage error naming the formats when format is
// not one.
func CheckTestFormat(format string) error {
	if format == "" {
		return nil
	}
	return testFormats.Check(format)
}

// WriteTestResults prints results as "text" (one line per document, then
// its findings indented; the default) or "json" (an array).
func WriteTestResults(w io.Writer, format string, results []TestResult) error {
	if format == "" {
		format = "text"
	}
	_, write, err := testFormats.Lookup(format)
	if err != nil {
		return err
	}
	return write(w, results)
}

func writeTestJSON(w io.Writer, results []TestResult) error {
	if results == nil {
		results = []TestResult{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(results)
}

// Place is where a result's object is: "file:line (document n)", n
// counting from 1.
func (r TestResult) Place() string {
	return fmt.Sprintf("%s:%d (document %d)", r.File, r.Line, r.Document+1)
}

// writeTestText writes the human-readable report; text from the input is
// escaped (output.Escape).
func writeTestText(w io.Writer, results []TestResult) error {
	bw := bufio.NewWriter(w)
	for _, r := range results {
		obj := r.Kind + "/" + r.Name
		if r.Kind == "" {
			obj = "-"
		}
		verdict := "allowed"
		switch {
		case r.Error != "":
			verdict = "error"
		case !r.Allowed:
			verdict = "denied"
		case !r.Checked:
			verdict = "not checked"
		}
		if r.Namespace != "" {
			obj += " in " + r.Namespace
		}
		esc := output.Escape
		fmt.Fprintf(bw, "%s %s: %s\n", esc(r.Place()), esc(obj), verdict)
		if r.Error != "" {
			fmt.Fprintf(bw, "  error: %s\n", esc(r.Error))
		}
		for _, d := range r.Denials {
			fmt.Fprintf(bw, "  deny: %s\n", esc(d))
		}
		for _, m := range r.Warnings {
			fmt.Fprintf(bw, "  warn: %s\n", esc(m))
		}
		for _, k := range sortedKeys(r.AuditAnnotations) {
			fmt.Fprintf(bw, "  audit: %s: %s\n", esc(k), esc(r.AuditAnnotations[k]))
		}
		for _, m := range r.Mutations {
			fmt.Fprintf(bw, "  mutate: %s\n", esc(m))
		}
		for _, id := range r.NotEvaluated {
			fmt.Fprintf(bw, "  not evaluated: %s (it reads the images: kube scan --policy --check-images does)\n", id)
		}
	}
	return bw.Flush()
}
