package policy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// TestResult is the decision on one manifest document, as admission would
// take it (`tollgate policy test`).
type TestResult struct {
	File      string `json:"file"`
	Document  int    `json:"document"` // 0-based index in the file
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
	// Error is set when the document does not parse; it counts as denied.
	Error string `json:"error,omitempty"`
}

// TestOptions configure Test.
type TestOptions struct {
	// Namespace is used for objects that do not name one (default "default").
	Namespace string
	// Scorer scores workloads for the kubesec rules.
	Scorer Scorer
}

// Test evaluates every document of a YAML or JSON stream (a List's items
// one by one) with the same functions the admission server uses.
func (p *Policy) Test(file string, data []byte, o TestOptions) []TestResult {
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	var out []TestResult
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for idx := 0; ; idx++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out = append(out, TestResult{File: file, Document: idx, Error: fmt.Sprintf("reading document %d: %v", idx, err)})
			break
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			out = append(out, TestResult{File: file, Document: idx, Error: fmt.Sprintf("document %d: %v", idx, err)})
			continue
		}
		if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
			idx-- // comments or separators only: not a document
			continue
		}
		out = append(out, p.testObject(file, idx, js, o, 0)...)
	}
	return out
}

func (p *Policy) testObject(file string, idx int, js []byte, o TestOptions, depth int) []TestResult {
	res := TestResult{File: file, Document: idx}
	var head struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(js, &head); err != nil {
		res.Error = fmt.Sprintf("document %d: not a Kubernetes object: %s", idx, JSONErrorText(err, "the document"))
		return []TestResult{res}
	}
	if head.Kind == "List" || strings.HasSuffix(head.Kind, "List") && head.Items != nil {
		if depth > 3 {
			res.Error = fmt.Sprintf("document %d: Lists nested too deep", idx)
			return []TestResult{res}
		}
		var out []TestResult
		for _, item := range head.Items {
			out = append(out, p.testObject(file, idx, item, o, depth+1)...)
		}
		return out
	}
	res.Kind, res.Name, res.Namespace = head.Kind, head.Metadata.Name, head.Metadata.Namespace
	if res.Namespace == "" {
		res.Namespace = o.Namespace
	}
	w, ok, err := DecodeWorkload("", js)
	if err != nil {
		res.Error = fmt.Sprintf("document %d: %v", idx, err)
		return []TestResult{res}
	}
	if !ok {
		res.Allowed = true
		return []TestResult{res}
	}
	res.Checked = true
	if w.Kind == "Pod" {
		// Mutating admission runs before validation: judge the Pod as
		// /mutate leaves it (digest pinning needs the registry: skipped).
		m, err := p.Mutate(res.Namespace, js, nil)
		if err != nil {
			res.Error = fmt.Sprintf("document %d: %v", idx, err)
			return []TestResult{res}
		}
		res.Mutations = m.Changes
		if len(m.Patch) > 0 {
			if js, err = m.Apply(js); err != nil {
				res.Error = fmt.Sprintf("document %d: %v", idx, err)
				return []TestResult{res}
			}
			if w, _, err = DecodeWorkload("Pod", js); err != nil {
				res.Error = fmt.Sprintf("document %d: %v", idx, err)
				return []TestResult{res}
			}
		}
	}
	d, err := p.ReviewWorkload(w, res.Namespace, js, o.Scorer)
	if err != nil {
		res.Error = fmt.Sprintf("document %d: %v", idx, err)
		return []TestResult{res}
	}
	res.Allowed = d.Allowed()
	res.Denials = d.Denials()
	res.Warnings = d.Warnings()
	res.AuditAnnotations = d.AuditAnnotations(false)
	return []TestResult{res}
}

// Denied reports whether a result would be refused (or did not parse).
func (r TestResult) Denied() bool { return r.Error != "" || !r.Allowed }

// WriteTestResults prints results as "text" (one line per document, then
// its findings indented) or "json" (an array).
func WriteTestResults(w io.Writer, format string, results []TestResult) error {
	switch format {
	case "json":
		if results == nil {
			results = []TestResult{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	case "text", "":
	default:
		return fmt.Errorf("unknown format %q (want text or json)", format)
	}
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
		fmt.Fprintf(bw, "%s:%d %s: %s\n", r.File, r.Document, obj, verdict)
		if r.Error != "" {
			fmt.Fprintf(bw, "  error: %s\n", r.Error)
		}
		for _, d := range r.Denials {
			fmt.Fprintf(bw, "  deny: %s\n", d)
		}
		for _, m := range r.Warnings {
			fmt.Fprintf(bw, "  warn: %s\n", m)
		}
		for _, k := range sortedKeys(r.AuditAnnotations) {
			fmt.Fprintf(bw, "  audit: %s: %s\n", k, r.AuditAnnotations[k])
		}
		for _, m := range r.Mutations {
			fmt.Fprintf(bw, "  mutate: %s\n", m)
		}
	}
	return bw.Flush()
}
