package kube

import (
	"fmt"
	"slices"
	"strings"
)

// Report is the result for one document, in kubesec's JSON shape: object,
// valid, fileName, message, score, scoring. The fields tagged "-" are
// tollgate's additions for the table and SARIF outputs and for callers; they
// are left out of the JSON so that it stays what kubesec consumers expect.
type Report struct {
	// Object is "Kind/name.namespace" ("undefined" and "default" when
	// absent), or "Unknown" when the document has no kind.
	Object   string  `json:"object"`
	Valid    bool    `json:"valid"`
	FileName string  `json:"fileName"`
	Message  string  `json:"message,omitempty"`
	Score    int     `json:"score"`
	Scoring  Scoring `json:"scoring"`

	// Document is the 0-based index of the document in its input stream
	// (items of a List share their List's index).
	Document int `json:"-"`
	// Line is the 1-based line where the document (or List item) starts.
	Line int `json:"-"`
	// Supported reports whether any rule applied to the document's kind.
	Supported bool `json:"-"`
	// Problems are the validation problems of an invalid document, each
	// with the line of the offending field where it is known.
	Problems []Problem `json:"-"`
}

// Scoring lists the rules that lowered the score (critical), raised it
// (passed) and those that would have raised it (advise), each in kubesec's
// order.
type Scoring struct {
	Critical []RuleResult `json:"critical,omitempty"`
	Passed   []RuleResult `json:"passed,omitempty"`
	Advise   []RuleResult `json:"advise,omitempty"`
}

// RuleResult is one rule in a report. Line (tollgate's addition, omitted
// when zero) is the line of the offending field for critical results.
type RuleResult struct {
	ID       string `json:"id"`
	Selector string `json:"selector"`
	Reason   string `json:"reason"`
	Points   int    `json:"points"`
	Line     int    `json:"line,omitempty"`
	// Path is the field that triggered a critical result, for example
	// "spec.template.spec.containers[0].securityContext.privileged".
	Path string `json:"-"`
}

// Problem is one reason a document is invalid.
type Problem struct {
	Path    string // field path, "" when unknown
	Line    int    // 1-based line in the input, 0 when unknown
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	if p.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", p.Line)
	}
	return b.String()
}

// Failed reports whether the report counts as a failure at minScore: the
// document is invalid (whatever minScore), or its score is below minScore.
// kubesec fails any report scoring 0 or less, which is minScore 1.
func (r *Report) Failed(minScore int) bool {
	return !r.Valid || r.Score < minScore
}

// Judge words the message of a scored document after the verdict of the
// run (failed: its score is below the minimum, or a policy denies it), so
// that a report never says "Passed" when kube scan fails it. Invalid and
// unsupported documents keep their message.
func (r *Report) Judge(failed bool) {
	if !r.Valid || !r.Supported {
		return
	}
	if failed {
		r.Message = fmt.Sprintf("Failed with a score of %d points", r.Score)
	} else {
		r.Message = fmt.Sprintf("Passed with a score of %d points", r.Score)
	}
}

// scoreMessage is kubesec's message for a scored document.
func scoreMessage(score int) string {
	if score >= 0 {
		return fmt.Sprintf("Passed with a score of %d points", score)
	}
	return fmt.Sprintf("Failed with a score of %d points", score)
}

// sortResults orders results the way kubesec does, so reports are
// deterministic: when the points differ and either is positive, higher
// points first; when both are zero or negative, the more negative first;
// equal points by selector (byte order).
func sortResults(rs []RuleResult) {
	slices.SortStableFunc(rs, func(a, b RuleResult) int {
		if a.Points != b.Points {
			if a.Points > 0 || b.Points > 0 {
				return b.Points - a.Points
			}
			return a.Points - b.Points
		}
		return strings.Compare(a.Selector, b.Selector)
	})
}
