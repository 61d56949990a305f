package dockerfile

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tollgate-dev/tollgate/internal/output"
)

// ruleFormats is the one registry of the formats of `dockerfile rules`.
var ruleFormats = output.NewRegistry("dockerfile rules",
	output.Format[output.Writer[[]*Rule]]{Name: "table", Writer: writeRulesTable},
	output.Format[output.Writer[[]*Rule]]{Name: "json", Writer: writeRulesJSON},
	output.Format[output.Writer[[]*Rule]]{Name: "markdown", Writer: writeRulesMarkdown},
)

// RuleFormats lists the formats of WriteRules.
func RuleFormats() []string { return ruleFormats.Names() }

// WriteRules lists the rules as a table, JSON or Markdown ("" is table);
// an unknown format is a usage error.
func WriteRules(w io.Writer, format string) error {
	if format == "" {
		format = "table"
	}
	_, write, err := ruleFormats.Lookup(format)
	if err != nil {
		return err
	}
	return write(w, Rules())
}

func writeRulesTable(w io.Writer, rules []*Rule) error {
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
}

func writeRulesJSON(w io.Writer, rules []*Rule) error {
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
}

// WriteRulesMarkdown writes the rule reference as Markdown: a table of every
// rule, then a section per rule with its message, why it matters and how to
// fix it.
func WriteRulesMarkdown(w io.Writer) error { return writeRulesMarkdown(w, Rules()) }

func writeRulesMarkdown(w io.Writer, rules []*Rule) error {
	var b strings.Builder
	b.WriteString("| ID | default severity | inside ONBUILD | message |\n|---|---|---|---|\n")
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
