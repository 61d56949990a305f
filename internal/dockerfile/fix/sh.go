package fix

import (
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tollgate-dev/tollgate/internal/dockerfile/shell"
)

// script is a RUN body parsed for editing: unlike the linter's view
// (internal/dockerfile/shell) it keeps positions.
type script struct {
	file *syntax.File
	// calls are the simple commands in source order, wrappers included.
	calls []call
}

// call is one simple command with the literal value of each word ("" for
// a word that is not a plain literal) and its offsets in the text.
type call struct {
	expr       *syntax.CallExpr
	words      []string
	start, end []int
}

func (c *call) name() string {
	if len(c.words) == 0 {
		return ""
	}
	n := c.words[0]
	if i := strings.LastIndex(n, "/"); i >= 0 {
		n = n[i+1:]
	}
	return n
}

// unwrapped is the command a wrapper such as sudo, env or xargs runs (see
// shell.WrappedIndex), as a view into c that keeps its offsets, so an edit
// lands in the wrapped command; c itself when it wraps nothing.
func (c call) unwrapped() call {
	for depth := 0; depth < 4 && len(c.words) > 0; depth++ {
		i, ok := shell.WrappedIndex(c.words[0], c.words[1:])
		if !ok {
			break
		}
		i++ // past the wrapper's own name
		c = call{expr: c.expr, words: c.words[i:], start: c.start[i:], end: c.end[i:]}
	}
	return c
}

// arg reports the index of the first word after the command name equal to
// one of values, or -1.
func (c *call) arg(values ...string) int {
	for i := 1; i < len(c.words); i++ {
		if slices.Contains(values, c.words[i]) {
			return i
		}
	}
	return -1
}

func parseScript(text string) (*script, bool) {
	p := syntax.NewParser(syntax.Variant(syntax.LangBash), syntax.KeepComments(true))
	f, err := p.Parse(strings.NewReader(text), "")
	if err != nil {
		return nil, false
	}
	s := &script{file: f}
	syntax.Walk(f, func(n syntax.Node) bool {
		ce, ok := n.(*syntax.CallExpr)
		if !ok || len(ce.Args) == 0 {
			return true
		}
		c := call{expr: ce}
		for _, w := range ce.Args {
			c.words = append(c.words, litWord(w))
			c.start = append(c.start, int(w.Pos().Offset()))
			c.end = append(c.end, int(w.End().Offset()))
		}
		s.calls = append(s.calls, c)
		return true
	})
	return s, true
}

// litWord is the value of a word made of literals and quoted literals only.
func litWord(w *syntax.Word) string {
	var b strings.Builder
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			b.WriteString(strings.ReplaceAll(p.Value, "\\", ""))
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				l, ok := q.(*syntax.Lit)
				if !ok {
					return ""
				}
				b.WriteString(l.Value)
			}
		default:
			return ""
		}
	}
	return b.String()
}

// andChain returns the commands of a script that is one && list of simple
// commands (no ;, ||, pipes, background, compound commands or comments),
// in order; ok is false for anything else.
func (s *script) andChain() ([]*syntax.Stmt, bool) {
	if len(s.file.Stmts) != 1 || len(s.file.Last) > 0 {
		return nil, false
	}
	var out []*syntax.Stmt
	var walk func(st *syntax.Stmt) bool
	walk = func(st *syntax.Stmt) bool {
		if st.Background || st.Coprocess || st.Negated || len(st.Comments) > 0 {
			return false
		}
		switch c := st.Cmd.(type) {
		case *syntax.CallExpr:
			if len(c.Args) == 0 {
				return false
			}
			out = append(out, st)
			return true
		case *syntax.BinaryCmd:
			return c.Op == syntax.AndStmt && walk(c.X) && walk(c.Y)
		}
		return false
	}
	if !walk(s.file.Stmts[0]) {
		return nil, false
	}
	return out, true
}

// statefulCommands change the shell itself for the commands after them.
func statefulCommands() []string {
	return []string{"cd", "pushd", "popd", "export", "unset", "set", "shopt", "umask", "alias", "unalias",
		"source", ".", "trap", "exec", "exit", "return", "ulimit", "readonly", "declare", "typeset",
		"local", "eval", "hash", "enable", "shift", "builtin", "wait"}
}

// stateful reports whether a script changes shell state (directory,
// variables, options, functions) that commands joined after it would see,
// or ends the shell.
func (s *script) stateful() bool {
	found := false
	syntax.Walk(s.file, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.CallExpr:
			if len(n.Args) == 0 && len(n.Assigns) > 0 {
				found = true
			}
		case *syntax.DeclClause, *syntax.FuncDecl, *syntax.LetClause:
			found = true
		}
		return !found
	})
	for _, c := range s.calls {
		if slices.Contains(statefulCommands(), c.words[0]) {
			found = true
		}
	}
	return found
}
