package fix

import (
	"path"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
)

// stageFacts follows one stage: the working directory, the COPYs without
// --chown, the directories made by WORKDIR or mkdir, and the users and
// groups RUNs created.
type stageFacts struct {
	workdir string
	copies  []copyRec
	// unknownCopy is set when a COPY's destination cannot be resolved.
	unknownCopy bool
	made        map[string]bool
	users       map[string]bool
}

type copyRec struct {
	idx  int
	dest string
}

func newStageFacts() *stageFacts {
	return &stageFacts{made: map[string]bool{}, users: map[string]bool{}}
}

func (s *stageFacts) resolve(p string) string {
	return dockerfile.ResolvePath(s.workdir, strings.Trim(p, `"'`))
}

func (s *stageFacts) see(idx int, in *dockerfile.Instruction) {
	switch in.Kind {
	case dockerfile.KindWorkdir:
		s.workdir = s.resolve(in.Text())
		if s.workdir != "" {
			s.made[s.workdir] = true
		}
	case dockerfile.KindCopy, dockerfile.KindAdd:
		if in.Copy.Chown != "" {
			return
		}
		d := s.resolve(in.Copy.Dest)
		if d == "" {
			s.unknownCopy = true
			return
		}
		s.copies = append(s.copies, copyRec{idx: idx, dest: d})
	case dockerfile.KindRun:
		for _, c := range in.Commands() {
			switch c.Name {
			case "mkdir":
				for _, a := range c.ArgsNoFlags() {
					p := s.resolve(a)
					for ; p != "" && p != "/"; p = path.Dir(p) {
						s.made[p] = true
						if !c.HasFlag("p", "parents") {
							break
						}
					}
				}
			case "useradd", "adduser", "groupadd", "addgroup":
				if a := c.ArgsNoFlags(); len(a) > 0 {
					s.users[a[len(a)-1]] = true
				}
			}
		}
	}
}

// knownOwner reports whether COPY --chown=owner can resolve the owner at the
// COPY: numeric IDs, users every base has, or users an earlier RUN of the
// stage created.
func (s *stageFacts) knownOwner(owner string) bool {
	for _, part := range strings.Split(owner, ":") {
		numeric := part != "" && strings.Trim(part, "0123456789") == ""
		if !numeric && !s.users[part] && part != "root" && part != "nobody" {
			return false
		}
	}
	return true
}

// fixChown turns COPY followed by RUN chown -R of what it copied into COPY
// --chown (TG106). The chown is dropped, or kept for the directories above
// the copied files only (non-recursive), which are not the COPY's to own.
func fixChown(x *run, d *doc) []edit {
	found := x.findings(d)
	ins := d.file.Instructions
	var edits []edit
	facts := newStageFacts()
	for i, in := range ins {
		if in.Kind == dockerfile.KindFrom {
			facts = newStageFacts()
			continue
		}
		if in.Kind == dockerfile.KindRun && slices.ContainsFunc(found[in.Line], func(f dockerfile.Finding) bool { return f.Rule == "TG106" }) {
			if e, ok := x.chownRun(d, i, facts); ok {
				edits = append(edits, e...)
				// The COPYs now carry --chown; a later chown of the same
				// files must not add it twice.
				facts.copies = nil
			}
		}
		facts.see(i, in)
	}
	return edits
}

func (x *run) chownRun(d *doc, idx int, facts *stageFacts) ([]edit, bool) {
	r, ok := d.shellRunAt(idx)
	if !ok || facts.unknownCopy {
		return nil, false
	}
	chain, ok := r.script.andChain()
	if !ok {
		return nil, false
	}
	k, owner, target := -1, "", ""
	for j, st := range chain {
		c := callOf(r.script, st)
		if c == nil || c.name() != "chown" || len(c.words) != 4 || (c.words[1] != "-R" && c.words[1] != "--recursive") {
			continue
		}
		owner, target = c.words[2], facts.resolve(c.words[3])
		if owner != "" && target != "" && !strings.Contains(owner, "$") {
			k = j
			break
		}
	}
	if k < 0 || !facts.knownOwner(owner) {
		return nil, false
	}
	var copies []copyRec
	for _, c := range facts.copies {
		if c.dest == target || strings.HasPrefix(c.dest, strings.TrimSuffix(target, "/")+"/") {
			copies = append(copies, c)
		}
	}
	if len(copies) == 0 {
		return nil, false
	}
	// The directories from the target down to each destination keep a
	// chown of their own, non-recursive. Above a destination, chown -R
	// may only have seen directories this stage made with mkdir, else it
	// also owned files no COPY brought and the fix is not made.
	var dirs []string
	add := func(p string) {
		if !slices.Contains(dirs, p) {
			dirs = append(dirs, p)
		}
	}
	for _, c := range copies {
		if facts.made[c.dest] {
			add(c.dest)
		}
		if c.dest == target {
			continue
		}
		if !facts.made[c.dest] && !facts.made[path.Dir(c.dest)] {
			return nil, false
		}
		for p := path.Dir(c.dest); ; p = path.Dir(p) {
			add(p)
			if p == target || p == "/" {
				break
			}
		}
	}
	slices.Sort(dirs)

	var edits []edit
	for _, c := range copies {
		cin := d.file.Instructions[c.idx]
		s, _ := d.span(cin)
		line := d.line(cin.Line)
		kw := len(line) - len(strings.TrimLeft(line, " \t")) + len(cin.Keyword)
		edits = append(edits, edit{start: s + kw, end: s + kw, text: " --chown=" + owner})
	}
	st := chain[k]
	start, end := int(st.Pos().Offset()), int(st.End().Offset())
	repl := ""
	switch {
	case len(dirs) > 0:
		repl = "chown " + owner + " " + strings.Join(dirs, " ")
	case len(chain) == 1:
		s, e := d.span(r.in)
		x.apply("TG106", "COPY --chown=%s instead of RUN chown -R %s (RUN dropped)", owner, target)
		return append(edits, edit{start: s, end: e}), true
	case k < len(chain)-1:
		end = int(chain[k+1].Pos().Offset())
	default:
		start = int(chain[k-1].End().Offset())
	}
	s, e := d.span(r.in)
	inner := edit{start: r.body.srcOff(start) - s, end: r.body.srcOff(end) - s, text: repl}
	text := string(apply(d.src[s:e], []edit{inner}))
	in, ok := x.verifyRun(d, text)
	want := len(r.in.Commands())
	if repl == "" {
		want--
	}
	if !ok || len(in.Commands()) != want {
		return nil, false
	}
	x.apply("TG106", "COPY --chown=%s instead of RUN chown -R %s", owner, target)
	return append(edits, edit{start: s, end: e, text: text}), true
}

// callOf returns the call a statement of an && chain runs.
func callOf(s *script, st *syntax.Stmt) *call {
	ce, ok := st.Cmd.(*syntax.CallExpr)
	if !ok {
		return nil
	}
	for i := range s.calls {
		if s.calls[i].expr == ce {
			return &s.calls[i]
		}
	}
	return nil
}
