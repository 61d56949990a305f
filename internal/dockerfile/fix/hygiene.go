package fix

import (
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
)

// hygieneRules are the package-manager rules the hygiene fix resolves.
func hygieneRules() []string {
	return []string{
		"DL3009", "DL3014", "DL3015", "DL3019", "DL3030", "DL3032", "DL3034", "DL3036", "DL3038",
		"DL3040", "DL3042", "DL3060", "TG102",
	}
}

// findings lints the doc with the default configuration (pragmas honoured)
// and returns the findings by line.
func (x *run) findings(d *doc) map[int][]dockerfile.Finding {
	if x.linted != nil && x.lintedSrc == string(d.src) {
		return x.linted
	}
	res := dockerfile.NewLinter(dockerfile.DefaultConfig()).Lint("fix", d.src)
	out := map[int][]dockerfile.Finding{}
	for _, f := range res.Findings {
		out[f.Line] = append(out[f.Line], f)
	}
	x.lintedSrc, x.linted = string(d.src), out
	return out
}

// reported reports whether one of the selected rules found something on the
// line; for TG102 the message must name the cache (what).
func (x *run) reported(fs []dockerfile.Finding, what string, ids ...string) bool {
	for _, f := range fs {
		if !slices.Contains(ids, f.Rule) || !x.on(f.Rule) {
			continue
		}
		if f.Rule != "TG102" || strings.Contains(f.Message, what) {
			return true
		}
	}
	return false
}

// runEdit collects the edits of one RUN's shell text: insertions after
// words and commands appended at its end.
type runEdit struct {
	r       *shellRun
	inserts []edit // in source offsets
	appends []string
	rules   []string
}

func (e *runEdit) insertAfter(c *call, word int, text, rule string) {
	off := e.r.body.srcOff(c.end[word])
	e.inserts = append(e.inserts, edit{start: off, end: off, text: text})
	e.addRule(rule)
}

func (e *runEdit) appendCmd(text, rule string) {
	if !slices.Contains(e.appends, text) {
		e.appends = append(e.appends, text)
	}
	e.addRule(rule)
}

func (e *runEdit) addRule(rule string) {
	if !slices.Contains(e.rules, rule) {
		e.rules = append(e.rules, rule)
	}
}

// build returns the RUN's new source, checked: it must parse as one RUN
// that runs the old commands plus the appended ones.
func (e *runEdit) build(x *run, d *doc) (edit, bool) {
	if len(e.inserts) == 0 && len(e.appends) == 0 {
		return edit{}, false
	}
	s, end := d.span(e.r.in)
	edits := slices.Clone(e.inserts)
	if len(e.appends) > 0 {
		var b strings.Builder
		at := e.r.rawEnd()
		if e.r.heredoc {
			// The heredoc's last command is what fails the build: the
			// cleanup joins it with && on its line.
			stmts := e.r.script.file.Stmts
			if len(stmts) == 0 {
				return edit{}, false
			}
			at = e.r.body.srcOff(int(stmts[len(stmts)-1].End().Offset()))
			for _, a := range e.appends {
				b.WriteString(" && " + a)
			}
		} else {
			for _, a := range e.appends {
				b.WriteString(d.joinText(d.style(), nil) + a)
			}
		}
		edits = append(edits, edit{start: at, end: at, text: b.String()})
	}
	for i := range edits {
		edits[i].start -= s
		edits[i].end -= s
	}
	text := string(apply(d.src[s:end], edits))
	in, ok := x.verifyRun(d, text)
	if !ok {
		return edit{}, false
	}
	added := 0
	for _, a := range e.appends {
		added += strings.Count(a, "&&") + 1
	}
	if len(in.Commands()) != len(e.r.in.Commands())+added {
		return edit{}, false
	}
	return edit{start: s, end: end, text: text}, true
}

func isFlag(w string) bool { return strings.HasPrefix(w, "-") && w != "-" }

// hasShortOrLong reports a flag word spelling the short flag (alone or in a
// cluster like -qy) or one of the long ones.
func hasShortOrLong(c *call, short byte, long ...string) bool {
	for _, w := range c.words[1:] {
		if slices.Contains(long, w) || slices.ContainsFunc(long, func(l string) bool { return strings.HasPrefix(w, l+"=") }) {
			return true
		}
		if short != 0 && isFlag(w) && !strings.HasPrefix(w, "--") && strings.IndexByte(w[1:], short) >= 0 {
			return true
		}
	}
	return false
}

func aptYes(c *call) bool {
	if hasShortOrLong(c, 'y', "--yes", "--assume-yes", "-q=2", "--quiet=2") {
		return true
	}
	q := 0
	for _, w := range c.words[1:] {
		if isFlag(w) && !strings.HasPrefix(w, "--") {
			q += strings.Count(w, "q")
		}
	}
	return q >= 2
}

func aptNoRecommends(c *call) bool {
	return slices.ContainsFunc(c.words[1:], func(w string) bool {
		return w == "--no-install-recommends" || strings.Contains(w, "Install-Recommends")
	})
}

// isPip reports pip, pip3, pip3.12 and python -m pip.
func isPip(c *call) (install int, ok bool) {
	n := c.name()
	switch {
	case n == "pip" || strings.HasPrefix(n, "pip3") || strings.HasPrefix(n, "pip2"):
	case strings.HasPrefix(n, "python"):
		m := c.arg("-m")
		if m < 0 || m+1 >= len(c.words) || c.words[m+1] != "pip" {
			return -1, false
		}
	default:
		return -1, false
	}
	i := c.arg("install")
	return i, i > 0
}

