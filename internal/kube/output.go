package kube

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tollgate-dev/tollgate/internal/buildinfo"
	"github.com/tollgate-dev/tollgate/internal/output"
	"github.com/tollgate-dev/tollgate/internal/sarif"
)

// Output formats for WriteReports.
const (
	FormatJSON  = "json"
	FormatTable = "table"
	FormatSARIF = "sarif"
)

// ReportWriter writes reports one at a time in an output format; Close
// ends the output (for SARIF, writes it all).
type ReportWriter = output.Stream[*Report]

// NewStream starts the report stream of one format on w; rules are the
// rules the scanner runs (SARIF describes them).
type NewStream func(w io.Writer, rules []Rule) ReportWriter

// formats is the one registry of kube scan's formats; names are checked
// here.
var formats = output.NewRegistry("kube scan",
	output.Format[NewStream]{Name: FormatJSON, Writer: func(w io.Writer, _ []Rule) ReportWriter {
		// a report with its rules is 3 to 6 KB of JSON
		return &jsonStream{w: w, buf: make([]byte, 0, 8<<10)}
	}},
	output.Format[NewStream]{Name: FormatTable, Writer: func(w io.Writer, _ []Rule) ReportWriter { return tableStream{w} }},
	output.Format[NewStream]{Name: FormatSARIF, Writer: func(w io.Writer, rules []Rule) ReportWriter { return &sarifStream{w: w, rules: rules} }},
)

// Formats lists the output formats.
func Formats() []string { return formats.Names() }

// CheckFormat returns a usage error naming the formats when format is not
// one.
func CheckFormat(format string) error { return formats.Check(format) }

// WriteReports writes reports in format.
func WriteReports(w io.Writer, format string, reports []Report, rules []Rule) error {
	rw, err := NewReportWriter(w, format, rules)
	if err != nil {
		return err
	}
	for i := range reports {
		if err := rw.Write(&reports[i]); err != nil {
			return err
		}
	}
	return rw.Close()
}

// NewReportWriter returns a writer for format, or a usage error naming the
// known formats.
func NewReportWriter(w io.Writer, format string, rules []Rule) (ReportWriter, error) {
	_, start, err := formats.Lookup(format)
	if err != nil {
		return nil, err
	}
	return start(w, rules), nil
}

// jsonStream writes kubesec's JSON array, a report at a time.
type jsonStream struct {
	w   io.Writer
	n   int
	buf []byte
}

func (rw *jsonStream) Write(r *Report) error {
	if rw.n == 0 {
		rw.buf = append(rw.buf, "[\n"...)
	} else {
		rw.buf = append(rw.buf, ",\n"...)
	}
	rw.n++
	rw.buf = appendReport(rw.buf, r)
	if len(rw.buf) >= 32<<10 {
		return rw.flush()
	}
	return nil
}

func (rw *jsonStream) Close() error {
	if rw.n == 0 {
		rw.buf = append(rw.buf, "[]\n"...)
	} else {
		rw.buf = append(rw.buf, "\n]\n"...)
	}
	return rw.flush()
}

// tableStream writes the table a report at a time.
type tableStream struct{ w io.Writer }

func (t tableStream) Write(r *Report) error { return writeTableReport(t.w, r) }
func (tableStream) Close() error            { return nil }

// sarifStream collects the reports: SARIF needs every one before it can be
// written.
type sarifStream struct {
	w       io.Writer
	rules   []Rule
	reports []Report
}

func (s *sarifStream) Write(r *Report) error { s.reports = append(s.reports, *r); return nil }
func (s *sarifStream) Close() error          { return WriteSARIF(s.w, s.reports, s.rules) }

func (rw *jsonStream) flush() error {
	_, err := rw.w.Write(rw.buf)
	rw.buf = rw.buf[:0]
	return err
}

