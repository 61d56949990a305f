package fix

import (
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
)

// passThrough are the instructions a merge may step over: they change
// nothing a later RUN sees.
func passThrough(k dockerfile.Kind) bool {
	return k == dockerfile.KindLabel || k == dockerfile.KindExpose || k == dockerfile.KindMaintainer
}

// shellRun is a RUN whose shell text the fixes may edit: shell form, a
// POSIX shell, no pragma above it, text that parses; heredoc is set for a
// RUN <<EOF whose script is the heredoc.
type shellRun struct {
	idx     int
	in      *dockerfile.Instruction
	body    *body
	script  *script
	heredoc bool
}

// shellRunAt returns instruction idx as an editable RUN without heredoc.
func (d *doc) shellRunAt(idx int) (*shellRun, bool) {
	r, ok := d.editableRun(idx)
	if !ok || r.heredoc {
		return nil, false
	}
	return r, true
}

// editableRun returns instruction idx as an editable RUN, a RUN <<EOF
// included: its script stands verbatim on the lines after the RUN line.
func (d *doc) editableRun(idx int) (*shellRun, bool) {
	in := d.file.Instructions[idx]
	if in.Kind != dockerfile.KindRun || in.Run == nil || in.Run.Script == nil || in.Run.Script.Err != nil ||
		d.nonPOSIX() || d.hasPragmaAbove(idx) {
		return nil, false
	}
	var b *body
	heredoc := len(in.Heredocs) > 0
	if heredoc {
		var ok bool
		if b, ok = d.heredocBody(in); !ok {
			return nil, false
		}
	} else {
		var ok bool
		if b, ok = d.bodyOf(in, in.Run.Text); !ok {
			return nil, false
		}
	}
	s, ok := parseScript(b.text)
	if !ok {
		return nil, false
	}
	return &shellRun{idx: idx, in: in, body: b, script: s, heredoc: heredoc}, true
}

// heredocBody maps the script of a "RUN <<EOF" (or a here-document fed
// to a POSIX shell: "RUN <<EOF bash", "RUN sh -e <<EOF"; no tab-stripping
// <<-) to the lines that hold it.
func (d *doc) heredocBody(in *dockerfile.Instruction) (*body, bool) {
	t := strings.TrimSpace(in.Run.Text)
	if len(in.Heredocs) != 1 || in.JSON || strings.Contains(t, "<<-") || !heredocScriptLine(t) || in.Line == in.EndLine {
		return nil, false
	}
	content := in.Heredocs[0].Content
	start := d.lineStart(in.Line + 1)
	if start+len(content) > len(d.src) || string(d.src[start:start+len(content)]) != content {
		return nil, false
	}
	off := make([]int, len(content)+1)
	for i := range off {
		off[i] = start + i
	}
	return &body{text: content, off: off, start: start}, true
}

// heredocScriptLine reports a RUN line whose here-document is the script
// itself: "<<EOF" alone, or with a POSIX shell that reads it from standard
// input ("<<EOF bash", "bash -e <<EOF"), options but no -c and no
// operands — the commands the rules see in it are the ones a fix may edit.
func heredocScriptLine(t string) bool {
	var redir int
	shellSeen := false
	for i, f := range strings.Fields(t) {
		switch {
		case strings.HasPrefix(f, "<<") && len(f) > 2:
			redir++
		case i > 0 && shellSeen && strings.HasPrefix(f, "-") && f != "-c" && !strings.Contains(f, "c"):
			// a shell option (-e, -eux, -x), never -c
		case !shellSeen && slices.Contains([]string{"sh", "bash", "dash", "ash", "/bin/sh", "/bin/bash", "/usr/bin/bash", "/bin/dash", "/bin/ash"}, f):
			shellSeen = true
		default:
			return false
		}
	}
	return redir == 1
}

