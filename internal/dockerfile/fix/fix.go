// Package fix rewrites a Dockerfile into the optimized one that the lint
// rules ask for: consecutive RUNs merged, package-manager caches cleaned in
// the layer that made them, COPY --chown instead of a later chown -R, a
// non-root USER, exec-form CMD and ENTRYPOINT, debug tools dropped (opt-in),
// and the base image reported or replaced.
//
// Fixes edit the source text itself: every instruction no fix touches, and
// the comments, parser directives, pragmas and blank lines around it, stay
// byte for byte as written. Each fix is tied to the rules it resolves (see
// [Rules]); an edit whose result would not parse, or would not run the
// same commands, is not made.
package fix

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
)

// Options choose the fixes.
type Options struct {
	// Rules are the rule IDs whose fixes run; empty means every fix except
	// the opt-in ones (TG103).
	Rules []string
	// Base replaces the image the final stage is built on ("" keeps it).
	Base string
}

// Note is something a fix did or could not do, for the user to read.
type Note struct {
	Rule string
	// Line is the line of the input the note is about, when it has one.
	Line    int
	Message string
}

// Result is a fixed Dockerfile.
type Result struct {
	Output []byte
	// Applied lists the changes made, Notes what was reported but not
	// changed (base-image suggestions, fixes that were not safe to make).
	Applied, Notes []Note
	changed        bool
}

// Changed reports whether the output differs from the input.
func (r *Result) Changed() bool { return r.changed }

// A fixer is one kind of rewrite and the rules it resolves.
type fixer struct {
	name   string
	rules  []string
	optIn  bool
	run    func(x *run, d *doc) []edit
	fixing string // what it does, for the rules list
}

// fixers in the order they run: the base first, since the user a fix
// creates depends on it; merging before hygiene, so a cleanup lands in the
// layer that filled the cache.
func fixers() []fixer {
	return []fixer{
		{name: "base", rules: []string{"DL3006", "DL3007", "TG104"}, run: fixBase,
			fixing: "reports the suggested minimal or tagged base; --base replaces the final image's base"},
		{name: "chown", rules: []string{"TG106"}, run: fixChown,
			fixing: "moves RUN chown -R of copied files into COPY --chown"},
		{name: "user", rules: []string{"TG105"}, run: fixUser,
			fixing: "creates an unprivileged user with the base's own tool and switches to it"},
		{name: "merge", rules: []string{"TG101", "DL3059"}, run: fixMerge,
			fixing: "merges consecutive RUNs, keeping each one's failure semantics"},
		{name: "hygiene", rules: hygieneRules(), run: fixHygiene,
			fixing: "adds -y, --no-install-recommends, --no-cache(-dir) and cleans caches in the same RUN"},
		{name: "debug", rules: []string{"TG103"}, optIn: true, run: fixDebug,
			fixing: "drops debug and network tools from install lines when nothing later uses them (opt-in)"},
		{name: "exec", rules: []string{"DL3025"}, run: fixExecForm,
			fixing: "turns shell-form CMD and ENTRYPOINT without shell syntax into exec form"},
	}
}

// Rule describes the fix of one lint rule.
type Rule struct {
	ID string
	// OptIn fixes run only when asked for with Options.Rules.
	OptIn bool
	// Fix says what the fix does.
	Fix string
}

// Rules lists the rules that have a fix, in ID order.
func Rules() []Rule {
	var out []Rule
	for _, f := range fixers() {
		for _, id := range f.rules {
			out = append(out, Rule{ID: id, OptIn: f.optIn, Fix: f.fixing})
		}
	}
	slices.SortFunc(out, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// run is the state of one Fix call.
type run struct {
	opts     Options
	selected map[string]bool
	parser   *dockerfile.Parser
	applied  []Note
	notes    []Note
	// first is set during the first round, so notes are made once.
	first bool
	// lintedSrc and linted cache the findings of the last text linted:
	// fixers that change nothing leave the next one the same text.
	lintedSrc string
	linted    map[int][]dockerfile.Finding
}

func (x *run) on(ids ...string) bool {
	for _, id := range ids {
		if x.selected[id] {
			return true
		}
	}
	return false
}

func (x *run) apply(rule, format string, args ...any) {
	x.applied = append(x.applied, Note{Rule: rule, Message: fmt.Sprintf(format, args...)})
}

func (x *run) note(rule string, line int, format string, args ...any) {
	if !x.first {
		return
	}
	x.notes = append(x.notes, Note{Rule: rule, Line: line, Message: fmt.Sprintf(format, args...)})
}

// ErrUnknownRule is returned for a rule ID in Options.Rules that has no fix.
var ErrUnknownRule = errors.New("rule has no fix")

// selection turns Options.Rules into the set of rules to fix.
func selection(ids []string) (map[string]bool, error) {
	sel := map[string]bool{}
	known := map[string]bool{}
	for _, r := range Rules() {
		known[r.ID] = true
		if len(ids) == 0 && !r.OptIn {
			sel[r.ID] = true
		}
	}
	for _, id := range ids {
		id = strings.ToUpper(strings.TrimSpace(id))
		if !known[id] {
			return nil, fmt.Errorf("%s: %w (fixable: %s)", id, ErrUnknownRule, fixableList())
		}
		sel[id] = true
	}
	return sel, nil
}

func fixableList() string {
	var ids []string
	for _, r := range Rules() {
		ids = append(ids, r.ID)
	}
	return strings.Join(ids, ", ")
}

// maxRounds bounds the rounds of fixing: a fix can enable another (a RUN
// created for a user merges with the one before it), and rounds go on until
// nothing changes, so that fixing the output again changes nothing.
const maxRounds = 4

// Fix rewrites src (named name in errors). A Dockerfile that does not
// parse is a *dockerfile.ParseError; an unknown rule in opts is
// ErrUnknownRule.
func Fix(name string, src []byte, opts Options) (*Result, error) {
	sel, err := selection(opts.Rules)
	if err != nil {
		return nil, err
	}
	x := &run{opts: opts, selected: sel, parser: dockerfile.NewParser(), first: true}
	bom := []byte(nil)
	if b, ok := strings.CutPrefix(string(src), "\xef\xbb\xbf"); ok {
		bom, src = []byte("\xef\xbb\xbf"), []byte(b)
	}
	if _, err := x.parser.Parse(name, src); err != nil {
		return nil, err
	}
	cur := src
	for range maxRounds {
		next := x.round(name, cur)
		x.first = false
		if string(next) == string(cur) {
			break
		}
		cur = next
	}
	slices.SortStableFunc(x.notes, func(a, b Note) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	out := append(bom, cur...)
	return &Result{Output: out, Applied: x.applied, Notes: x.notes, changed: string(cur) != string(src)}, nil
}

// round runs every selected fixer once, re-parsing after each, and keeps a
// fixer's edits only when the result still parses.
func (x *run) round(name string, src []byte) []byte {
	f, err := x.parser.Parse(name, src)
	if err != nil {
		return src
	}
	d := newDoc(src, f)
	for _, fx := range fixers() {
		if !x.on(fx.rules...) {
			continue
		}
		n := len(x.applied)
		edits := fx.run(x, d)
		if len(edits) == 0 {
			continue
		}
		next := apply(src, edits)
		nf, err := x.parser.Parse(name, next)
		if err != nil {
			x.applied = x.applied[:n]
			continue
		}
		src, d = next, newDoc(next, nf)
	}
	return src
}
