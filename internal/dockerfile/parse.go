package dockerfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/tollgate-dev/tollgate/internal/dockerfile/shell"
)

// File is a parsed Dockerfile.
type File struct {
	// Name is the file name used in reports.
	Name string
	// Instructions in source order.
	Instructions []*Instruction
	// Comments are the comment lines that stand between instructions
	// (comments inside an instruction's continuation lines are not kept).
	Comments []Comment
	// Lines is the number of lines of the source.
	Lines int
}

// Comment is a comment line.
type Comment struct {
	Line int
	// Text is the comment without the leading '#', trimmed.
	Text string
}

// ParseError is a Dockerfile that does not parse. Line is 1-based.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Parser parses Dockerfiles. It keeps a shell parser for RUN bodies and is
// not safe for concurrent use.
type Parser struct {
	sh *shell.Parser
}

// NewParser returns a Dockerfile parser.
func NewParser() *Parser {
	return &Parser{sh: shell.NewParser()}
}

// Parse parses a Dockerfile with a fresh parser. See [Parser.Parse].
func Parse(name string, src []byte) (*File, error) {
	return NewParser().Parse(name, src)
}

// Parse parses src, reporting errors under name. Instructions come from
// BuildKit's parser (the one docker build uses); comment lines are read from
// the raw text, since BuildKit drops them; RUN bodies are parsed as shell.
// An error is a *ParseError.
func (p *Parser) Parse(name string, src []byte) (*File, error) {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	f := &File{Name: name, Lines: bytes.Count(src, []byte("\n"))}
	if len(src) > 0 && src[len(src)-1] != '\n' {
		f.Lines++
	}
	if onlyCommentsOrBlank(src) {
		// BuildKit refuses a file without instructions; for a linter it
		// is simply a file with nothing to check.
		f.Comments = collectComments(src, nil)
		return f, nil
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		pe := parseError(name, err)
		if strings.Contains(pe.Msg, "max allowed size") {
			// BuildKit reports the line it had reached, not the long one.
			eachLine(src, func(n int, l []byte) bool {
				if len(l) >= bufio.MaxScanTokenSize-1 {
					pe.Line = n
					return false
				}
				return true
			})
		}
		return nil, pe
	}
	for _, node := range res.AST.Children {
		in, err := convertNode(node)
		if err != nil {
			return nil, &ParseError{File: name, Line: max(node.StartLine, 1), Msg: err.Error()}
		}
		f.Instructions = append(f.Instructions, in)
	}
	f.Comments = collectComments(src, f.Instructions)
	p.parseShells(f)
	return f, nil
}

func parseError(name string, err error) *ParseError {
	line := 1
	if le, ok := errors.AsType[*parser.LocationError](err); ok {
		if len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
			line = max(le.Locations[0][0].Start.Line, 1)
		}
		if le.Unwrap() != nil {
			err = le.Unwrap()
		}
	}
	return &ParseError{File: name, Line: line, Msg: err.Error()}
}

// eachLine calls f with every line of src (1-based number, without the
// line ending) until f returns false.
func eachLine(src []byte, f func(n int, line []byte) bool) {
	for n := 1; len(src) > 0; n++ {
		i := bytes.IndexByte(src, '\n')
		line := src
		if i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		if !f(n, bytes.TrimSuffix(line, []byte("\r"))) {
			return
		}
	}
}

func commentText(l []byte) ([]byte, bool) {
	t := bytes.TrimLeft(l, " \t\v\f\r")
	if len(t) == 0 || t[0] != '#' {
		return nil, false
	}
	return t[1:], true
}

func onlyCommentsOrBlank(src []byte) bool {
	only := true
	eachLine(src, func(_ int, l []byte) bool {
		if _, ok := commentText(l); !ok && len(bytes.TrimSpace(l)) > 0 {
			only = false
		}
		return only
	})
	return only
}

// collectComments returns the comment lines outside every instruction.
func collectComments(src []byte, ins []*Instruction) []Comment {
	var out []Comment
	next := 0 // index of the first instruction that may contain the line
	eachLine(src, func(n int, l []byte) bool {
		text, ok := commentText(l)
		if !ok {
			return true
		}
		for next < len(ins) && ins[next].EndLine < n {
			next++
		}
		if next < len(ins) && ins[next].Line <= n {
			return true // inside an instruction (continuation or heredoc)
		}
		out = append(out, Comment{Line: n, Text: string(bytes.TrimSpace(text))})
		return true
	})
	return out
}

func nodeArgs(n *parser.Node) []string {
	var out []string
	for a := n.Next; a != nil; a = a.Next {
		out = append(out, a.Value)
	}
	return out
}

