// Package shell turns the shell text of a Dockerfile RUN (or SHELL)
// instruction into the commands it runs, as a linter needs to see them.
//
// The text is parsed as bash with mvdan.cc/sh. Every simple command found
// anywhere in the script (in && and || lists, pipelines, subshells, loops,
// command substitutions) becomes a [Command]: its name as written, its
// arguments with quoting removed and expansions reduced to placeholders, and
// the flags those arguments spell. The reduction follows the convention
// hadolint's rules are written against, so that rule semantics carry over:
//
//   - quotes and backslash escapes are removed: "a b" and a\ b both give "a b";
//   - $x and ${x} (whatever the operator) become ${x};
//   - $(cmd args) becomes ${cmd args};
//   - backquotes and $((...)) become ${VAR}.
package shell

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Command is one simple command of a script.
type Command struct {
	// Name is the command word as written ("sudo" for "sudo apt-get"), with
	// quotes removed. The wrappers busybox, builtin, command and exec are
	// looked through: "exec apt-get" has the name "apt-get".
	Name string
	// Args are the words after the command word, simplified.
	Args []string
	// Reached is set for a command the script does not write itself but
	// runs through another one: the command of a wrapper (apt-get of
	// "sudo apt-get"), or of a shell's -c or here-document script.
	Reached bool
	// flags[i] lists the flag names Args[i] spells; nil for a word that is
	// not a flag.
	flags [][]string
}

// Written counts the commands the script writes itself (not Reached).
func (s *Script) Written() int {
	n := 0
	for i := range s.Commands {
		if !s.Commands[i].Reached {
			n++
		}
	}
	return n
}

// Script is the result of parsing a shell text.
type Script struct {
	// Text is the text that was parsed.
	Text string
	// Commands lists the simple commands in source order; a command inside
	// a command substitution follows the command that contains it.
	Commands []Command
	// HasPipe reports whether the script pipes one command into another.
	HasPipe bool
	// Err is the parse error, if the text is not valid shell. Commands then
	// holds what could be recovered before the error.
	Err error
}

// Parser parses shell texts. It is not safe for concurrent use; make one
// per goroutine.
type Parser struct {
	p *syntax.Parser
}

// NewParser returns a parser for bash scripts.
func NewParser() *Parser {
	return &Parser{p: syntax.NewParser(syntax.Variant(syntax.LangBash), syntax.KeepComments(false))}
}

// Parse parses text and collects its commands. It never fails: a text that
// does not parse gives a Script with Err set and the commands parsed before
// the error.
func (p *Parser) Parse(text string) *Script {
	s := &Script{Text: text}
	s.Err = p.collect(s, text, 0)
	return s
}

// collect parses text and appends its commands to s, following scripts
// inside scripts (see nested.go) depth levels down.
func (p *Parser) collect(s *Script, text string, depth int) (err error) {
	f, err := p.p.Parse(strings.NewReader(text), "")
	if f == nil {
		return err
	}
	defer func() {
		// A partial tree from a failed parse may hold nodes the walker
		// does not expect; losing the rest of the commands is better than
		// crashing the linter.
		if r := recover(); r != nil && err == nil {
			panic(r)
		}
	}()
	for _, st := range f.Stmts {
		if st == nil {
			continue
		}
		syntax.Walk(st, func(n syntax.Node) bool {
			switch n := n.(type) {
			case *syntax.Stmt:
				call, ok := n.Cmd.(*syntax.CallExpr)
				if !ok || call == nil {
					break
				}
				c, ok := callCommand(call)
				if !ok {
					break
				}
				s.Commands = append(s.Commands, c)
				if depth < maxNesting {
					reached(s, c, n, text, depth)
				}
			case *syntax.DeclClause:
				if n.Variant != nil {
					s.Commands = append(s.Commands, declCommand(n))
				}
			case *syntax.LetClause:
				s.Commands = append(s.Commands, Command{Name: "let"})
			case *syntax.BinaryCmd:
				if n.Op == syntax.Pipe || n.Op == syntax.PipeAll {
					s.HasPipe = true
				}
			}
			return true
		})
	}
	return err
}

// reached appends the commands c reaches: through wrappers (sudo, env,
// nice…), and the scripts of shells (-c, or a here-document on standard
// input), each right after c. A script is parsed by a parser of its own
// (the current one is still walking its tree).
func reached(s *Script, c Command, st *syntax.Stmt, src string, depth int) {
	for range maxNesting {
		inner, ok := unwrapped(c)
		if !ok {
			break
		}
		inner.Reached = true
		s.Commands = append(s.Commands, inner)
		c = inner
	}
	var scripts []string
	if script, ok := shellScript(c); ok {
		scripts = append(scripts, script)
	} else if readsStdinScript(c) {
		scripts = append(scripts, heredocScripts(st, src)...)
	}
	for _, script := range scripts {
		n := len(s.Commands)
		_ = NewParser().collect(s, script, depth+1) // a broken inner script: what parsed counts
		for i := n; i < len(s.Commands); i++ {
			s.Commands[i].Reached = true
		}
	}
}

