package fix

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
)

// fixExecForm writes shell-form CMD, ENTRYPOINT and HEALTHCHECK CMD in
// exec form when the command is one plain command without shell syntax
// (DL3025): no variables, globs, redirections, operators or assignments,
// which only a shell would give meaning to. Only the command text is
// replaced; keyword, flags and line breaks before it stay.
func fixExecForm(x *run, d *doc) []edit {
	if d.nonPOSIX() {
		return nil
	}
	found := x.findings(d)
	var edits []edit
	for i, in := range d.file.Instructions {
		if !slices.ContainsFunc(found[in.Line], func(f dockerfile.Finding) bool { return f.Rule == "DL3025" }) ||
			in.JSON || len(in.Heredocs) > 0 {
			continue
		}
		var text string
		switch {
		case in.Kind == dockerfile.KindCmd:
			text = in.Text()
		case in.Kind == dockerfile.KindEntrypoint:
			// A shell-form ENTRYPOINT ignores CMD; in exec form CMD's
			// words would become its arguments.
			if stageHasCmd(d.file, i) {
				continue
			}
			text = in.Text()
		case in.Kind == dockerfile.KindHealthcheck && len(in.Args) == 2 && strings.EqualFold(in.Args[0], "CMD"):
			text = in.Args[1]
		default:
			continue
		}
		words, ok := plainCommand(text)
		if !ok {
			continue
		}
		b, ok := d.bodyOf(in, text)
		if !ok {
			continue
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if enc.Encode(words) != nil {
			continue
		}
		arr := strings.ReplaceAll(strings.TrimSpace(buf.String()), `","`, `", "`)
		s, e := d.span(in)
		inner := edit{start: b.start - s, end: b.srcOff(len(b.text)) - s, text: arr}
		newText := string(apply(d.src[s:e], []edit{inner}))
		// The exec form must give the same words to the builder.
		f, err := x.parser.Parse("fix", []byte("FROM scratch"+d.nl+newText))
		if err != nil || len(f.Instructions) != 2 || !f.Instructions[1].JSON {
			continue
		}
		got := f.Instructions[1].Args
		if in.Kind == dockerfile.KindHealthcheck && len(got) > 0 {
			got = got[1:]
		}
		if !slices.Equal(got, words) {
			continue
		}
		edits = append(edits, edit{start: s, end: e, text: newText})
		x.apply("DL3025", "%s in exec form: %s", strings.ToUpper(in.Keyword), arr)
	}
	return edits
}

// stageHasCmd reports a CMD in the stage of instruction idx.
func stageHasCmd(f *dockerfile.File, idx int) bool {
	from := idx
	for from > 0 && f.Instructions[from].Kind != dockerfile.KindFrom {
		from--
	}
	for i := from + 1; i < stageEnd(f, from); i++ {
		if f.Instructions[i].Kind == dockerfile.KindCmd {
			return true
		}
	}
	return false
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