// WriteJSON writes reports as kubesec does: the bytes of
// json.MarshalIndent(reports, "", "  ") and a final newline. Reports are
// encoded one at a time by a writer specialised for Report (the HTTP
// endpoint's hot path), so a large result is never held twice in memory.
func WriteJSON(w io.Writer, reports []Report) error {
	return WriteReports(w, FormatJSON, reports, nil)
}

// appendReport appends r as the element of an array indented by two spaces
// (what json.MarshalIndent produces for it).
func appendReport(b []byte, r *Report) []byte {
	b = append(b, "  {\n    \"object\": "...)
	b = appendString(b, r.Object)
	b = append(b, ",\n    \"valid\": "...)
	b = strconv.AppendBool(b, r.Valid)
	b = append(b, ",\n    \"fileName\": "...)
	b = appendString(b, r.FileName)
	if r.Message != "" {
		b = append(b, ",\n    \"message\": "...)
		b = appendString(b, r.Message)
	}
	b = append(b, ",\n    \"score\": "...)
	b = strconv.AppendInt(b, int64(r.Score), 10)
	b = append(b, ",\n    \"scoring\": {"...)
	first := true
	for _, l := range []struct {
		name string
		rs   []RuleResult
	}{{"critical", r.Scoring.Critical}, {"passed", r.Scoring.Passed}, {"advise", r.Scoring.Advise}} {
		if len(l.rs) == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, "\n      \""...)
		b = append(b, l.name...)
		b = append(b, "\": ["...)
		for i := range l.rs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendResult(b, &l.rs[i])
		}
		b = append(b, "\n      ]"...)
	}
	if !first {
		b = append(b, "\n    "...)
	}
	return append(b, "}\n  }"...)
}

func appendResult(b []byte, r *RuleResult) []byte {
	b = append(b, "\n        {\n          \"id\": "...)
	b = appendString(b, r.ID)
	b = append(b, ",\n          \"selector\": "...)
	b = appendString(b, r.Selector)
	b = append(b, ",\n          \"reason\": "...)
	b = appendString(b, r.Reason)
	b = append(b, ",\n          \"points\": "...)
	b = strconv.AppendInt(b, int64(r.Points), 10)
	if r.Line != 0 {
		b = append(b, ",\n          \"line\": "...)
		b = strconv.AppendInt(b, int64(r.Line), 10)
	}
	return append(b, "\n        }"...)
}

// appendString appends s as encoding/json quotes it. Strings of plain
// printable ASCII, the usual case, are copied; others go through
// encoding/json so that the escaping is exactly its own.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// WriteTable writes a human-readable summary: one line per document
// (position, object, score, message), then one line per critical finding
// with its line and field, then the passed and advised rule IDs.
func WriteTable(w io.Writer, reports []Report) error {
	return WriteReports(w, FormatTable, reports, nil)
}

func writeTableReport(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s:%d  %s  score %d  %s\n", output.Escape(r.FileName), r.Line, output.Escape(r.Object), r.Score, output.Escape(r.Message))
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	for _, c := range r.Scoring.Critical {
		loc := "-"
		if c.Line > 0 {
			loc = fmt.Sprintf("line %d", c.Line)
		}
		fmt.Fprintf(tw, "  critical\t%s(%+d)\t%s\t%s\n", c.ID, c.Points, loc, output.Escape(c.Path))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if ids := resultIDs(r.Scoring.Passed); ids != "" {
		fmt.Fprintf(bw, "  passed    %s\n", ids)
	}
	if ids := resultIDs(r.Scoring.Advise); ids != "" {
		fmt.Fprintf(bw, "  advise    %s\n", ids)
	}
	return bw.Flush()
}

// WriteRules lists every rule as a table: ID, points, the rule set that
// runs it, the kinds it applies to and kubesec's selector.
func WriteRules(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPOINTS\tRULESET\tKINDS\tSELECTOR")
	for _, r := range Rules() {
		set := RulesetDefault
		if r.Extended {
			set = RulesetExtended
		}
		fmt.Fprintf(tw, "%s\t%+d\t%s\t%s\t%s\n", r.ID, r.Points, set, r.Kinds, r.Selector)
	}
	return tw.Flush()
}

func resultIDs(rs []RuleResult) string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = fmt.Sprintf("%s(%+d)", r.ID, r.Points)
	}
	return strings.Join(ids, " ")
}