// callCommand builds the command of a call with at least one word. A call
// whose command word is not a plain literal ($CMD args) has no name and is
// left out, as hadolint does.
func callCommand(call *syntax.CallExpr) (Command, bool) {
	if len(call.Args) == 0 || call.Args[0] == nil {
		return Command{}, false
	}
	name, ok := literal(call.Args[0])
	if !ok {
		return Command{}, false
	}
	if eff, found := effectiveName(name, call.Args[1:]); found {
		name, ok = literal(eff)
		if !ok {
			return Command{}, false
		}
	}
	args := make([]string, 0, len(call.Args)-1)
	for _, w := range call.Args[1:] {
		args = append(args, simplifyWord(w))
	}
	return newCommand(name, args), true
}

// effectiveName returns the word that names the command actually run by a
// wrapper such as "exec cmd" or "busybox cmd".
func effectiveName(name string, rest []*syntax.Word) (*syntax.Word, bool) {
	switch name {
	case "busybox", "builtin", "command", "run":
		if len(rest) == 0 || rest[0] == nil || isFlagWord(rest[0]) {
			return nil, false
		}
		return rest[0], true
	case "exec":
		for i := 0; i < len(rest); i++ {
			if rest[i] == nil {
				return nil, false
			}
			lit, _ := literal(rest[i])
			if lit == "-a" {
				i++
				continue
			}
			if strings.HasPrefix(lit, "-") {
				continue
			}
			return rest[i], true
		}
	}
	return nil, false
}

func isFlagWord(w *syntax.Word) bool {
	s, _ := literal(w)
	return strings.HasPrefix(s, "-")
}

func declCommand(d *syntax.DeclClause) Command {
	args := make([]string, 0, len(d.Args))
	for _, a := range d.Args {
		if a == nil {
			continue
		}
		switch {
		case a.Naked && a.Name != nil:
			args = append(args, a.Name.Value)
		case a.Naked && a.Value != nil:
			args = append(args, simplifyWord(a.Value))
		case a.Name != nil:
			v := ""
			if a.Value != nil {
				v = simplifyWord(a.Value)
			}
			args = append(args, a.Name.Value+"="+v)
		}
	}
	return newCommand(d.Variant.Value, args)
}

func newCommand(name string, args []string) Command {
	c := Command{Name: name, Args: args}
	for i, a := range args {
		f := flagNames(a)
		if f == nil {
			continue
		}
		if c.flags == nil {
			c.flags = make([][]string, len(args))
		}
		c.flags[i] = f
	}
	return c
}

// flagNames returns the flags an argument spells: "--name=value" gives
// "name", "-abc" gives "a", "b" and "c"; "-" and "--" are not flags.
func flagNames(arg string) []string {
	switch {
	case arg == "-" || arg == "--":
		return nil
	case strings.HasPrefix(arg, "--"):
		name, _, _ := strings.Cut(arg[2:], "=")
		return []string{name}
	case strings.HasPrefix(arg, "-"):
		rest := arg[1:]
		out := make([]string, 0, len(rest))
		for _, r := range rest {
			out = append(out, string(r))
		}
		return out
	}
	return nil
}

// literal returns the text of a word made only of literal parts and quotes.
func literal(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			b.WriteString(unescape(p.Value, false))
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				lit, ok := q.(*syntax.Lit)
				if !ok {
					return "", false
				}
				b.WriteString(unescape(lit.Value, true))
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}

// simplifyWord renders a word the way rules compare arguments.
func simplifyWord(w *syntax.Word) string {
	if w == nil {
		return ""
	}
	var b strings.Builder
	writeParts(&b, w.Parts, false)
	return b.String()
}

func writeParts(b *strings.Builder, parts []syntax.WordPart, quoted bool) {
	for _, part := range parts {
		switch p := part.(type) {
		case *syntax.Lit:
			b.WriteString(unescape(p.Value, quoted))
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			writeParts(b, p.Parts, true)
		case *syntax.ParamExp:
			b.WriteString("${")
			if p.Param != nil {
				b.WriteString(p.Param.Value)
			}
			b.WriteString("}")
		case *syntax.CmdSubst:
			if p.Backquotes {
				b.WriteString("${VAR}")
				continue
			}
			b.WriteString("${")
			first := true
			for _, st := range p.Stmts {
				if st == nil {
					continue
				}
				call, ok := st.Cmd.(*syntax.CallExpr)
				if !ok {
					continue
				}
				for _, w := range call.Args {
					if !first {
						b.WriteByte(' ')
					}
					first = false
					b.WriteString(simplifyWord(w))
				}
			}
			b.WriteString("}")
		case *syntax.ArithmExp:
			b.WriteString("${VAR}")
		case *syntax.ExtGlob:
			b.WriteString(p.Op.String())
			if p.Pattern != nil {
				b.WriteString(p.Pattern.Value)
			}
			b.WriteString(")")
		}
	}
}

// unescape removes shell backslash escapes from a literal. Outside quotes a
// backslash escapes any character; inside double quotes only $ ` " \ and a
// newline.
func unescape(s string, inDouble bool) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		next := s[i+1]
		switch {
		case next == '\n':
			i++
		case !inDouble || strings.IndexByte("$`\"\\", next) >= 0:
			b.WriteByte(next)
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
