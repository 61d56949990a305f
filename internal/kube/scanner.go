package kube

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	yaml3 "go.yaml.in/yaml/v3"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "sigs.k8s.io/json"
)

// Options configure a Scanner.
type Options struct {
	// Ruleset is "default" (kubesec v2.14.2's 26 rules, so that scores
	// compare with kubesec's) or "extended" (those plus the 4 rules kubesec
	// added later). Empty means default.
	Ruleset string
	// Rules, when not empty, restricts scanning to these rule IDs, taken
	// from all known rules whatever the Ruleset.
	Rules []string
}

// Scanner scores manifests. It holds no mutable state: one Scanner may
// serve any number of goroutines.
type Scanner struct {
	rules  []Rule
	scheme *kruntime.Scheme
}

// maxListDepth bounds the nesting of List documents (a List of Lists …).
const maxListDepth = 8

// maxProblems caps the validation problems kept for one document.
const maxProblems = 20

// NewScanner returns a Scanner for opts, or an error naming an unknown rule
// set or rule ID.
func NewScanner(opts Options) (*Scanner, error) {
	all := Rules()
	var rules []Rule
	switch {
	case len(opts.Rules) > 0:
		byID := make(map[string]Rule, len(all))
		for _, r := range all {
			byID[r.ID] = r
		}
		var unknown []string
		for _, id := range opts.Rules {
			r, ok := byID[id]
			if !ok {
				unknown = append(unknown, id)
				continue
			}
			if !slices.ContainsFunc(rules, func(x Rule) bool { return x.ID == id }) {
				rules = append(rules, r)
			}
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("unknown rule ID %s (see 'tollgate kube rules')", strings.Join(unknown, ", "))
		}
	case opts.Ruleset == "" || opts.Ruleset == RulesetDefault:
		for _, r := range all {
			if !r.Extended {
				rules = append(rules, r)
			}
		}
	case opts.Ruleset == RulesetExtended:
		rules = all
	default:
		return nil, fmt.Errorf("unknown rule set %q (want %q or %q)", opts.Ruleset, RulesetDefault, RulesetExtended)
	}
	scheme, err := newScheme()
	if err != nil {
		return nil, fmt.Errorf("registering Kubernetes types: %w", err)
	}
	return &Scanner{rules: rules, scheme: scheme}, nil
}

// Rules returns the rules the scanner runs.
func (s *Scanner) Rules() []Rule { return slices.Clone(s.rules) }

// Scan scores every document of data, a YAML stream or JSON, and returns
// one report per document in input order (one per item for a List).
// fileName is copied into the reports. A document that does not decode or
// validate gets an invalid report of its own; the others are still scored.
// Blank and comment-only documents are skipped, so input without any
// document yields no report.
func (s *Scanner) Scan(data []byte, fileName string) []Report {
	var reports []Report
	s.ScanFunc(data, fileName, func(r *Report) error {
		reports = append(reports, *r)
		return nil
	})
	return reports
}

// ScanFunc scores data as Scan does and hands each report to emit, in
// input order, as soon as it and the ones before it are ready, so a long
// stream can be written out while it is scored and never held whole. The
// report passed to emit is valid only during the call. ScanFunc stops at,
// and returns, the first error of emit.
func (s *Scanner) ScanFunc(data []byte, fileName string, emit func(*Report) error) error {
	return s.scanManifests(data, fileName, func(_ *Manifest, r *Report) error { return emit(r) })
}

// scanManifests is ScanFunc handing emit each manifest with its report.
func (s *Scanner) scanManifests(data []byte, fileName string, emit func(*Manifest, *Report) error) error {
	pieces := splitStream(data)
	workers := min(runtime.GOMAXPROCS(0), len(pieces)/parallelMinDocs)
	if workers < 2 || len(data) < parallelMinBytes {
		var buf []scanned
		for i, p := range pieces {
			buf = s.scanPiece(buf[:0], p, i, fileName)
			for j := range buf {
				if err := emit(&buf[j].m, &buf[j].r); err != nil {
					return err
				}
			}
		}
		return nil
	}
	// A long stream: documents are independent, so score them on every
	// core, each worker taking the next document, at most parallelWindow
	// documents ahead of the one being emitted.
	var (
		mu      sync.Mutex
		cond    = sync.NewCond(&mu)
		next    int // next piece to hand out
		emitted int // pieces emitted
		results = make([][]scanned, len(pieces))
		ready   = make([]bool, len(pieces))
		wg      sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			mu.Lock()
			defer mu.Unlock()
			for {
				for next < len(pieces) && next >= emitted+parallelWindow {
					cond.Wait()
				}
				if next >= len(pieces) {
					return
				}
				i := next
				next++
				mu.Unlock()
				rs := s.scanPiece(nil, pieces[i], i, fileName)
				mu.Lock()
				results[i], ready[i] = rs, true
				cond.Broadcast()
			}
		})
	}
	var err error
	for i := range pieces {
		mu.Lock()
		for !ready[i] {
			cond.Wait()
		}
		rs := results[i]
		results[i] = nil
		emitted = i + 1
		cond.Broadcast()
		mu.Unlock()
		for j := range rs {
			if err = emit(&rs[j].m, &rs[j].r); err != nil {
				break
			}
		}
		if err != nil {
			mu.Lock()
			next = len(pieces) // stop handing out work
			cond.Broadcast()
			mu.Unlock()
			break
		}
	}
	wg.Wait()
	return err
}