// nonPOSIX reports a file that switches to PowerShell or cmd anywhere, or
// that uses the backtick escape of Windows Dockerfiles; RUN bodies of such
// files are left alone.
func (d *doc) nonPOSIX() bool { return !d.posix }

func (d *doc) findNonPOSIX() bool {
	if d.esc != '\\' {
		return true
	}
	for _, in := range d.file.Instructions {
		if in.Kind == dockerfile.KindShell && !posixShell(in.Text()) {
			return true
		}
	}
	for _, c := range d.file.Comments {
		t := strings.ToLower(c.Text)
		if strings.Contains(t, "shell=") && !posixShell(t[strings.Index(t, "shell=")+6:]) {
			return true
		}
	}
	return false
}

func posixShell(s string) bool {
	s = strings.ToLower(s)
	return !strings.Contains(s, "pwsh") && !strings.Contains(s, "powershell") && !strings.Contains(s, "cmd")
}

// rawEnd is the source offset where the RUN's shell text ends.
func (r *shellRun) rawEnd() int { return r.body.srcOff(len(r.body.text)) }

// style is how the file continues lines: the indentation of continuation
// lines and whether && starts the continued line or ends the one before.
type style struct {
	indent  string
	leading bool
}

func (d *doc) style() style { return d.sty }

func (d *doc) findStyle() style {
	st := style{indent: "    "}
	found := false
	lead, trail := 0, 0
	for n := 1; n+1 < len(d.lines); n++ {
		l := strings.TrimRight(d.line(n), " \t")
		if l == "" || l[len(l)-1] != d.esc {
			continue
		}
		next := d.line(n + 1)
		t := strings.TrimLeft(next, " \t")
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if !found && len(t) < len(next) {
			st.indent, found = next[:len(next)-len(t)], true
		}
		if strings.HasPrefix(t, "&&") {
			lead++
		}
		if strings.HasSuffix(strings.TrimSpace(l[:len(l)-1]), "&&") {
			trail++
		}
	}
	st.leading = lead > trail
	return st
}

// joinText is what goes between a RUN's text and the next command joined
// to it, comments (lines without their indentation) carried along.
func (d *doc) joinText(st style, comments []string) string {
	var b strings.Builder
	if st.leading {
		b.WriteString(" " + string(d.esc) + d.nl)
	} else {
		b.WriteString(" && " + string(d.esc) + d.nl)
	}
	for _, c := range comments {
		b.WriteString(st.indent + c + d.nl)
	}
	b.WriteString(st.indent)
	if st.leading {
		b.WriteString("&& ")
	}
	return b.String()
}

// fixMerge merges each group of consecutive RUNs (TG101, DL3059).
func fixMerge(x *run, d *doc) []edit {
	ins := d.file.Instructions
	var edits []edit
	var group []int // instruction indices: RUNs and the pass-through ones between them
	var flags string
	flush := func() {
		for len(group) > 0 && ins[group[len(group)-1]].Kind != dockerfile.KindRun {
			group = group[:len(group)-1]
		}
		runs := 0
		for _, i := range group {
			if ins[i].Kind == dockerfile.KindRun {
				runs++
			}
		}
		if runs >= 2 {
			if e, ok := x.mergeGroup(d, group); ok {
				edits = append(edits, e)
			}
		}
		group = nil
	}
	for i, in := range ins {
		switch {
		case in.Kind == dockerfile.KindRun:
			r, ok := d.shellRunAt(i)
			if !ok {
				flush()
				continue
			}
			key := runFlags(r.in)
			if len(group) > 0 && key != flags {
				flush()
			}
			group = append(group, i)
			flags = key
		case passThrough(in.Kind) && len(group) > 0 && !d.hasPragmaAbove(i):
			group = append(group, i)
		default:
			flush()
		}
	}
	flush()
	return edits
}

// runFlags identifies the flags of a RUN: only RUNs with the same flags
// merge.
func runFlags(in *dockerfile.Instruction) string {
	f := slices.Clone(in.Flags)
	slices.Sort(f)
	return strings.Join(f, "\x00")
}