func convertNode(node *parser.Node) (*Instruction, error) {
	in, err := convert(node)
	if err != nil {
		return nil, err
	}
	in.Line, in.EndLine = node.StartLine, node.EndLine
	for _, h := range node.Heredocs {
		in.Heredocs = append(in.Heredocs, Heredoc{Name: h.Name, Content: h.Content})
	}
	if in.Inner != nil {
		in.Inner.Line, in.Inner.EndLine = in.Line, in.EndLine
		in.Inner.Heredocs = in.Heredocs
	}
	return in, nil
}

func convert(node *parser.Node) (*Instruction, error) {
	kind, ok := kindByKeyword[strings.ToLower(node.Value)]
	if !ok {
		return nil, fmt.Errorf("unknown instruction: %s", node.Value)
	}
	in := &Instruction{
		Kind:     kind,
		Keyword:  node.Value,
		Original: node.Original,
		Flags:    node.Flags,
		JSON:     node.Attributes["json"],
	}
	if kind == KindOnbuild {
		if node.Next == nil || len(node.Next.Children) == 0 {
			return nil, errors.New("ONBUILD needs an instruction to run")
		}
		inner, err := convert(node.Next.Children[0])
		if err != nil {
			return nil, err
		}
		in.Inner = inner
		in.Args = []string{inner.Original}
		return in, nil
	}
	in.Args = nodeArgs(node)
	switch kind {
	case KindFrom:
		f, err := parseFrom(in)
		if err != nil {
			return nil, err
		}
		in.From = f
	case KindCopy, KindAdd:
		c, err := parseCopy(in)
		if err != nil {
			return nil, err
		}
		in.Copy = c
	case KindEnv, KindLabel:
		in.Pairs = parseKeyValues(node)
	case KindArg:
		for _, w := range in.Args {
			k, v, has := strings.Cut(w, "=")
			in.Pairs = append(in.Pairs, Pair{Key: unquote(k), Value: unquote(v), HasValue: has})
		}
	case KindRun:
		in.Run = &Run{Text: in.Text()}
		for _, f := range in.FlagValues("mount") {
			in.Run.Mounts = append(in.Run.Mounts, parseMount(f))
		}
		in.Run.Network, _ = in.Flag("network")
		in.Run.Security, _ = in.Flag("security")
	}
	return in, nil
}

func parseKeyValues(node *parser.Node) []Pair {
	var out []Pair
	for k := node.Next; k != nil; {
		v := k.Next
		if v == nil {
			out = append(out, Pair{Key: unquote(k.Value)})
			break
		}
		out = append(out, Pair{Key: unquote(k.Value), Value: unquote(v.Value), HasValue: true})
		k = v.Next
		if k != nil { // skip the separator node
			k = k.Next
		}
	}
	return out
}

func parseFrom(in *Instruction) (*From, error) {
	args := in.Args
	switch {
	case len(args) == 1:
	case len(args) == 3 && strings.EqualFold(args[1], "as"):
	default:
		return nil, errors.New("FROM takes an image and an optional AS name")
	}
	f := parseImageRef(args[0])
	if len(args) == 3 {
		f.Alias = args[2]
	}
	f.Platform, _ = in.Flag("platform")
	return f, nil
}

// parseImageRef splits an image reference into registry, name, tag and
// digest without filling in defaults: a reference without a tag keeps an
// empty Tag.
func parseImageRef(ref string) *From {
	f := &From{Ref: ref}
	rest := ref
	if i := strings.Index(rest, "@"); i >= 0 {
		f.Digest = rest[i+1:]
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.Contains(rest[i:], "/") {
		f.Tag = rest[i+1:]
		rest = rest[:i]
	}
	if i := strings.Index(rest, "/"); i >= 0 {
		host := rest[:i]
		if strings.ContainsAny(host, ".:") || host == "localhost" {
			f.Registry = host
			rest = rest[i+1:]
		}
	}
	f.Name = rest
	return f
}

func parseCopy(in *Instruction) (*Copy, error) {
	args := in.Args
	if !in.JSON {
		args = splitQuoted(strings.Join(in.Args, " "))
	}
	if len(args) < 2 {
		return nil, fmt.Errorf("%s needs at least a source and a destination", strings.ToUpper(in.Keyword))
	}
	c := &Copy{Sources: args[:len(args)-1], Dest: args[len(args)-1]}
	c.From, _ = in.Flag("from")
	c.Chown, _ = in.Flag("chown")
	return c, nil
}

func parseMount(spec string) Mount {
	m := Mount{Type: "bind"}
	for _, field := range strings.Split(spec, ",") {
		k, v, _ := strings.Cut(field, "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "type":
			m.Type = v
		case "target", "dst", "destination":
			m.Target = v
		case "from":
			m.From = v
		case "source", "src":
			m.Source = v
		case "id":
			m.ID = v
		}
	}
	return m
}

// splitQuoted splits s on whitespace outside quotes, keeping the quotes.
func splitQuoted(s string) []string {
	var out []string
	var b strings.Builder
	var quote byte
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			b.WriteByte(c)
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
			inWord = true
			b.WriteByte(c)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			if inWord {
				out = append(out, b.String())
				b.Reset()
				inWord = false
			}
		default:
			inWord = true
			b.WriteByte(c)
		}
	}
	if inWord {
		out = append(out, b.String())
	}
	return out
}