// fixHygiene resolves the package-manager findings of each RUN in the RUN
// itself.
func fixHygiene(x *run, d *doc) []edit {
	found := x.findings(d)
	var edits []edit
	for i, in := range d.file.Instructions {
		if in.Kind != dockerfile.KindRun {
			continue
		}
		fs := found[in.Line]
		if len(fs) == 0 {
			continue
		}
		r, ok := d.editableRun(i)
		if !ok {
			continue
		}
		e := &runEdit{r: r}
		x.hygieneOf(d, e, fs)
		if ed, ok := e.build(x, d); ok {
			edits = append(edits, ed)
			x.apply(strings.Join(e.rules, ","), "package-manager hygiene in RUN %s", firstCommand(in))
		}
	}
	return edits
}

func (x *run) hygieneOf(d *doc, e *runEdit, fs []dockerfile.Finding) {
	calls := e.r.script.calls
	for ci := range calls {
		uc := calls[ci].unwrapped()
		c := &uc
		switch n := c.name(); {
		case n == "apt-get" || n == "apt":
			i := c.arg("install")
			if i < 0 {
				continue
			}
			if n == "apt-get" && !aptYes(c) && x.reported(fs, "", "DL3014") {
				e.insertAfter(c, i, " -y", "DL3014")
			}
			if n == "apt-get" && !aptNoRecommends(c) && x.reported(fs, "", "DL3015") {
				e.insertAfter(c, i, " --no-install-recommends", "DL3015")
			}
		case n == "apk":
			i := c.arg("add", "update", "upgrade")
			if i > 0 && !hasShortOrLong(c, 0, "--no-cache") && x.reported(fs, "apk index", "DL3019", "TG102") {
				e.insertAfter(c, i, " --no-cache", "DL3019")
			}
		case n == "yum" || n == "dnf":
			i := c.arg("install", "groupinstall", "localinstall")
			rule := map[string]string{"yum": "DL3030", "dnf": "DL3038"}[n]
			if i > 0 && !hasShortOrLong(c, 'y', "--assumeyes") && x.reported(fs, "", rule) {
				e.insertAfter(c, i, " -y", rule)
			}
		case n == "zypper":
			if c.arg("install", "in", "remove", "rm", "source-install", "si", "patch") > 0 &&
				!hasShortOrLong(c, 'n', "--non-interactive", "--no-confirm") && !hasShortOrLong(c, 'y') &&
				x.reported(fs, "", "DL3034") {
				e.insertAfter(c, 0, " -n", "DL3034")
			}
		default:
			if i, ok := isPip(c); ok && !hasShortOrLong(c, 0, "--no-cache-dir") && x.reported(fs, "pip cache", "DL3042", "TG102") {
				e.insertAfter(c, i, " --no-cache-dir", "DL3042")
			}
		}
	}
	cleanups := []struct {
		what, cmd string
		rules     []string
	}{
		{"apt lists", "rm -rf /var/lib/apt/lists/*", []string{"DL3009", "TG102"}},
		{"yum cache", "yum clean all && rm -rf /var/cache/yum", []string{"DL3032", "TG102"}},
		{"dnf cache", "dnf clean all", []string{"DL3040", "TG102"}},
		{"microdnf cache", "microdnf clean all", []string{"DL3040", "TG102"}},
		{"zypper cache", "zypper clean --all", []string{"DL3036", "TG102"}},
		{"npm cache", "npm cache clean --force", []string{"TG102"}},
		{"yarn cache", "yarn cache clean", []string{"DL3060", "TG102"}},
	}
	for _, cl := range cleanups {
		if !x.reported(fs, cl.what, cl.rules...) || !x.needsCleanup(e.r, cl.what) {
			continue
		}
		if cl.what == "apt lists" && d.laterAptWithoutUpdate(e.r.idx) {
			x.note("DL3009", 0, "apt lists of RUN %s left in place: a later RUN of the stage installs without apt-get update and needs them", firstCommand(e.r.in))
			continue
		}
		e.appendCmd(cl.cmd, cl.rules[0])
	}
}

// needsCleanup checks the RUN itself for the package manager the cleanup is
// for (DL3009 and TG102 share a line, and so may DL3040 for dnf and
// microdnf).
func (x *run) needsCleanup(r *shellRun, what string) bool {
	pm := strings.Fields(what)[0]
	if pm == "apt" {
		return slices.ContainsFunc(r.script.calls, func(c call) bool {
			c = c.unwrapped()
			return (c.name() == "apt-get" || c.name() == "apt" || c.name() == "aptitude") && c.arg("update") > 0
		})
	}
	return slices.ContainsFunc(r.script.calls, func(c call) bool { u := c.unwrapped(); return u.name() == pm })
}

// laterAptWithoutUpdate reports a RUN after idx, in the same stage, that
// installs with apt without updating the lists first.
func (d *doc) laterAptWithoutUpdate(idx int) bool {
	ins := d.file.Instructions
	for j := idx + 1; j < len(ins) && ins[j].Kind != dockerfile.KindFrom; j++ {
		in := ins[j]
		if in.Kind != dockerfile.KindRun {
			continue
		}
		install, update := false, false
		for _, c := range in.Commands() {
			if c.Name == "apt-get" || c.Name == "apt" || c.Name == "aptitude" {
				install = install || c.HasArg("install", "upgrade", "dist-upgrade", "build-dep")
				update = update || c.HasArg("update")
			}
		}
		if install && !update {
			return true
		}
	}
	return false
}
