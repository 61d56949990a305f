package dockerfile

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteRules lists the rules as a table, JSON or Markdown.
func WriteRules(w io.Writer, format string) error {
	rules := Rules()
	switch format {
	case "", "table":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSEVERITY\tONBUILD\tFIX\tMESSAGE")
		for _, r := range rules {
			onbuild, fixable := "", ""
			if r.OnBuild {
				onbuild = "yes"
			}
			if r.Fixable {
				fixable = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, onbuild, fixable, r.Message)
		}
		return tw.Flush()
	case "json":
		type jsonRule struct {
			ID       string `json:"id"`
			Severity string `json:"severity"`
			OnBuild  bool   `json:"onbuild"`
			Fixable  bool   `json:"fixable"`
			Message  string `json:"message"`
			Explain  string `json:"explain"`
			Fix      string `json:"fix"`
		}
		list := make([]jsonRule, 0, len(rules))
		for _, r := range rules {
			list = append(list, jsonRule{r.ID, r.Severity.String(), r.OnBuild, r.Fixable, r.Message, r.Explain, r.Fix})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	case "markdown":
		return WriteRulesMarkdown(w)
	}
	return fmt.Errorf("unknown format %q (want table, json or markdown)", format)
}

// WriteRulesMarkdown writes the rule reference as Markdown: a table of every
// rule, then a section per rule with its message, why it matters and how to
// fix it.
func WriteRulesMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| ID | default severity | inside ONBUILD | message |\n|---|---|---|---|\n")
	rules := Rules()
	for _, r := range rules {
		onbuild := ""
		if r.OnBuild {
			onbuild = "yes"
		}
		extra := ""
		switch r.needs {
		case needTrustedRegistries:
			extra = " (only with trusted registries)"
		case needLabelSchema:
			extra = " (only with a label schema)"
		case needStrictLabels:
			extra = " (only with a label schema and strict labels)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s%s |\n", r.ID, r.Severity, onbuild, mdEscape(r.Message), extra)
	}
	b.WriteString("\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "### %s\n\n%s\n\n*Why:* %s\n\n*Fix:* %s\n\n", r.ID, mdEscape(r.Message), mdEscape(r.Explain), mdEscape(r.Fix))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
