package report

import (
	"bufio"
	"fmt"
	"github.com/tollgate-dev/tollgate/internal/output"
	"io"
	"path"
	"strings"
	"unicode/utf8"
)

// WriteTable writes the report as Trivy's table output: the Report
// Summary, then for each target with findings its title, the totals per
// severity and a table of Library, Vulnerability, Severity, Status,
// Installed Version, Fixed Version and Title. Untrusted text (titles,
// names, versions from the image) is escaped so it cannot drive the
// terminal; colour only with o.Color.
func WriteTable(w io.Writer, r *Report, o Options) error {
	bw := bufio.NewWriter(w)
	fmt.Fprint(bw, "\nReport Summary\n\n")
	summary := summaryBox(r)
	summary.write(bw, o)
	fmt.Fprint(bw, "Legend:\n- '-': Not scanned\n- '0': Clean (no security findings detected)\n\n")
	sevs := r.Severities
	if len(sevs) == 0 {
		sevs = Severities
	}
	for _, res := range r.Results {
		if len(res.Vulnerabilities) == 0 {
			continue
		}
		title := output.Escape(res.Target)
		if res.Class == ClassLangPkgs {
			title += " (" + output.Escape(res.Type) + ")"
		}
		fmt.Fprintln(bw)
		if o.Color {
			fmt.Fprintf(bw, "\x1b[1;4m%s\x1b[0m\n", title)
		} else {
			fmt.Fprintf(bw, "%s\n%s\n", title, strings.Repeat("=", utf8.RuneCountInString(title)))
		}
		fmt.Fprintf(bw, "Total: %s\n\n", severityTotals(sevs, len(res.Vulnerabilities), func(i int) string { return res.Vulnerabilities[i].Severity }))
		t := box{
			header: []string{"Library", "Vulnerability", "Severity", "Status", "Installed Version", "Fixed Version", "Title"},
			merge:  []bool{true, true, false, false, true, false, false},
		}
		for _, v := range res.Vulnerabilities {
			lib := v.PkgName
			if v.PkgPath != "" {
				lib += " (" + path.Base(v.PkgPath) + ")"
			}
			t.rows = append(t.rows, []string{output.Escape(lib), output.Escape(v.VulnerabilityID), v.Severity, output.Escape(v.Status), output.Escape(v.InstalledVersion), output.Escape(v.FixedVersion), titleCell(&v)})
		}
		t.severityCol = 2
		t.write(bw, o)
		if o.Explain {
			fmt.Fprintln(bw, "\nWhy:")
			for _, v := range res.Vulnerabilities {
				if e := v.Explanation; e != nil {
					fmt.Fprintf(bw, "- %s in %s %s: %s matched %s %s %s (%s; %s ordering); severity: %s\n",
						output.Escape(v.VulnerabilityID), output.Escape(v.PkgName), output.Escape(v.InstalledVersion), output.Escape(e.Record), output.Escape(e.Ecosystem), output.Escape(e.Package), output.Escape(e.Compared), output.Escape(e.Range), output.Escape(e.Ordering), output.Escape(e.Severity))
					if e.Code != "" {
						fmt.Fprintf(bw, "  packages: %s\n", output.Escape(e.Code))
					}
				}
			}
		}
	}
	writeCheckSections(bw, r, sevs)
	return bw.Flush()
}

// titleCell is the Title column: the title (or the description) cut to
// 12 words, then the primary URL on a line of its own.
func titleCell(v *Vulnerability) string {
	t := v.Title
	if t == "" {
		t = v.Description
	}
	words := strings.Fields(t)
	if len(words) > 12 {
		words = append(words[:12], "...")
	}
	t = output.Escape(strings.Join(words, " "))
	if v.PrimaryURL != "" {
		t += "\n" + output.Escape(v.PrimaryURL)
	}
	return t
}

// box renders a table with Unicode box drawing, as Trivy does: a header
// row, a line between rows, and cells equal to the one above merged in
// the columns that merge (within the same first-column value).
type box struct {
	header      []string
	rows        [][]string
	center      []bool // data cells centred (headers always are)
	merge       []bool
	severityCol int // column coloured by severity; 0 = none
}

func (b *box) write(w *bufio.Writer, o Options) {
	n := len(b.header)
	width := make([]int, n)
	for i, h := range b.header {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, row := range b.rows {
		for i, c := range row {
			for _, l := range strings.Split(c, "\n") {
				width[i] = max(width[i], utf8.RuneCountInString(l))
			}
		}
	}
	merged := make([][]bool, len(b.rows))
	for ri, row := range b.rows {
		merged[ri] = make([]bool, n)
		if ri == 0 {
			continue
		}
		prev := b.rows[ri-1]
		for ci := range row {
			if ci < len(b.merge) && b.merge[ci] && row[ci] == prev[ci] && (ci == 0 || merged[ri][0]) {
				merged[ri][ci] = true
			}
		}
	}
	line := func(left, mid, right string, blank []bool) {
		if blank != nil && blank[0] {
			left = "│"
		}
		w.WriteString(left)
		for i := range n {
			fill := "─"
			if blank != nil && blank[i] {
				fill = " "
			}
			w.WriteString(strings.Repeat(fill, width[i]+2))
			if i < n-1 {
				j := mid
				if blank != nil {
					switch {
					case blank[i] && blank[i+1]:
						j = "│"
					case blank[i]:
						j = "├"
					case blank[i+1]:
						j = "┤"
					}
				}
				w.WriteString(j)
			}
		}
		if blank != nil && blank[n-1] {
			right = "│"
		}
		w.WriteString(right + "\n")
	}
	cells := func(row []string, blank []bool, header bool) {
		lines := make([][]string, n)
		height := 1
		for i, c := range row {
			if blank != nil && blank[i] {
				c = ""
			}
			lines[i] = strings.Split(c, "\n")
			height = max(height, len(lines[i]))
		}
		for h := range height {
			w.WriteString("│")
			for i := range n {
				s := ""
				if h < len(lines[i]) {
					s = lines[i][h]
				}
				pad := width[i] - utf8.RuneCountInString(s)
				lp := 0
				if header || (i < len(b.center) && b.center[i]) {
					lp = pad / 2
				}
				text := s
				if o.Color && !header && b.severityCol > 0 && i == b.severityCol {
					text = colorSeverity(s)
				}
				w.WriteString(" " + strings.Repeat(" ", lp) + text + strings.Repeat(" ", pad-lp) + " │")
			}
			w.WriteString("\n")
		}
	}
	line("┌", "┬", "┐", nil)
	cells(b.header, nil, true)
	line("├", "┼", "┤", nil)
	for ri, row := range b.rows {
		if ri > 0 {
			line("├", "┼", "┤", merged[ri])
		}
		cells(row, merged[ri], false)
	}
	line("└", "┴", "┘", nil)
}

func colorSeverity(s string) string {
	code := ""
	switch s {
	case "CRITICAL":
		code = "1;31"
	case "HIGH":
		code = "31"
	case "MEDIUM":
		code = "33"
	case "LOW":
		code = "34"
	default:
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