// Streams are scored in parallel from this many documents per core and
// this size on (below, starting goroutines costs more than it saves), the
// workers going at most parallelWindow documents ahead of the output.
const (
	parallelMinDocs  = 32
	parallelMinBytes = 64 << 10
	parallelWindow   = 256
)

// scanPiece reads the manifests of one document and scores each.
func (s *Scanner) scanPiece(out []scanned, p piece, idx int, fileName string) []scanned {
	for _, m := range readPiece(nil, p, idx, fileName) {
		out = append(out, scanned{m: m, r: s.ScoreManifest(&m)})
	}
	return out
}

// scanned is a manifest and its report.
type scanned struct {
	m Manifest
	r Report
}

// head is the part of a document read before its type is known.
type head struct {
	APIVersion any `json:"apiVersion"`
	Kind       any `json:"kind"`
	Metadata   *struct {
		Name      any `json:"name"`
		Namespace any `json:"namespace"`
	} `json:"metadata"`
}

// ScoreManifest scores one manifest: an invalid report when it does not
// parse, validate or reduce to what the rules need.
func (s *Scanner) ScoreManifest(m *Manifest) Report {
	fileName, idx, line, object := m.File, m.Index, m.Line, m.object
	if len(m.problems) > 0 {
		return invalid(fileName, object, idx, line, m.problems)
	}
	bad := func(probs ...Problem) Report {
		mi := m.invalid(probs...)
		return invalid(fileName, object, idx, line, mi.problems)
	}
	kind, js := m.Kind, m.Object
	apiVersion, _ := m.head.APIVersion.(string)
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return bad(Problem{Path: "apiVersion", Message: err.Error()})
	}
	obj, err := s.scheme.New(gv.WithKind(kind))
	if err != nil {
		if _, ok := PodTemplatePath(kind); ok {
			return bad(Problem{Path: "apiVersion", Message: fmt.Sprintf("%s has no kind %s", apiVersion, kind)})
		}
		// A custom resource or an unknown kind: nothing to validate it
		// against offline, and no rule applies.
		return Report{Object: object, Valid: true, FileName: fileName, Document: idx, Line: line,
			Message: fmt.Sprintf("This resource kind is not supported by tollgate (no built-in schema for %s %s)", apiVersion, kind)}
	}
	if probs := decodeStrict(js, obj); len(probs) > 0 {
		return bad(probs...)
	}
	t, probs := targetOf(obj, kind)
	if len(probs) > 0 {
		return bad(probs...)
	}
	r := s.score(t, m.doc, m.prefix)
	r.Object, r.FileName, r.Document, r.Line = object, fileName, idx, line
	return r
}

// score runs the rules over a valid document.
func (s *Scanner) score(t *target, doc *document, prefix string) Report {
	r := Report{Valid: true}
	applied := 0
	for i := range s.rules {
		rule := &s.rules[i]
		if !rule.applies(t) {
			continue
		}
		applied++
		matched, path := rule.check(t)
		res := RuleResult{ID: rule.ID, Selector: rule.Selector, Reason: rule.Reason, Points: rule.Points}
		switch {
		case matched && rule.Points < 0:
			if path != "" {
				res.Path = joinPath(prefix, path)
				res.Line = doc.lineOf(res.Path)
			}
			r.Score += rule.Points
			r.Scoring.Critical = append(r.Scoring.Critical, res)
		case matched:
			r.Score += rule.Points
			r.Scoring.Passed = append(r.Scoring.Passed, res)
		case rule.Points >= 0:
			r.Scoring.Advise = append(r.Scoring.Advise, res)
		}
	}
	if applied == 0 {
		r.Message = "This resource kind is not supported by tollgate"
		return r
	}
	r.Supported = true
	r.Message = scoreMessage(r.Score)
	sortResults(r.Scoring.Critical)
	sortResults(r.Scoring.Passed)
	sortResults(r.Scoring.Advise)
	return r
}

