package dockerfile

import (
	"errors"
	"slices"
	"strings"
)

// ParseErrorRule is the code reported for a Dockerfile that does not parse
// (hadolint's DL1000).
const ParseErrorRule = "DL1000"

// Finding is one problem found in a Dockerfile.
type Finding struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Rule     string   `json:"code"`
	Severity Severity `json:"level"`
	Message  string   `json:"message"`
}

// Result is the outcome of linting one Dockerfile.
type Result struct {
	File string
	// Findings are sorted by line. A parse error is reported as one
	// finding with Rule ParseErrorRule.
	Findings []Finding
	// ParseError is set when the file does not parse; no rule ran then.
	ParseError *ParseError
}

// Linter checks Dockerfiles against the rules. It is not safe for
// concurrent use; make one per goroutine.
type Linter struct {
	cfg    Config
	rules  []*Rule
	parser *Parser
}

// NewLinter returns a linter for cfg.
func NewLinter(cfg Config) *Linter {
	return &Linter{cfg: cfg, rules: allRules(), parser: NewParser()}
}

// Rules lists every rule tollgate knows, hadolint's first, in ID order;
// DL1000, the parse error, is the first.
func Rules() []*Rule {
	return markFixable(allRules())
}

// Rules lists the rules of the linter (the reports describe them).
func (l *Linter) Rules() []*Rule { return slices.Clone(l.rules) }

// Lint parses and checks one Dockerfile. name is used in findings.
func (l *Linter) Lint(name string, src []byte) Result {
	res := Result{File: name}
	f, err := l.parser.Parse(name, src)
	if err != nil {
		pe, ok := errors.AsType[*ParseError](err)
		if !ok {
			pe = &ParseError{File: name, Line: 1, Msg: err.Error()}
		}
		res.ParseError = pe
		res.Findings = []Finding{{File: name, Line: pe.Line, Column: 1, Rule: ParseErrorRule, Severity: SeverityError, Message: pe.Msg}}
		return res
	}
	res.Findings = l.check(f, false)
	return res
}

// check runs the rules over a parsed file and applies pragmas and
// configuration. With all set it returns every finding of every rule
// before pragmas, overrides and ignores, as hadolint's own rule tests see
// them.
func (l *Linter) check(f *File, all bool) []Finding {
	prag := collectPragmas(f)
	env := &ruleEnv{cfg: &l.cfg, stages: buildStages(f), pragmas: prag}
	onbuildEnv := &ruleEnv{cfg: &l.cfg}
	var inner []*Instruction
	for _, in := range f.Instructions {
		if in.Inner != nil {
			inner = append(inner, in.Inner)
		}
	}

	var out []Finding
	for _, r := range l.rules {
		if !all && !l.wanted(r) {
			continue
		}
		if r.newChecker == nil || !l.cfg.satisfies(r.needs) {
			continue
		}
		rep := &reporter{rule: r}
		c := r.newChecker(env)
		for _, in := range f.Instructions {
			c.check(in, rep)
		}
		c.done(rep)
		if r.OnBuild && len(inner) > 0 {
			c := r.newChecker(onbuildEnv)
			for _, in := range inner {
				c.check(in, rep)
			}
			c.done(rep)
		}
		out = append(out, rep.out...)
	}
	for i := range out {
		out[i].File = f.Name
	}
	if !all {
		out = l.filter(out, prag)
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return a.Line - b.Line })
	return out
}

// wanted reports whether a rule can produce a visible finding under the
// configuration; rules that cannot are not run at all.
func (l *Linter) wanted(r *Rule) bool {
	if slices.Contains(l.cfg.Ignored, r.ID) {
		return false
	}
	return l.cfg.severity(r) != SeverityIgnore
}

// filter applies pragmas, severity overrides and ignores.
func (l *Linter) filter(in []Finding, prag *pragmas) []Finding {
	out := in[:0]
	for _, f := range in {
		if !l.cfg.DisableIgnorePragma && prag.ignores(f.Rule, f.Line) {
			continue
		}
		if sev, ok := l.cfg.override(f.Rule); ok {
			f.Severity = sev
		}
		if f.Severity == SeverityIgnore || slices.Contains(l.cfg.Ignored, f.Rule) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// Failed reports whether a result fails at threshold: a parse error, or a
// finding at or above it.
func (r *Result) Failed(threshold Severity) bool {
	if r.ParseError != nil {
		return true
	}
	for _, f := range r.Findings {
		if f.Severity >= threshold && f.Severity != SeverityIgnore {
			return true
		}
	}
	return false
}

// stageGraph describes the build stages of a file.
type stageGraph struct {
	stages []*stage
	// byName maps a stage alias (as written) to its index.
	byName map[string]int
	// finalChain caches chain().
	finalChain []*stage
	chained    bool
}

type stage struct {
	index  int
	from   *Instruction
	parent int // index of the stage this one is built FROM, or -1
	// body holds the instructions after the FROM up to the next FROM.
	body []*Instruction
}

func buildStages(f *File) *stageGraph {
	g := &stageGraph{byName: map[string]int{}}
	var cur *stage
	for _, in := range f.Instructions {
		if in.Kind == KindFrom {
			parent := -1
			if i, ok := g.byName[in.From.Image()]; ok && in.From.Tag == "" && in.From.Digest == "" {
				parent = i
			}
			cur = &stage{index: len(g.stages), from: in, parent: parent}
			g.stages = append(g.stages, cur)
			if in.From.Alias != "" {
				g.byName[in.From.Alias] = cur.index
			}
			continue
		}
		if cur != nil {
			cur.body = append(cur.body, in)
		}
	}
	return g
}

// final returns the last stage, or nil.
func (g *stageGraph) final() *stage {
	if len(g.stages) == 0 {
		return nil
	}
	return g.stages[len(g.stages)-1]
}

// chain returns the final stage followed by the stages it is built FROM,
// nearest first; nil for a nil graph (the ONBUILD pass).
func (g *stageGraph) chain() []*stage {
	if g == nil {
		return nil
	}
	if g.chained {
		return g.finalChain
	}
	g.chained = true
	var out []*stage
	seen := map[int]bool{}
	for s := g.final(); s != nil && !seen[s.index]; {
		seen[s.index] = true
		out = append(out, s)
		if s.parent < 0 {
			break
		}
		s = g.stages[s.parent]
	}
	g.finalChain = out
	return out
}

// truthyValues are the values hadolint treats as "on" for environment
// switches like PIP_NO_CACHE_DIR.
var truthyValues = []string{"1", "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes", "YES"}

// isTruthy reports whether v switches an environment switch on.
func isTruthy(v string) bool { return slices.Contains(truthyValues, v) }

// setsTruthy reports whether the shell text of a RUN switches the variable
// name on inline ("PIP_NO_CACHE_DIR=1 pip install ...").
func setsTruthy(text, name string) bool {
	for _, v := range truthyValues {
		if strings.Contains(text, name+"="+v) {
			return true
		}
	}
	return false
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func hasAnySuffix(s string, suffixes ...string) bool {
	for _, p := range suffixes {
		if strings.HasSuffix(s, p) {
			return true
		}
	}
	return false
}

func containsAny(s string, subs ...string) bool {
	for _, p := range subs {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
