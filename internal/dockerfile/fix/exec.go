package fix

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
)

// fixExecForm writes shell-form CMD and ENTRYPOINT in exec form when the
// command is one plain command without shell syntax (DL3025): no
// variables, globs, redirections, operators or assignments, which only a
// shell would give meaning to.
func fixExecForm(x *run, d *doc) []edit {
	if d.nonPOSIX() {
		return nil
	}
	found := x.findings(d)
	var edits []edit
	for _, in := range d.file.Instructions {
		if !slices.ContainsFunc(found[in.Line], func(f dockerfile.Finding) bool { return f.Rule == "DL3025" }) {
			continue
		}
		if (in.Kind != dockerfile.KindCmd && in.Kind != dockerfile.KindEntrypoint) || in.JSON || len(in.Heredocs) > 0 {
			continue
		}
		words, ok := plainCommand(in.Text())
		if !ok {
			continue
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if enc.Encode(words) != nil {
			continue
		}
		arr := strings.ReplaceAll(strings.TrimSpace(b.String()), `","`, `", "`)
		s, e := d.span(in)
		line := d.line(in.Line)
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		text := indent + in.Keyword + " " + arr + d.nl
		if e == len(d.src) && !bytes.HasSuffix(d.src, []byte("\n")) {
			text = strings.TrimSuffix(text, d.nl)
		}
		// The exec form must give the same words to the builder.
		f, err := x.parser.Parse("fix", []byte("FROM scratch\n"+text))
		if err != nil || len(f.Instructions) != 2 || !f.Instructions[1].JSON || strings.Join(f.Instructions[1].Args, "\x00") != strings.Join(words, "\x00") {
			continue
		}
		edits = append(edits, edit{start: s, end: e, text: text})
		x.apply("DL3025", "%s in exec form: %s", strings.ToUpper(in.Keyword), arr)
	}
	return edits
}

// plainCommand splits a shell command into its words when it is a single
// simple command whose words are literal text.
func plainCommand(text string) ([]string, bool) {
	p := syntax.NewParser(syntax.Variant(syntax.LangBash), syntax.KeepComments(true))
	f, err := p.Parse(strings.NewReader(text), "")
	if err != nil || len(f.Stmts) != 1 || len(f.Last) > 0 {
		return nil, false
	}
	st := f.Stmts[0]
	ce, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || st.Background || st.Negated || st.Coprocess || len(st.Redirs) > 0 || len(st.Comments) > 0 || len(ce.Assigns) > 0 || len(ce.Args) == 0 {
		return nil, false
	}
	var words []string
	for _, w := range ce.Args {
		for _, part := range w.Parts {
			switch part := part.(type) {
			case *syntax.Lit:
				if strings.ContainsAny(part.Value, "*?[]{}~\\") {
					return nil, false
				}
			case *syntax.SglQuoted:
				if part.Dollar {
					return nil, false
				}
			case *syntax.DblQuoted:
				for _, q := range part.Parts {
					if l, ok := q.(*syntax.Lit); !ok || strings.Contains(l.Value, "\\") {
						return nil, false
					}
				}
			default:
				return nil, false
			}
		}
		words = append(words, litWord(w))
	}
	// Shell keywords and builtins need the shell.
	switch words[0] {
	case "exec", "cd", "export", "source", ".", "set", "eval", "trap", "ulimit", "umask":
		return nil, false
	}
	return words, true
}
