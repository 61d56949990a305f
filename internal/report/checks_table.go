package report

import (
	"bufio"
	"fmt"
	"github.com/tollgate-dev/tollgate/internal/output"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/internal/secret"
)

// summaryBox is the Report Summary: a column per scanner that ran, "-"
// where a target is not of that scanner's kind.
func summaryBox(r *Report) box {
	scanners := r.Scanners
	if len(scanners) == 0 {
		scanners = []string{"vuln"}
	}
	cols := []struct {
		scanner, header string
		classes         []string
		count           func(*Result) int
	}{
		{"vuln", "Vulnerabilities", []string{ClassOSPkgs, ClassLangPkgs}, func(res *Result) int { return len(res.Vulnerabilities) }},
		{"secret", "Secrets", []string{ClassSecret}, func(res *Result) int { return len(res.Secrets) }},
		{"misconfig", "Misconfigurations", []string{ClassConfig}, func(res *Result) int { return len(res.Misconfigurations) }},
	}
	b := box{header: []string{"Target", "Type"}, center: []bool{false, false}}
	for _, c := range cols {
		if slices.Contains(scanners, c.scanner) {
			b.header = append(b.header, c.header)
			b.center = append(b.center, true)
		}
	}
	for i := range r.Results {
		res := &r.Results[i]
		typ := res.Type
		if res.Class == ClassSecret {
			typ = "text"
		}
		row := []string{output.Escape(res.Target), output.Escape(typ)}
		for _, c := range cols {
			if !slices.Contains(scanners, c.scanner) {
				continue
			}
			cell := "-"
			if slices.Contains(c.classes, res.Class) {
				cell = strconv.Itoa(c.count(res))
			}
			row = append(row, cell)
		}
		b.rows = append(b.rows, row)
	}
	if len(b.rows) == 0 {
		row := make([]string, len(b.header))
		for i := range row {
			row[i] = "-"
		}
		b.rows = append(b.rows, row)
	}
	return b
}

const (
	heavyRule = "════════════════════════════════════════"
	lightRule = "────────────────────────────────────────"
)

// writeCheckSections writes, as Trivy does, a section per result with
// secrets (each secret: severity, rule, title, file and line with the
// layer that added it, the masked lines) and per result with failed
// checks (each: ID, severity, title, message, layer and path).
func writeCheckSections(w *bufio.Writer, r *Report, sevs []string) {
	for _, res := range r.Results {
		switch {
		case len(res.Secrets) > 0:
			title := output.Escape(res.Target) + " (secrets)"
			fmt.Fprintf(w, "\n%s\n%s\n", title, strings.Repeat("=", utf8.RuneCountInString(title)))
			fmt.Fprintf(w, "Total: %s\n", severityTotals(sevs, len(res.Secrets), func(i int) string { return res.Secrets[i].Severity }))
			for _, s := range res.Secrets {
				fmt.Fprintf(w, "\n%s: %s (%s)\n%s\n%s\n%s\n", s.Severity, output.Escape(s.Category), output.Escape(s.RuleID), heavyRule, output.Escape(s.Title), lightRule)
				fmt.Fprintf(w, " %s:%d%s\n%s\n", output.Escape(s.Path), s.StartLine, layerNote(s.Layer, s.DeletedIn), lightRule)
				for _, l := range s.Code.Lines {
					mark := " "
					if l.IsCause {
						mark = "["
					}
					fmt.Fprintf(w, "%4d %s %s\n", l.Number, mark, output.Escape(l.Content))
				}
				fmt.Fprintln(w, lightRule)
			}
		case len(res.Misconfigurations) > 0 || res.MisconfSummary != nil:
			title := output.Escape(res.Target) + " (" + output.Escape(res.Type) + ")"
			fmt.Fprintf(w, "\n%s\n%s\n", title, strings.Repeat("=", utf8.RuneCountInString(title)))
			if sm := res.MisconfSummary; sm != nil {
				fmt.Fprintf(w, "Tests: %d (SUCCESSES: %d, FAILURES: %d)\n", sm.Successes+sm.Failures, sm.Successes, sm.Failures)
			}
			fmt.Fprintf(w, "Failures: %s\n", severityTotals(sevs, len(res.Misconfigurations), func(i int) string { return res.Misconfigurations[i].Severity }))
			for _, m := range res.Misconfigurations {
				fmt.Fprintf(w, "\n%s (%s): %s\n%s\n%s\n", output.Escape(m.ID), m.Severity, output.Escape(m.Title), heavyRule, output.Escape(m.Message))
				where := output.Escape(m.Path)
				if where == "" {
					where = "image config"
				}
				fmt.Fprintf(w, "%s\n %s%s\n%s\n", lightRule, where, layerNote(m.Layer, m.DeletedIn), lightRule)
			}
		}
	}
}

// severityTotals is "N (UNKNOWN: a, LOW: b, …)" over the severities shown.
func severityTotals(sevs []string, n int, sev func(int) string) string {
	counts := map[string]int{}
	for i := range n {
		counts[sev(i)]++
	}
	parts := make([]string, 0, len(sevs))
	total := 0
	for _, s := range sevs {
		total += counts[s]
		parts = append(parts, fmt.Sprintf("%s: %d", s, counts[s]))
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}

// layerNote says which layer added a finding and which deleted it.
func layerNote(added, deleted *secret.Layer) string {
	s := ""
	if added != nil {
		s = " (added by '" + output.Escape(layerText(added)) + "')"
	}
	if deleted != nil {
		s += " (deleted by '" + output.Escape(layerText(deleted)) + "', still in the earlier layer)"
	}
	return s
}

func layerText(l *secret.Layer) string {
	if l.CreatedBy != "" {
		return l.CreatedBy
	}
	return l.Digest
}
