package imagecheck

import (
	"fmt"
	"io"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/secret"
)

// WriteMarkdown writes the reference of the image checks and the secret
// rules as Markdown: a table of the checks, a section per check (what it
// looks at, why it matters, how to fix it, how it differs from dockle),
// then the secret rules and the built-in allow rules.
func WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("## Checks\n\n| ID | default severity | looks at | finds |\n|---|---|---|---|\n")
	rules := Rules()
	for _, r := range rules {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.ID, r.Severity, md(r.Looks), md(r.Title))
	}
	b.WriteString("\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "### %s\n\n%s (%s; reads %s).\n\n*Why:* %s\n\n*Fix:* %s\n\n", r.ID, md(r.Title), r.Severity, md(r.Looks), md(r.Description), md(r.Resolution))
		if r.Dockle != "" {
			fmt.Fprintf(&b, "*Compared with dockle:* %s\n\n", md(r.Dockle))
		}
	}
	b.WriteString("## Secret rules\n\nCIS-DI-0010 and `--scanners secret` use these rules. A rule runs on a file only when the file " +
		"contains one of its keywords (compared without case); its regular expression then finds the value, which every " +
		"output shows as asterisks.\n\n| ID | category | severity | title | keywords | only in files |\n|---|---|---|---|---|---|\n")
	for _, r := range secret.BuiltinRules() {
		path := ""
		if r.Path != nil {
			path = "`" + r.Path.String() + "`"
		}
		kw := make([]string, len(r.Keywords))
		for i, k := range r.Keywords {
			kw[i] = "`" + k + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.ID, r.Category, r.Severity, md(r.Title), md(strings.Join(kw, " ")), md(path))
	}
	b.WriteString("\n")
	for _, r := range secret.BuiltinRules() {
		fmt.Fprintf(&b, "### %s\n\n%s.\n\n*Why:* %s\n\n*Fix:* %s\n\n", r.ID, md(r.Title), md(r.Why), md(r.Fix))
		for _, a := range r.AllowRules {
			fmt.Fprintf(&b, "*Allowed:* %s (`%s`).\n\n", md(a.Description), a.ID)
		}
	}
	b.WriteString("### Built-in allow rules\n\nThese exempt every rule's matches; `disable-allow-rules` in a secret config switches them off by ID.\n\n| ID | exempts |\n|---|---|\n")
	for _, a := range secret.BuiltinAllowRules() {
		fmt.Fprintf(&b, "| %s | %s |\n", a.ID, md(a.Description))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func md(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