func (x *run) mergeGroup(d *doc, group []int) (edit, bool) {
	ins := d.file.Instructions
	st := d.style()
	var runs []*shellRun
	var others []int
	for _, i := range group {
		if ins[i].Kind != dockerfile.KindRun {
			others = append(others, i)
			continue
		}
		r, ok := d.shellRunAt(i)
		if !ok {
			return edit{}, false
		}
		runs = append(runs, r)
	}
	var b strings.Builder
	var want []string
	for k, r := range runs {
		_, simple := r.script.andChain()
		last := k == len(runs)-1
		open, closing := "", ""
		switch {
		case r.script.stateful() && !last:
			open, closing = "( ", " )"
		case !simple && k > 0:
			open, closing = "{ ", "; }"
		}
		if k == 0 {
			s, _ := d.span(r.in)
			b.Write(d.src[s:r.body.start])
		} else {
			var comments []string
			for _, n := range d.commentsAbove(r.idx) {
				comments = append(comments, strings.TrimLeft(d.line(n), " \t"))
			}
			b.WriteString(d.joinText(st, comments))
		}
		raw := string(d.src[r.body.start:r.rawEnd()])
		if closing == "; }" && (strings.HasSuffix(raw, ";") || strings.HasSuffix(raw, "&")) {
			closing = " }" // the text already ends its last command
		}
		b.WriteString(open + raw + closing)
		for _, c := range r.in.Commands() {
			want = append(want, commandKey(c.Name, c.Args))
		}
	}
	b.WriteString(d.nl)
	for _, i := range others {
		for _, n := range d.commentsAbove(i) {
			b.WriteString(d.line(n) + d.nl)
		}
		b.WriteString(d.text(ins[i]) + d.nl)
	}
	merged := b.String()
	// The merged RUN must parse alone and run exactly the commands of the
	// RUNs it replaces, in order.
	in, ok := x.verifyRun(d, merged)
	if !ok {
		return edit{}, false
	}
	var got []string
	for _, c := range in.Commands() {
		got = append(got, commandKey(c.Name, c.Args))
	}
	if !slices.Equal(got, want) {
		return edit{}, false
	}
	start, _ := d.span(runs[0].in)
	_, end := d.span(runs[len(runs)-1].in)
	var names []string
	for _, r := range runs {
		names = append(names, firstCommand(r.in))
	}
	x.apply("TG101", "merged %d RUN instructions into one (%s)", len(runs), strings.Join(names, "; "))
	return edit{start: start, end: end, text: merged}, true
}

func commandKey(name string, args []string) string {
	return name + "\x00" + strings.Join(args, "\x00")
}

// firstCommand names a RUN by its first command.
func firstCommand(in *dockerfile.Instruction) string {
	cmds := in.Commands()
	if len(cmds) == 0 {
		return "RUN"
	}
	s := cmds[0].Name
	if len(cmds[0].Args) > 0 {
		s += " " + cmds[0].Args[0]
	}
	return s
}

// verifyRun parses text (a RUN and possibly pass-through instructions)
// alone and returns the RUN when it is one shell-form RUN whose shell text
// parses.
func (x *run) verifyRun(d *doc, text string) (*dockerfile.Instruction, bool) {
	f, err := x.parser.Parse("fix", []byte("FROM scratch"+d.nl+text))
	if err != nil || len(f.Instructions) < 2 {
		return nil, false
	}
	in := f.Instructions[1]
	if in.Kind != dockerfile.KindRun || in.Run.Script == nil || in.Run.Script.Err != nil {
		return nil, false
	}
	text = in.Run.Text
	if len(in.Heredocs) == 1 {
		text = in.Heredocs[0].Content
	}
	if _, ok := parseScript(text); !ok {
		return nil, false
	}
	return in, true
}