// invalidRuleID is the SARIF rule of documents that do not validate.
const invalidRuleID = "InvalidDocument"

// WriteSARIF writes reports as a SARIF 2.1.0 log: critical findings are
// errors at the offending line, advice are notes at the document, invalid
// documents are errors at the first problem.
func WriteSARIF(w io.Writer, reports []Report, rules []Rule) error {
	driver := sarif.Driver{Name: "tollgate", Version: sarif.ToolVersion(buildinfo.Version()), Rules: []sarif.Rule{{
		ID: invalidRuleID, ShortDescription: sarif.Text{Text: "The document does not decode or validate against the Kubernetes API types"},
	}}}
	index := map[string]int{invalidRuleID: 0}
	addRule := func(id, reason string, points int, selector string) {
		index[id] = len(driver.Rules)
		driver.Rules = append(driver.Rules, sarif.Rule{
			ID: id, ShortDescription: sarif.Text{Text: reason},
			Properties: map[string]any{"points": points, "selector": selector},
		})
	}
	for _, r := range rules {
		addRule(r.ID, r.Reason, r.Points, r.Selector)
	}
	// ruleIndex points every result at its rule; a result of a rule the
	// caller did not list gets the rule from the result itself.
	ruleIndex := func(r *RuleResult) int {
		if _, ok := index[r.ID]; !ok {
			addRule(r.ID, r.Reason, r.Points, r.Selector)
		}
		return index[r.ID]
	}
	results := []sarif.Result{}
	at := func(file string, line int) []sarif.Location {
		loc := sarif.Location{PhysicalLocation: sarif.PhysicalLocation{ArtifactLocation: sarif.ArtifactLocation{URI: sarif.URI(file)}}}
		if line > 0 {
			loc.PhysicalLocation.Region = &sarif.Region{StartLine: line}
		}
		return []sarif.Location{loc}
	}
	for i := range reports {
		r := &reports[i]
		if !r.Valid {
			line := r.Line
			if len(r.Problems) > 0 && r.Problems[0].Line > 0 {
				line = r.Problems[0].Line
			}
			results = append(results, sarif.Result{RuleID: invalidRuleID, Level: "error",
				Message: sarif.Text{Text: r.Object + ": " + r.Message}, Locations: at(r.FileName, line)})
			continue
		}
		for j := range r.Scoring.Critical {
			c := &r.Scoring.Critical[j]
			line := c.Line
			if line == 0 {
				line = r.Line
			}
			msg := fmt.Sprintf("%s: %s (%d points)", r.Object, c.Reason, c.Points)
			if c.Path != "" {
				msg = fmt.Sprintf("%s: %s: %s (%d points)", r.Object, c.Path, c.Reason, c.Points)
			}
			results = append(results, sarif.Result{RuleID: c.ID, RuleIndex: ruleIndex(c), Level: "error",
				Message: sarif.Text{Text: msg}, Locations: at(r.FileName, line)})
		}
		for j := range r.Scoring.Advise {
			a := &r.Scoring.Advise[j]
			results = append(results, sarif.Result{RuleID: a.ID, RuleIndex: ruleIndex(a), Level: "note",
				Message:   sarif.Text{Text: fmt.Sprintf("%s: %s (%+d points)", r.Object, a.Reason, a.Points)},
				Locations: at(r.FileName, r.Line)})
		}
	}
	return sarif.Write(w, sarif.Log{
		Schema:  sarif.Schema,
		Version: sarif.Version,
		Runs:    []sarif.Run{{Tool: sarif.Tool{Driver: driver}, Results: results}},
	})
}