// unquote removes shell-style quoting from a Dockerfile word: quote
// characters are dropped and a backslash outside single quotes keeps the
// character after it. Variables are left as written.
func unquote(s string) string {
	if !strings.ContainsAny(s, `"'\`) {
		return s
	}
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				b.WriteByte(c)
			}
		case c == '\\' && i+1 < len(s):
			next := s[i+1]
			if quote == '"' && next != '"' && next != '\\' && next != '$' {
				b.WriteByte(c)
				continue
			}
			b.WriteByte(next)
			i++
		case c == '"':
			if quote == '"' {
				quote = 0
			} else {
				quote = '"'
			}
		case c == '\'' && quote == 0:
			quote = '\''
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// dropQuotes removes every quote character at both ends of s.
func dropQuotes(s string) string {
	return strings.Trim(s, `"'`)
}

// isNonPOSIXShell reports whether a SHELL command line or shell pragma names
// PowerShell or cmd, whose scripts are not shell.
func isNonPOSIXShell(sh string) bool {
	first, _, _ := strings.Cut(strings.TrimSpace(sh), " ")
	if i := strings.LastIndexAny(first, `/\`); i >= 0 {
		first = first[i+1:]
	}
	first = strings.ToLower(first)
	return strings.HasPrefix(first, "pwsh") || strings.HasPrefix(first, "powershell") || strings.HasPrefix(first, "cmd")
}

// parseShells parses every RUN body as shell, unless the shell in effect
// for its stage is PowerShell or cmd. The shell in effect comes from SHELL
// instructions and "# hadolint shell=" pragmas; a stage built FROM an earlier
// stage inherits that stage's shell.
func (p *Parser) parseShells(f *File) {
	type event struct {
		line  int
		in    *Instruction
		shell string // for pragmas
	}
	var events []event
	for _, in := range f.Instructions {
		events = append(events, event{line: in.Line, in: in})
	}
	for _, c := range f.Comments {
		if pr, ok := parsePragma(c.Text); ok && pr.kind == pragmaShell {
			events = append(events, event{line: c.Line, shell: pr.shell})
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].line < events[j].line })

	const defaultShell = "/bin/sh -c"
	fileDefault := defaultShell
	current := fileDefault
	stageShell := map[string]string{}
	stage := ""
	for _, ev := range events {
		if ev.in == nil {
			current, fileDefault = ev.shell, ev.shell
			continue
		}
		in := ev.in
		switch in.Kind {
		case KindFrom:
			if sh, ok := stageShell[in.From.Image()]; ok && in.From.Tag == "" && in.From.Digest == "" {
				current = sh
			} else {
				current = fileDefault
			}
			stage = in.From.StageName()
		case KindShell:
			current = in.Text()
			in.ShellCmd = p.sh.Parse(current)
		}
		for _, x := range []*Instruction{in, in.Inner} {
			if x == nil || x.Kind != KindRun {
				continue
			}
			if isNonPOSIXShell(current) {
				x.Run.Script = &shell.Script{Text: x.Run.Text}
				continue
			}
			x.Run.Script = p.sh.Parse(runScript(x))
		}
		if in.Inner != nil && in.Inner.Kind == KindShell {
			in.Inner.ShellCmd = p.sh.Parse(in.Inner.Text())
		}
		if stage != "" {
			stageShell[stage] = current
		}
	}
}

// runScript returns the shell text a RUN executes, heredocs included.
func runScript(in *Instruction) string {
	text := in.Run.Text
	if len(in.Heredocs) == 0 || in.JSON {
		return text
	}
	trimmed := strings.TrimSpace(text)
	if len(in.Heredocs) == 1 && strings.HasPrefix(trimmed, "<<") && !strings.ContainsAny(trimmed, " \t") {
		// RUN <<EOF: the heredoc is the script itself.
		content := in.Heredocs[0].Content
		if strings.HasPrefix(content, "#!") && !isShShebang(content) {
			return ""
		}
		return content
	}
	var b strings.Builder
	b.WriteString(text)
	b.WriteByte('\n')
	for _, h := range in.Heredocs {
		b.WriteString(h.Content)
		if !strings.HasSuffix(h.Content, "\n") {
			b.WriteByte('\n')
		}
		b.WriteString(h.Name)
		b.WriteByte('\n')
	}
	return b.String()
}

func isShShebang(content string) bool {
	first, _, _ := strings.Cut(content, "\n")
	for _, sh := range []string{"#!/bin/sh", "#!/bin/bash", "#!/usr/bin/env sh", "#!/usr/bin/env bash", "#!/bin/ash", "#!/bin/dash"} {
		if strings.TrimSpace(first) == sh || strings.HasPrefix(first, sh+" ") {
			return true
		}
	}
	return false
}