// invalid builds the report of a document that does not decode or
// validate. Its message says which document, where, and what is wrong.
func invalid(fileName, object string, idx, line int, probs []Problem) Report {
	if len(probs) > maxProblems {
		probs = append(probs[:maxProblems:maxProblems], Problem{Message: fmt.Sprintf("and %d more problems", len(probs)-maxProblems)})
	}
	return Report{
		Object: object, FileName: fileName, Document: idx, Line: line, Problems: probs,
		Message: fmt.Sprintf("document %d (line %d) is invalid: %s", idx+1, line, problemText(probs)),
	}
}

// readHead reads kind, apiVersion, name and namespace of a JSON object,
// whatever the rest holds.
func readHead(js []byte) *head {
	var h head
	if err := json.Unmarshal(js, &h); err != nil {
		// metadata of the wrong type: name the object from its kind only.
		var kindOnly struct {
			APIVersion any `json:"apiVersion"`
			Kind       any `json:"kind"`
		}
		_ = json.Unmarshal(js, &kindOnly)
		h = head{APIVersion: kindOnly.APIVersion, Kind: kindOnly.Kind}
	}
	return &h
}

// headFromNode reads the head from the YAML node tree the document was
// converted from (the same values readHead would find in its JSON), or
// returns nil when a value is not a plain scalar.
func headFromNode(root *yaml3.Node) *head {
	if root.Kind != yaml3.MappingNode {
		return nil
	}
	var h head
	for i := 0; i+1 < len(root.Content); i += 2 {
		var ok bool
		switch root.Content[i].Value {
		case "apiVersion":
			h.APIVersion, ok = scalarValue(root.Content[i+1])
		case "kind":
			h.Kind, ok = scalarValue(root.Content[i+1])
		case "metadata":
			m := root.Content[i+1]
			if m.Kind != yaml3.MappingNode {
				return nil
			}
			h.Metadata = &struct {
				Name      any `json:"name"`
				Namespace any `json:"namespace"`
			}{}
			ok = true
			for j := 0; j+1 < len(m.Content) && ok; j += 2 {
				switch m.Content[j].Value {
				case "name":
					h.Metadata.Name, ok = scalarValue(m.Content[j+1])
				case "namespace":
					h.Metadata.Namespace, ok = scalarValue(m.Content[j+1])
				}
			}
		default:
			ok = true
		}
		if !ok {
			return nil
		}
	}
	return &h
}

// scalarValue is the JSON value of a scalar node as the fast path
// converts it (numbers as float64, as encoding/json decodes them).
func scalarValue(n *yaml3.Node) (any, bool) {
	if n.Kind != yaml3.ScalarNode {
		return nil, false
	}
	if n.Style != 0 {
		return n.Value, true
	}
	v, isString := resolvePlain(n.Value)
	if isString {
		return n.Value, true
	}
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64, bool, nil:
		return x, true
	}
	return nil, false
}

// objectName is kubesec's "Kind/name.namespace", with "undefined" for a
// missing name and "default" for a missing namespace.
func objectName(h *head) string {
	if h.Kind == nil {
		return "Unknown"
	}
	name, ns := any("undefined"), any("default")
	if h.Metadata != nil {
		if h.Metadata.Name != nil {
			name = h.Metadata.Name
		}
		if h.Metadata.Namespace != nil {
			ns = h.Metadata.Namespace
		}
	}
	return fmt.Sprintf("%v/%v.%v", h.Kind, name, ns)
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

func joinPath(prefix, p string) string {
	switch {
	case prefix == "":
		return p
	case p == "":
		return prefix
	}
	return prefix + "." + p
}

// decodeStrict decodes js into obj the way the API server does with strict
// field validation: case-sensitive, unknown and duplicate fields refused.
func decodeStrict(js []byte, obj any) []Problem {
	strictErrs, err := kjson.UnmarshalStrict(js, obj)
	if err != nil {
		return []Problem{decodeProblem(err)}
	}
	var probs []Problem
	for _, e := range strictErrs {
		p := Problem{Message: e.Error()}
		if fe, ok := e.(kjson.FieldError); ok {
			p.Path = fe.FieldPath()
			switch msg := e.Error(); {
			case strings.HasPrefix(msg, "unknown field"):
				p.Message = "unknown field"
			case strings.HasPrefix(msg, "duplicate field"):
				p.Message = "duplicate field"
			}
		}
		probs = append(probs, p)
	}
	return probs
}
