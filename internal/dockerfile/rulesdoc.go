package dockerfile

import (
	"fmt"
	"io"
	"strings"
)

// WriteRulesMarkdown writes the rule reference as Markdown: a table of every
// rule, then what each tollgate rule checks, why and how to fix it.
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
